"""Facts about a server deployment for the policy controls (policies/controls.py).

``gather(config_path)`` reads what a deployment is made of: its ``peluit.toml`` (read raw, not
through ``config.load``, because a setting the loader would refuse is exactly what a control must
report), the database (read only), the store, the torrc and the systemd units when present. It
returns plain data; judging it is the controls' job. Nothing here prints or returns a secret:
the salt and keys are only compared, and the store's unexpected files are counted, not named
(a readable file name there could itself be a reporter's).

Optional settings a deployment may add to ``peluit.toml`` for the check (all paths relative to
the file): ``[reporter] policy_dir`` (default ``policy``), ``[tor] torrc`` (a path or a list;
default ``/etc/tor/torrc`` and ``/etc/tor/torrc.d/*``), ``[deploy] systemd_dir`` (default
``/etc/systemd/system``) and ``[deploy] log_dirs`` (default ``["/var/log/peluit"]``)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import shutil
import stat
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

from policies.controls import DeploymentFacts, OnionService, Unit

# SHA-256 of salts and server-key seeds known to the world (a demo's fixed values, examples in
# documentation). A deployment using one is no better than a public table.
KNOWN_SECRETS: set[str] = set()
_ENVELOPE = re.compile(r"^[0-9a-f]{32}\.env$")
_ACCESS_LOG_KEYS = re.compile(r"access_?log|log_?requests", re.IGNORECASE)
DEFAULT_TORRC = ("/etc/tor/torrc", "/etc/tor/torrc.d")
DEFAULT_UNIT_DIR = "/etc/systemd/system"
DEFAULT_LOG_DIRS = ("/var/log/peluit",)


class FactsError(ValueError):
    """The configuration cannot be read at all."""


def gather(config_path: Path, *, policy_dir: Path | None = None) -> DeploymentFacts:
    config_path = Path(config_path)
    try:
        with config_path.open("rb") as f:
            doc = tomllib.load(f)
    except OSError as exc:
        raise FactsError(f"cannot read {config_path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FactsError(f"{config_path}: not valid TOML ({exc})") from None
    base = config_path.resolve().parent
    server, reporter = _t(doc, "server"), _t(doc, "reporter")
    gateway, tor, deploy = _t(doc, "gateway"), _t(doc, "tor"), _t(doc, "deploy")

    facts = DeploymentFacts(config_path=str(config_path.resolve()))
    facts.listen = {"reporter": str(reporter.get("listen", "127.0.0.1:8080")),
                    "gateway": str(gateway.get("listen", "127.0.0.1:8081"))}
    a = server.get("argon2", {"t": 3, "m": 65536, "p": 1})
    facts.argon2 = {k: v for k, v in a.items() if k in "tmp"} if isinstance(a, dict) else None
    r = server.get("retention_days", 30)
    facts.retention_days = r if isinstance(r, int) and not isinstance(r, bool) else None
    pd = policy_dir or base / str(reporter.get("policy_dir", "policy"))
    facts.policy_dir = str(pd) if Path(pd).exists() else None
    signers = reporter.get("policy_signers")
    if isinstance(signers, list):
        facts.policy_signers = [str(base / str(x)) for x in signers]

    facts.salt_problems = _salt_problems(base / str(server.get("salt_file",
                                                               "secrets/deployment.salt")))
    facts.key_problems = (_key_problems(base / str(server.get("server_key_file",
                                                               "secrets/server.key")))
                          + _deployment_id_problems(server.get("deployment_id")))
    _gather_db(facts, server.get("database_url", "sqlite:///peluit.sqlite"), base)
    facts.store_envelopes, facts.store_problems = _store(base / str(server.get("store_dir",
                                                                                "store")))
    _gather_tor(facts, tor.get("torrc"), base)
    units = _units(base, deploy.get("systemd_dir"))
    facts.units = units
    log_dirs = [base / d for d in deploy.get("log_dirs", DEFAULT_LOG_DIRS)]
    facts.access_logs = _access_logs(doc, units, log_dirs, base)
    return facts


def _t(doc: dict[str, Any], name: str) -> dict[str, Any]:
    t = doc.get(name, {})
    return t if isinstance(t, dict) else {}


def _weak_bytes(data: bytes) -> str | None:
    if len(set(data)) <= 1:
        return "is one byte repeated"
    if hashlib.sha256(data).hexdigest() in KNOWN_SECRETS:
        return "is a publicly known default"
    if all(32 <= b < 127 for b in data):
        return "is printable text, not random bytes"
    return None


def _mode_problem(path: Path, what: str) -> list[str]:
    mode = stat.S_IMODE(path.stat().st_mode)
    return [f"{what} {path} is readable by others (mode {mode:o})"] if mode & 0o077 else []


def _salt_problems(path: Path) -> list[str] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    problems = _mode_problem(path, "salt file")
    if len(data) < 16:
        problems.append(f"the deployment salt has {len(data)} bytes, fewer than 16")
    weak = _weak_bytes(data)
    if weak:
        problems.append(f"the deployment salt {weak}")
    return problems


def _key_problems(path: Path) -> list[str]:
    from crypto.errors import CryptoError
    from crypto.identity import ServerKey

    try:
        key = ServerKey.from_bytes(path.read_bytes())
    except OSError:
        return [f"the server key {path} cannot be read"]
    except CryptoError:
        return [f"the server key {path} is not a Peluit server key"]
    problems = _mode_problem(path, "server key")
    weak = _weak_bytes(bytes(key.signing))
    if weak:
        problems.append(f"the server key {weak}")
    return problems


def _deployment_id_problems(dep: Any) -> list[str]:
    if not isinstance(dep, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", dep):
        return ["deployment_id is not 32 hex digits"]
    raw = bytes.fromhex(dep)
    weak = _weak_bytes(raw)
    return [f"deployment_id {weak}"] if weak else []


def _gather_db(facts: DeploymentFacts, url: Any, base: Path) -> None:
    """Counts from the server database, read through the models' columns (only those every
    schema version has: a database before migration 0009 has no recipient_group)."""
    from sqlalchemy import case, func, inspect, or_, select
    from sqlalchemy.exc import SQLAlchemyError

    from .config import resolve_sqlite_url
    from .db import make_engine
    from .models import AuditorCard, GatewayUser

    if not isinstance(url, str):
        return
    url = resolve_sqlite_url(url, base)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return  # never create a database just by looking for one
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError):
        return
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            if "auditor_cards" in tables:
                columns = {c["name"] for c in inspect(conn).get_columns("auditor_cards")}
                if "recipient_group" in columns:
                    groups = dict(conn.execute(
                        select(AuditorCard.recipient_group, func.count())
                        .where(AuditorCard.active).group_by(AuditorCard.recipient_group)).all())
                    # KEY-1 counts the auditors: the conflict group reads no other report
                    facts.active_cards = groups.get("inspectorate", 0)
                    facts.conflict_cards = groups.get("conflict", 0)
                    facts.largest_group = max(groups.values(), default=0)
                    # COI-1 compares them with the signed policy's [conflict] members
                    facts.conflict_members = [tuple(r) for r in conn.execute(
                        select(AuditorCard.key_id, AuditorCard.name)
                        .where(AuditorCard.active, AuditorCard.recipient_group == "conflict")
                        .order_by(AuditorCard.key_id)).all()]
                else:
                    facts.active_cards = conn.execute(
                        select(func.count()).select_from(AuditorCard)
                        .where(AuditorCard.active)).scalar_one()
                    facts.conflict_cards = 0
                    facts.conflict_members = []
            if "gateway_users" in tables:
                no_totp = or_(GatewayUser.totp_secret.is_(None), GatewayUser.totp_secret == "")
                total, without = conn.execute(
                    select(func.count(), func.coalesce(func.sum(case((no_totp, 1), else_=0)), 0))
                    .select_from(GatewayUser).where(GatewayUser.active)).one()
                facts.gateway_accounts, facts.gateway_accounts_without_totp = total, without
            if "admin_log" in tables and "admin_log_head" in tables:
                _gather_admin_log(facts, conn)
    except SQLAlchemyError:
        pass
    finally:
        engine.dispose()


def _gather_admin_log(facts: DeploymentFacts, conn: Any) -> None:
    """The whole admin log checked as a chain from entry 1, and against the head row: an entry
    edited, dropped or added after the fact shows (unless whoever did it also rewrote every
    later hash and the head; the workbench's copy catches that, docs/gateway.md)."""
    from sqlalchemy import select

    from policies import auditlog

    from .models.gateway import AdminLogHead, AdminLogRow

    entries, problems = [], []
    for seq, raw, stored in conn.execute(select(AdminLogRow.seq, AdminLogRow.entry,
                                                AdminLogRow.hash).order_by(AdminLogRow.seq)):
        try:
            entry = auditlog.parse_line(bytes(raw), f"admin_log seq {seq}")
        except auditlog.AuditFormatError as exc:
            problems.append(str(exc))
            continue
        if entry.seq != seq:
            problems.append(f"admin_log row {seq} holds entry {entry.seq}")
        entries.append(dataclasses.replace(entry, stored_hash=stored))
    problems += [str(p) for p in auditlog.verify(entries)]
    head = conn.execute(select(AdminLogHead.seq, AdminLogHead.hash)
                        .where(AdminLogHead.id == 1)).first()
    last = (entries[-1].seq, entries[-1].hash) if entries else (0, auditlog.GENESIS)
    if head is None or (head[0], head[1]) != last:
        problems.append(f"the head row says {tuple(head) if head else None}, the log ends at "
                        f"entry {last[0]}")
    facts.admin_log_entries, facts.admin_log_problems = len(entries), problems


def _store(path: Path) -> tuple[int | None, list[str] | None]:
    from crypto.envelope import check_well_formed
    from crypto.errors import CryptoError

    try:
        entries = list(os.scandir(path))
    except OSError:
        return None, None
    count, problems, unexpected = 0, [], 0
    now = time.time()
    for entry in entries:
        if entry.name.startswith(".tmp-") and entry.is_file(follow_symlinks=False):
            if now - entry.stat().st_mtime > 2 * 86400:
                problems.append("a temporary file older than two days was not swept")
            continue
        if not _ENVELOPE.match(entry.name) or not entry.is_file(follow_symlinks=False):
            unexpected += 1
            continue
        if entry.stat().st_size == 0:
            continue  # a free slot of the store's pool (dropbox_app/store.py), not an envelope
        count += 1
        try:
            with open(entry.path, "rb") as f:
                check_well_formed(f, entry.stat().st_size)
        except (OSError, CryptoError) as exc:
            problems.append(f"{entry.name} is not a well-formed envelope ({exc})")
    if unexpected:
        problems.append(f"{unexpected} file(s) in the store are not envelopes "
                        "(names withheld: they could themselves reveal something)")
    return count, problems


def _torrc_files(setting: Any, base: Path) -> list[Path]:
    if setting is None:
        candidates = [Path(p) for p in DEFAULT_TORRC]
    elif isinstance(setting, str):
        candidates = [base / setting]
    elif isinstance(setting, list):
        candidates = [base / str(s) for s in setting]
    else:
        return []
    files: list[Path] = []
    for c in candidates:
        if c.is_dir():
            files += sorted(p for p in c.iterdir() if p.is_file())
        elif c.is_file():
            files.append(c)
    return files


def _gather_tor(facts: DeploymentFacts, setting: Any, base: Path) -> None:
    files = _torrc_files(setting, base)
    if not files:
        return
    facts.torrc = [str(f) for f in files]
    lines: list[tuple[Path, str, str]] = []
    seen: set[Path] = set()

    def read(path: Path, depth: int = 0) -> None:
        if path in seen or depth > 4:
            return
        seen.add(path)
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            return
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            key, _, value = line.partition(" ")
            if key == "%include":
                inc = (path.parent / value.strip())
                for p in (sorted(inc.iterdir()) if inc.is_dir() else [inc]):
                    read(p, depth + 1)
            else:
                lines.append((path, key, value.strip()))

    for f in files:
        read(f)
    current: OnionService | None = None
    socks: list[str] = []
    for _path, key, value in lines:
        k = key.lower()
        if k == "hiddenservicedir":
            current = OnionService(value, [], False, _auth_clients(Path(value)))
            facts.onion_services.append(current)
        elif k == "hiddenserviceport" and current is not None:
            parts = value.split()
            target = parts[1] if len(parts) > 1 else parts[0]
            current.targets.append(target if ":" in target else f"127.0.0.1:{target}")
        elif k == "hiddenservicepowdefensesenabled" and current is not None:
            current.pow_defenses = value == "1"
        elif k == "socksport":
            socks.append(value.split()[0] if value else "")
        elif k == "safelogging":
            facts.tor_safe_logging = value == "1"
    # Tor opens SOCKS on 9050 unless told "SocksPort 0".
    facts.tor_socks_ports = socks or ["9050 (tor's default)"]


def _auth_clients(directory: Path) -> int | None:
    try:
        return sum(1 for p in (directory / "authorized_clients").iterdir()
                   if p.suffix == ".auth")
    except FileNotFoundError:
        return 0
    except OSError:
        return None


def _units(base: Path, setting: Any) -> list[Unit] | None:
    directory = base / str(setting) if setting else Path(DEFAULT_UNIT_DIR)
    try:
        paths = sorted(directory.glob("peluit*.service"))
    except OSError:
        return None
    if not paths:
        return [] if setting else None
    units = []
    for p in paths:
        try:
            text = p.read_text("utf-8", errors="replace")
        except OSError:
            continue
        settings: dict[str, str] = {}
        section = ""
        for raw in text.splitlines():
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif section == "Service" and "=" in line and not line.startswith(("#", ";")):
                k, _, v = line.partition("=")
                settings[k.strip()] = v.strip()
        units.append(Unit(p.name, str(p), settings, _exposure(p)))
    return units


def _exposure(path: Path) -> float | None:
    """systemd's own score of the unit, when systemd-analyze can give one offline."""
    try:
        return _exposure_of(path.read_bytes(), path.name)
    except OSError:
        return None


@functools.lru_cache(maxsize=64)
def _exposure_of(content: bytes, name: str) -> float | None:
    # Offline scoring depends on the unit's text alone, so one run per distinct content.
    import tempfile

    exe = shutil.which("systemd-analyze")
    if exe is None:
        return None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            unit = Path(tmp) / name
            unit.write_bytes(content)
            proc = subprocess.run(  # noqa: S603 - fixed program, our own file, no shell
                [exe, "security", "--offline=true", "--no-pager", str(unit)],
                capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout + proc.stderr)
    return float(m.group(1)) if m else None


def _access_logs(doc: dict[str, Any], units: list[Unit] | None, log_dirs: list[Path],
                 base: Path) -> list[str]:
    found = []

    def walk(obj: Any, where: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if _ACCESS_LOG_KEYS.search(str(k)) and v not in (False, "", None, 0, "off"):
                    found.append(f"peluit.toml sets {where}{k} = {v!r}")
                walk(v, f"{where}{k}.")

    walk(doc, "")
    for u in units or []:
        for key in ("StandardOutput", "StandardError"):
            v = u.settings.get(key, "")
            if v.startswith(("file:", "append:", "truncate:")):
                found.append(f"{u.name}: {key}={v} writes the app's output to a file")
        if _ACCESS_LOG_KEYS.search(u.settings.get("ExecStart", "")):
            found.append(f"{u.name}: ExecStart asks for an access log")
    # The deployment directory itself (not the store: it may hold a million envelopes) and
    # the log directories.
    for d, pattern in [*((d, "**/*") for d in log_dirs), (base, "*")]:
        try:
            names = [p for p in d.glob(pattern) if "access" in p.name.lower() and p.is_file()]
        except OSError:
            continue
        found += [f"an access log file exists: {p}" for p in names[:10]]
    return found
