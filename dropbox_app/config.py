"""The server's deployment configuration: ``peluit.toml`` (format in docs/engineering.md).

Loading validates everything once, at start-up, so that a wrong setting stops the server with one
clear line instead of surfacing later in a request. Paths are resolved relative to the file's
directory. Listen addresses must be loopback: the apps are reached only through Tor's onion
services, and a public bind would expose them (and the reporters' traffic) to the network."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from crypto.kdf import MIN_MEMORY_KIB, MIN_TIME_COST, SALT_BYTES, Argon2Params
from peluit.ground.clock import DEFAULT_ZONE, Clock, zone_info
from peluit.ground.errors import UserError

CONFIG_NAME = "peluit.toml"
# The Kemenag WBS categories, plus conflict of interest and code-of-ethics breaches (issue 19:
# additions a reporter could otherwise only file under "other").
DEFAULT_CATEGORIES = ("abuse_of_authority", "corruption", "pungli", "gratification",
                      "conflict_of_interest", "discipline", "ethics", "public_service", "other")
KNOWN_CATEGORIES = frozenset(DEFAULT_CATEGORIES)  # the ones with translated labels
DEFAULT_MAX_UPLOAD = 500 * 1024 * 1024


class ConfigError(UserError):
    """The configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Config:
    base_dir: Path
    deployment_id: str
    database_url: str
    store_dir: Path
    salt_file: Path
    server_key_file: Path
    argon2: Argon2Params = field(default_factory=Argon2Params)
    retention_days: int = 30
    default_language: str = "id"
    time_zone: str = DEFAULT_ZONE       # every recorded day is a day in this zone
    reporter_listen: Listen = Listen("127.0.0.1", 8080)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    gateway_listen: Listen = Listen("127.0.0.1", 8081)
    tor_data_dir: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def clock(self) -> Clock:
        """The clock service of this deployment (days in its time zone)."""
        return Clock(self.time_zone)

    def salt(self) -> bytes:
        try:
            data = self.salt_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the salt file {self.salt_file}: "
                              f"{exc.strerror}") from None
        if len(data) < SALT_BYTES:
            raise ConfigError(f"salt file {self.salt_file} is too short")
        return data

    def with_(self, **changes: Any) -> Config:
        return replace(self, **changes)


def parse_listen(value: Any, what: str) -> Listen:
    if not isinstance(value, str) or ":" not in value:
        raise ConfigError(f"{what}: expected \"HOST:PORT\", got {value!r}")
    host, _, port_s = value.rpartition(":")
    host = host.strip("[]")
    try:
        port = int(port_s)
    except ValueError:
        raise ConfigError(f"{what}: bad port {port_s!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{what}: port out of range")
    check_loopback(host, what)
    return Listen(host, port)


def check_loopback(host: str, what: str = "listen") -> None:
    """Refuse anything that is not a loopback address (names other than localhost included:
    a name could resolve to anything)."""
    if host == "localhost":
        return
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{what}: {host!r} is not an IP address; use 127.0.0.1") from None
    if not addr.is_loopback:
        raise ConfigError(f"{what}: {host} is not a loopback address; Peluit listens on "
                          "loopback only and is reached through its onion service")


def _table(doc: dict[str, Any], name: str) -> dict[str, Any]:
    t = doc.get(name, {})
    if not isinstance(t, dict):
        raise ConfigError(f"[{name}] must be a table")
    return t


def _int(t: dict[str, Any], key: str, default: int, lo: int, hi: int, where: str) -> int:
    v = t.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ConfigError(f"{where}.{key} must be an integer from {lo} to {hi}")
    return v


