"""Where the two onion services live, their torrc, and what ``peluit tor status`` shows."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from tor import clientauth

REPORTER = "peluit-reporter"
GATEWAY = "peluit-gateway"
# The sealed client (see the torrc template); its name cannot be a valid client name.
SEALED = "_sealed"
DEFAULT_TOR_DIR = Path("/var/lib/tor")
DEFAULT_CONFIG = Path("/etc/peluit/peluit.toml")
DEFAULT_PORTS = {"reporter": 8080, "gateway": 8081}


class ServiceError(ValueError):
    """Bad configuration or missing service directory; the message says what to do."""


@dataclass(frozen=True)
class Layout:
    tor_dir: Path
    reporter_port: int = DEFAULT_PORTS["reporter"]
    gateway_port: int = DEFAULT_PORTS["gateway"]

    @property
    def reporter_dir(self) -> Path:
        return self.tor_dir / REPORTER

    @property
    def gateway_dir(self) -> Path:
        return self.tor_dir / GATEWAY

    @property
    def auth_dir(self) -> Path:
        return self.gateway_dir / "authorized_clients"


def layout_from_config(config: Path | None, tor_dir: Path | None = None) -> Layout:
    """The layout from ``peluit.toml`` ([tor] data_dir, [reporter]/[gateway] listen), with
    ``tor_dir`` taking precedence; defaults when no config file is given or installed."""
    data: dict = {}
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    if config is not None:
        try:
            data = tomllib.loads(Path(config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ServiceError(f"cannot read {config}: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ServiceError(f"{config} is not valid TOML: {exc}") from None
    if tor_dir is None:
        configured = data.get("tor", {}).get("data_dir")
        tor_dir = DEFAULT_TOR_DIR if configured is None else Path(configured)
        if config is not None and not tor_dir.is_absolute():
            tor_dir = Path(config).parent / tor_dir
    ports = {part: _listen_port(data, part) for part in DEFAULT_PORTS}
    return Layout(Path(tor_dir), ports["reporter"], ports["gateway"])


def _listen_port(data: dict, part: str) -> int:
    listen = data.get(part, {}).get("listen")
    if listen is None:
        return DEFAULT_PORTS[part]
    host, _, port = str(listen).rpartition(":")
    if host not in ("127.0.0.1", "localhost", "[::1]") or not port.isdigit():
        raise ServiceError(f"[{part}] listen = {listen!r}: the apps listen on loopback only")
    return int(port)


def render_torrc(layout: Layout, frontend: str | None = None, gateway: bool = True) -> str:
    """The onion services' torrc. ``frontend``: the reporter service is a backend instance of
    that Onionbalance frontend address; ``gateway=False`` leaves the gateway service out (an
    extra reporter backend; the gateway stays one instance)."""
    from jinja2 import Environment, StrictUndefined

    template = resources.files("tor").joinpath("templates/onion-services.torrc.j2").read_text()
    # A torrc is not HTML: escaping would corrupt it. What goes in are our own paths and ports
    # (Layout), never outside input, and tor --verify-config checks the result at install.
    env = Environment(undefined=StrictUndefined, keep_trailing_newline=True,  # nosec B701
                      autoescape=False, trim_blocks=True, lstrip_blocks=True)  # noqa: S701
    return env.from_string(template).render(
        reporter_dir=layout.reporter_dir, gateway_dir=layout.gateway_dir,
        reporter_port=layout.reporter_port, gateway_port=layout.gateway_port,
        frontend=frontend, gateway=gateway)


def setup(layout: Layout, owner: tuple[int, int] | None = None) -> None:
    """Create both service directories (mode 0700, as tor insists) and the gateway's sealed
    client. ``owner`` is tor's (uid, gid), e.g. debian-tor's; defaults to the tor directory's
    owner. Idempotent."""
    if owner is None:
        st = layout.tor_dir.stat()
        owner = (st.st_uid, st.st_gid)
    for path in (layout.reporter_dir, layout.gateway_dir, layout.auth_dir):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
        if (os.stat(path).st_uid, os.stat(path).st_gid) != owner:
            os.chown(path, *owner)
    sealed = layout.auth_dir / f"{SEALED}{clientauth.AUTH_SUFFIX}"
    if not sealed.exists():
        # A public key for which nobody holds the private key.
        key = clientauth.ClientKey.generate("sealed")
        clientauth.write_atomically(sealed, (key.service_line() + "\n").encode("ascii"),
                                    owner_like=layout.auth_dir)


def require_setup(layout: Layout) -> None:
    if not layout.auth_dir.is_dir():
        raise ServiceError(
            f"{layout.auth_dir} does not exist: run `peluit tor setup` (deploy/install.sh does)")
    if not (layout.auth_dir / f"{SEALED}{clientauth.AUTH_SUFFIX}").exists():
        raise ServiceError(
            f"the gateway's sealed client is missing in {layout.auth_dir}: without it the "
            "gateway onion is public when no auditor is enrolled; run `peluit tor setup`")


def onion_address(hs_dir: Path) -> str | None:
    try:
        return (hs_dir / "hostname").read_text().strip() or None
    except OSError:
        return None


@dataclass(frozen=True)
class Status:
    reporter_address: str | None
    gateway_address: str | None
    clients: list[clientauth.AuthorizedClient]
    sealed: bool


def status(layout: Layout) -> Status:
    clients = clientauth.list_clients(layout.auth_dir)
    return Status(
        onion_address(layout.reporter_dir), onion_address(layout.gateway_dir),
        [c for c in clients if c.name != SEALED], any(c.name == SEALED for c in clients))
