"""``peluit demo``: the whole system on one machine, on the embedded default.

One process runs the reporter app, the auditor gateway and a workbench (with a demo vault and
the loud NOT AIR-GAPPED switch), each on its own loopback port, with the same HTTP server as
production (cheroot). The data directory holds an ordinary deployment (``peluit.toml``, SQLite,
the store) plus the demo's credentials. When everything listens, ``DIR/demo.json`` is written
with the URLs and credentials, so that scripts can drive the demo; it is removed on exit.

Each component is a ``Part``: adding one is a function that returns (name, WSGI app, port) and,
if it has any, the credentials it adds to demo.json."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PORTS = {"reporter": 8080, "gateway": 8081, "workbench": 8082}
GATEWAY_USER = "auditor"
GATEWAY_CREDENTIALS = "gateway-credentials.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the reporter app, gateway and workbench locally")
    p.add_argument("--data-dir", default=".demo", metavar="DIR",
                   help="where the demo keeps its deployment (default .demo)")
    for part, port in DEFAULT_PORTS.items():
        p.add_argument(f"--{part}-port", type=int, default=port, metavar="PORT",
                       help=f"loopback port of the {part} (default {port}; 0: any free port)")
    p.add_argument("--language", choices=("id", "en"), default="id",
                   help="default language of a new demo deployment")
    p.set_defaults(func=run)


@dataclass
class Part:
    name: str
    app: Callable[..., Any]
    port: int
    max_body: int
    credentials: dict[str, Any] = field(default_factory=dict)


def _fail(message: str) -> int:
    print(f"peluit demo: {message}", file=sys.stderr)
    return 1


def run(args: argparse.Namespace) -> int:
    for name in DEFAULT_PORTS:
        port = getattr(args, f"{name}_port")
        if not 0 <= port <= 65535:
            return _fail(f"--{name}-port must be from 0 to 65535")
    from dropbox_app.auditors import EnrollError
    from dropbox_app.config import ConfigError
    try:
        cfg = prepare_deployment(Path(args.data_dir), args)
        parts = [reporter_part(cfg, args.reporter_port)]
        parts.append(gateway_part(cfg, args.gateway_port))
        parts.append(workbench_part(cfg, args.workbench_port))
    except (ConfigError, EnrollError, OSError) as exc:
        return _fail(str(exc))
    except Exception as exc:  # a part that cannot start: one clear line, no traceback
        return _fail(f"{type(exc).__name__}: {exc}")
    return serve(cfg, parts)


def prepare_deployment(data_dir: Path, args: argparse.Namespace) -> Any:
    """Create the deployment once; later runs reuse it (and its reports)."""
    from dropbox_app.config import CONFIG_NAME, initialise, load
    from dropbox_app.db import upgrade

    data_dir = data_dir.resolve()
    path = data_dir / CONFIG_NAME
    if not path.exists():
        initialise(data_dir, language=args.language)
    cfg = load(path)
    upgrade(cfg.database_url)
    return cfg


def _db(cfg: Any) -> Any:
    from dropbox_app.db import make_engine, session_factory

    return session_factory(make_engine(cfg.database_url))()


def reporter_part(cfg: Any, port: int) -> Part:
    from dropbox_app.app import make_reporter_app

    return Part("reporter", make_reporter_app(cfg), port, cfg.max_upload_bytes + 2 * 1024 * 1024)


def gateway_part(cfg: Any, port: int) -> Part:
    """The gateway, with one auditor account made on the first run (credentials kept in a
    0600 file of the demo directory: for a demonstration only)."""
    from dropbox_app.app import make_gateway_app
    from dropbox_app.clock import Clock
    from dropbox_app.gateway import accounts
    from dropbox_app.gateway.passphrase import PassphraseHasher
    from dropbox_app.store import write_atomically

    creds_path = cfg.base_dir / GATEWAY_CREDENTIALS
    if creds_path.exists():
        creds = json.loads(creds_path.read_text())
    else:
        with _db(cfg) as db, db.begin():
            new = accounts.create(db, PassphraseHasher(), GATEWAY_USER, "auditor", Clock().day(),
                                  cfg.default_language)
        creds = {"username": new.username, "passphrase": new.passphrase,
                 "totp_secret": new.totp_secret, "totp_uri": new.totp_uri}
        write_atomically(creds_path, json.dumps(creds, indent=2).encode(), mode=0o600)
    return Part("gateway", make_gateway_app(cfg), port, 64 * 1024 * 1024, {"gateway_user": creds})


def workbench_part(cfg: Any, port: int) -> Part:
    """A demo vault whose auditor card is enrolled on this server, so reports are sealed to
    it; its UI says NOT AIR-GAPPED on every page."""
    from crypto.identity import ServerKey
    from dropbox_app.auditors import enroll
    from dropbox_app.clock import Clock
    from workbench import demo as wb_demo

    server_card = ServerKey.from_bytes(cfg.server_key_file.read_bytes()).card().to_bytes()
    vault = wb_demo.prepare(cfg.base_dir, server_card, cfg.deployment_id)
    if vault.card is not None:
        with _db(cfg) as db, db.begin():
            enroll(db, vault.card, Clock().day())
    creds = {"workbench_user": {"name": vault.name, "passphrase": vault.passphrase,
                                "vault": str(vault.path)}}
    return Part("workbench", wb_demo.make_app(vault), port, 64 * 1024 * 1024, creds)


def serve(cfg: Any, parts: list[Part]) -> int:
    from dropbox_app.config import Listen
    from dropbox_app.server import make_server
    from dropbox_app.store import write_atomically

    servers = []
    try:
        for part in parts:
            srv = make_server(part.app, Listen("127.0.0.1", part.port), part.max_body)
            srv.prepare()  # binds now: a taken port fails here, before anything is announced
            servers.append((part, srv))
    except OSError as exc:
        for _, srv in servers:
            srv.stop()
        return _fail(f"cannot listen: {exc.strerror or exc}")
    info: dict[str, Any] = {"data_dir": str(cfg.base_dir),
                            "config": str(cfg.base_dir / "peluit.toml")}
    for part, srv in servers:
        info[part.name] = f"http://127.0.0.1:{srv.bind_addr[1]}/"
        info.update(part.credentials)
    threads = [threading.Thread(target=srv.serve, name=part.name, daemon=True)
               for part, srv in servers]
    for t in threads:
        t.start()
    demo_json = cfg.base_dir / "demo.json"
    write_atomically(demo_json, json.dumps(info, indent=2).encode(), mode=0o600)
    for part, _ in servers:
        print(f"{part.name:<10} {info[part.name]}", flush=True)
    print(f"credentials in {demo_json} (demo only; Ctrl-C stops everything)", flush=True)

    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            if not all(t.is_alive() for t in threads):
                return _fail("a server stopped unexpectedly")
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        demo_json.unlink(missing_ok=True)
        for _, srv in servers:
            srv.stop()
    return 0