def load(path: str | os.PathLike[str]) -> Config:
    """Read and validate a ``peluit.toml``. Raises ConfigError with a one-line reason."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"no configuration at {path} (create one with `peluit init`)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    return from_dict(doc, path.resolve().parent)


def from_dict(doc: dict[str, Any], base_dir: Path) -> Config:
    server = _table(doc, "server")
    reporter = _table(doc, "reporter")
    gateway = _table(doc, "gateway")
    tor = _table(doc, "tor")

    dep = server.get("deployment_id")
    if not isinstance(dep, str) or len(dep) != 32 or not _is_hex(dep):
        raise ConfigError("server.deployment_id must be 32 hex digits (16 random bytes)")

    def rel(key: str, default: str) -> Path:
        v = server.get(key, default)
        if not isinstance(v, str) or not v:
            raise ConfigError(f"server.{key} must be a path")
        return (base_dir / v).resolve()

    url = server.get("database_url", "sqlite:///peluit.sqlite")
    if not isinstance(url, str) or not url.startswith(("sqlite:", "postgresql")):
        raise ConfigError("server.database_url must be a sqlite:// or postgresql:// URL")
    url = resolve_sqlite_url(url, base_dir)

    a = server.get("argon2", {"t": 3, "m": 65536, "p": 1})
    try:
        argon2 = Argon2Params.from_dict(a)
    except (KeyError, TypeError, ValueError):
        raise ConfigError("server.argon2 must be { t = …, m = …, p = … } within range") from None
    if argon2.time_cost < MIN_TIME_COST or argon2.memory_kib < MIN_MEMORY_KIB:
        raise ConfigError(f"server.argon2 is weaker than the minimum "
                          f"(t >= {MIN_TIME_COST}, m >= {MIN_MEMORY_KIB})")

    lang = server.get("default_language", "id")
    if lang not in ("id", "en"):
        raise ConfigError("server.default_language must be \"id\" or \"en\"")

    zone = server.get("time_zone", DEFAULT_ZONE)
    try:
        zone_info(zone if isinstance(zone, str) else "")
    except ValueError:
        raise ConfigError(f"server.time_zone must be a tz database name such as "
                          f"\"{DEFAULT_ZONE}\"") from None

    cats = reporter.get("categories", list(DEFAULT_CATEGORIES))
    if (not isinstance(cats, list) or not cats
            or not all(isinstance(c, str) and c in KNOWN_CATEGORIES for c in cats)
            or len(set(cats)) != len(cats)):
        raise ConfigError("reporter.categories must be a non-empty list drawn from: "
                          + ", ".join(DEFAULT_CATEGORIES))

    tor_dir = tor.get("data_dir")
    if tor_dir is not None and not isinstance(tor_dir, str):
        raise ConfigError("tor.data_dir must be a path")

    return Config(
        base_dir=base_dir,
        deployment_id=dep.lower(),
        database_url=url,
        store_dir=rel("store_dir", "store"),
        salt_file=rel("salt_file", "secrets/deployment.salt"),
        server_key_file=rel("server_key_file", "secrets/server.key"),
        argon2=argon2,
        retention_days=_int(server, "retention_days", 30, 1, 3650, "server"),
        default_language=lang,
        time_zone=zone,
        reporter_listen=parse_listen(reporter.get("listen", "127.0.0.1:8080"), "reporter.listen"),
        max_upload_bytes=_int(reporter, "max_upload_bytes", DEFAULT_MAX_UPLOAD,
                              1024 * 1024, 64 * 1024 ** 3, "reporter"),
        categories=tuple(cats),
        gateway_listen=parse_listen(gateway.get("listen", "127.0.0.1:8081"), "gateway.listen"),
        tor_data_dir=(base_dir / tor_dir).resolve() if tor_dir else None,
        raw=doc,
    )


def _is_hex(s: str) -> bool:
    try:
        bytes.fromhex(s)
    except ValueError:
        return False
    return True


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """``sqlite:///name.sqlite`` is relative to the configuration's directory."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        return prefix + str((base_dir / url[len(prefix):]).resolve())
    return url


TEMPLATE = """\
# Peluit server configuration (docs/engineering.md). Paths are relative to this file.
[server]
deployment_id = "{deployment_id}"
database_url = "{database_url}"
store_dir = "store"
salt_file = "secrets/deployment.salt"
server_key_file = "secrets/server.key"
argon2 = {{ t = 3, m = 65536, p = 1 }}
retention_days = 30
default_language = "{language}"
time_zone = "{time_zone}"               # the day every record carries, here and on the workbench

[reporter]
listen = "{reporter_listen}"
max_upload_bytes = {max_upload}
categories = [{categories}]

[gateway]
listen = "{gateway_listen}"
"""


def initialise(data_dir: Path, *, reporter_listen: str = "127.0.0.1:8080",
               gateway_listen: str = "127.0.0.1:8081", language: str = "id",
               database_url: str = "sqlite:///peluit.sqlite") -> Path:
    """Create a fresh deployment directory: configuration, random salt, server key, store.
    Refuses to overwrite an existing configuration (its salt is what every codename hangs on)."""
    from crypto.identity import ServerKey
    from peluit.ground.files import write_atomic

    parse_listen(reporter_listen, "reporter listen")
    parse_listen(gateway_listen, "gateway listen")
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg_path = data_dir / CONFIG_NAME
    if cfg_path.exists():
        raise ConfigError(f"{cfg_path} already exists; refusing to overwrite it")
    secrets_dir = data_dir / "secrets"
    secrets_dir.mkdir(mode=0o700, exist_ok=True)
    (data_dir / "store").mkdir(mode=0o700, exist_ok=True)
    salt = secrets_dir / "deployment.salt"
    if not salt.exists():
        write_atomic(salt, secrets.token_bytes(32))
    key = secrets_dir / "server.key"
    if not key.exists():
        write_atomic(key, ServerKey.generate().to_bytes())
    text = TEMPLATE.format(
        deployment_id=secrets.token_hex(16), database_url=database_url, language=language,
        time_zone=DEFAULT_ZONE,
        reporter_listen=reporter_listen, gateway_listen=gateway_listen,
        max_upload=DEFAULT_MAX_UPLOAD,
        categories=", ".join(f'"{c}"' for c in DEFAULT_CATEGORIES))
    write_atomic(cfg_path, text.encode())
    load(cfg_path)  # what we wrote must load
    return cfg_path
