"""`peluit` sub-commands of dropbox_app (see peluit/cli.py for the convention):
``init``, ``serve``, ``db``, ``auditor``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "/etc/peluit/peluit.toml"


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="PATH",
                   help=f"peluit.toml (default: $PELUIT_CONFIG or {DEFAULT_CONFIG})")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create a server deployment directory")
    p.add_argument("--data-dir", required=True, metavar="DIR")
    p.add_argument("--reporter-listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    p.add_argument("--gateway-listen", default="127.0.0.1:8081", metavar="HOST:PORT")
    p.add_argument("--language", choices=("id", "en"), default="id")
    p.add_argument("--database-url", default="sqlite:///peluit.sqlite")
    p.set_defaults(func=_guard(cmd_init))

    p = subparsers.add_parser("serve", help="run the reporter app or the gateway on loopback")
    p.add_argument("app", choices=("reporter", "gateway"))
    _config_arg(p)
    p.set_defaults(func=_guard(cmd_serve))

    db = subparsers.add_parser("db", help="server database")
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dsub.add_parser("upgrade", help="apply the migrations")
    _config_arg(p)
    p.set_defaults(func=_guard(cmd_db_upgrade))
    p = dsub.add_parser("current", help="show the database's migration revision")
    _config_arg(p)
    p.set_defaults(func=_guard(cmd_db_current))

    au = subparsers.add_parser("auditor", help="enrolled auditor cards")
    asub = au.add_subparsers(dest="auditor_command", metavar="ACTION", required=True)
    p = asub.add_parser("enroll", help="enroll an auditor card (prints its fingerprint)")
    p.add_argument("card", metavar="CARD", help="the card file the auditor exported")
    _config_arg(p)
    p.set_defaults(func=_guard(cmd_auditor_enroll))
    p = asub.add_parser("list", help="list enrolled cards")
    _config_arg(p)
    p.set_defaults(func=_guard(cmd_auditor_list))
    for action, active in (("disable", False), ("enable", True)):
        p = asub.add_parser(action, help=f"{action} a card (new submissions are "
                                         f"{'not ' if not active else ''}sealed to it)")
        p.add_argument("key_id", metavar="KEY_ID")
        _config_arg(p)
        p.set_defaults(func=_guard(cmd_auditor_set), active=active)

    # gateway-user, server-key, retention
    from .gateway.cli import register as register_gateway

    register_gateway(subparsers)

    # backup, restore (dropbox_app/backup.py)
    from .backup import register as register_backup

    register_backup(subparsers)


class UserError(Exception):
    pass


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One clear line on stderr and exit code 1 for anything the user can fix."""

    def run(args: argparse.Namespace) -> int:
        from .auditors import EnrollError
        from .config import ConfigError

        try:
            return func(args)
        except (UserError, ConfigError, EnrollError) as exc:
            print(f"peluit: {exc}", file=sys.stderr)
            return 1

    return run


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("PELUIT_CONFIG") or DEFAULT_CONFIG)


def load_config(args: argparse.Namespace) -> Any:
    from .config import load

    return load(config_path(args))


def _check_db(cfg: Any) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from .db import current_revision, head_revision

    try:
        current = current_revision(cfg.database_url)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot open the database: {type(exc).__name__}") from None
    if current != head_revision():
        raise UserError("the database is not up to date; run `peluit db upgrade` first")


def cmd_init(args: argparse.Namespace) -> int:
    from .config import initialise, load
    from .db import upgrade

    path = initialise(Path(args.data_dir), reporter_listen=args.reporter_listen,
                      gateway_listen=args.gateway_listen, language=args.language,
                      database_url=args.database_url)
    upgrade(load(path).database_url)
    print(f"created {path}")
    print("next: enroll an auditor card with `peluit auditor enroll CARD --config "
          f"{path}`, then `peluit serve reporter --config {path}`")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from .db import current_revision, upgrade

    cfg = load_config(args)
    try:
        upgrade(cfg.database_url)
        print(f"database at revision {current_revision(cfg.database_url)}")
    except SQLAlchemyError as exc:
        raise UserError(f"cannot upgrade the database: {type(exc).__name__}") from None
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from .db import current_revision, head_revision

    cfg = load_config(args)
    print(f"current: {current_revision(cfg.database_url) or 'none'}; head: {head_revision()}")
    return 0


def _session(cfg: Any) -> Any:
    from .db import make_engine, session_factory

    return session_factory(make_engine(cfg.database_url))()


def cmd_auditor_enroll(args: argparse.Namespace) -> int:

    from .auditors import enroll
    from .gateway.adminlog import SHELL

    cfg = load_config(args)
    _check_db(cfg)
    try:
        data = Path(args.card).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.card}: {exc.strerror}") from None
    with _session(cfg) as db, db.begin():
        result = enroll(db, data, cfg.clock().day(), actor=SHELL)
    state = "already enrolled (active)" if result.already else "enrolled"
    print(f"{state}: {result.name}")
    print(f"key id:      {result.key_id}")
    print(f"fingerprint: {result.fingerprint}")
    print("Compare the fingerprint with the auditor, by voice, before relying on this card.")
    return 0


def cmd_auditor_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .models import AuditorCard

    cfg = load_config(args)
    _check_db(cfg)
    with _session(cfg) as db:
        rows = db.scalars(select(AuditorCard).order_by(AuditorCard.enrolled_day,
                                                       AuditorCard.name)).all()
    if not rows:
        print("no auditor card enrolled: the reporter app refuses submissions until one is")
    for r in rows:
        print(f"{r.key_id}  {'active  ' if r.active else 'disabled'}  {r.enrolled_day}  "
              f"{r.fingerprint}  {r.name}")
    return 0


def cmd_auditor_set(args: argparse.Namespace) -> int:

    from .auditors import set_active
    from .gateway.adminlog import SHELL

    cfg = load_config(args)
    _check_db(cfg)
    with _session(cfg) as db, db.begin():
        row = set_active(db, args.key_id, args.active, actor=SHELL, day=cfg.clock().day())
        name = row.name
    print(f"{'enabled' if args.active else 'disabled'}: {name}")
    return 0


def sweep_store(cfg: Any) -> int:
    """Remove temporary files of dead writers and envelopes no row refers to."""
    from sqlalchemy import select

    from .models import Reply, Submission
    from .store import Store

    store = Store(cfg.store_dir)
    store.ensure()
    with _session(cfg) as db:
        known = set(db.scalars(select(Submission.member))) | set(db.scalars(select(Reply.member)))
    return store.sweep(known)


def cmd_serve(args: argparse.Namespace) -> int:
    from . import app as apps
    from .server import serve_forever

    cfg = load_config(args)
    _check_db(cfg)
    removed = sweep_store(cfg)
    if removed:
        print(f"removed {removed} file(s) left in the store by an interrupted upload",
              flush=True)
    if args.app == "reporter":
        wsgi, listen = apps.make_reporter_app(cfg), cfg.reporter_listen
    else:
        wsgi, listen = apps.make_gateway_app(cfg), cfg.gateway_listen
    try:
        srv = apps.make_http_server(cfg, args.app, wsgi)
        serve_forever(srv, ready=lambda url: print(f"peluit {args.app} listening on {url}",
                                                   flush=True))
    except OSError as exc:
        raise UserError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return 0
