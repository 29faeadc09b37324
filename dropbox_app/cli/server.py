"""``peluit init``, ``serve``, ``db`` and ``auditor``: the server's own commands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from peluit.ground.errors import UserError

from .common import check_db, command, group, load_config, session


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create a server deployment directory")
    p.add_argument("--data-dir", required=True, metavar="DIR")
    p.add_argument("--reporter-listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    p.add_argument("--gateway-listen", default="127.0.0.1:8081", metavar="HOST:PORT")
    p.add_argument("--language", choices=("id", "en"), default="id")
    p.add_argument("--database-url", default="sqlite:///peluit.sqlite")
    p.set_defaults(func=cmd_init)

    command(subparsers, "serve", cmd_serve, "run the reporter app or the gateway on loopback",
            ("app", {"choices": ("reporter", "gateway")}))

    dsub = group(subparsers, "db", "server database")
    command(dsub, "upgrade", cmd_db_upgrade, "apply the migrations")
    command(dsub, "current", cmd_db_current, "show the database's migration revision")

    asub = group(subparsers, "auditor", "enrolled auditor cards")
    command(asub, "enroll", cmd_auditor_enroll, "enroll an auditor card (prints its fingerprint)",
            ("card", {"metavar": "CARD", "help": "the card file the auditor exported"}),
            ("--group", {"choices": ("inspectorate", "conflict"), "default": "inspectorate",
                         "help": "inspectorate: the auditors (default); conflict: the group "
                                 "that alone reads reports about the inspectorate itself (a "
                                 "card is sealed to only once the signed policy's [conflict] "
                                 "section names it)"}))
    command(asub, "list", cmd_auditor_list, "list enrolled cards")
    for action, active in (("disable", False), ("enable", True)):
        command(asub, action, cmd_auditor_set,
                f"{action} a card (new submissions are {'not ' if not active else ''}sealed to "
                "it)", ("key_id", {"metavar": "KEY_ID"}), active=active)


def cmd_init(args: argparse.Namespace) -> int:
    from ..config import initialise, load
    from ..db import upgrade

    path = initialise(Path(args.data_dir), reporter_listen=args.reporter_listen,
                      gateway_listen=args.gateway_listen, language=args.language,
                      database_url=args.database_url)
    cfg = load(path)
    upgrade(cfg.database_url, config=cfg)
    print(f"created {path}")
    print("next: enroll an auditor card with `peluit auditor enroll CARD --config "
          f"{path}`, then `peluit serve reporter --config {path}`")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from ..db import current_revision, upgrade

    cfg = load_config(args)
    try:
        upgrade(cfg.database_url, config=cfg)
        print(f"database at revision {current_revision(cfg.database_url)}")
    except SQLAlchemyError as exc:
        raise UserError(f"cannot upgrade the database: {type(exc).__name__}") from None
    return 0


def cmd_db_current(args: argparse.Namespace) -> int:
    from ..db import current_revision, head_revision

    cfg = load_config(args)
    print(f"current: {current_revision(cfg.database_url) or 'none'}; head: {head_revision()}")
    return 0


def cmd_auditor_enroll(args: argparse.Namespace) -> int:

    from ..auditors import enroll
    from ..gateway.adminlog import SHELL

    cfg = load_config(args)
    check_db(cfg)
    try:
        data = Path(args.card).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.card}: {exc.strerror}") from None
    with session(cfg) as db, db.begin():
        result = enroll(db, data, cfg.clock().day(), actor=SHELL, group=args.group)
    state = "already enrolled (active)" if result.already else "enrolled"
    print(f"{state}: {result.name} ({args.group} group)")
    print(f"key id:      {result.key_id}")
    print(f"fingerprint: {result.fingerprint}")
    print("Compare the fingerprint with the auditor, by voice, before relying on this card.")
    if args.group == "conflict":
        from policies.documents import LandingPolicy

        # Only members named by the signed policy read reports about the inspectorate
        # (dropbox_app/auditors.py, Pinned): say so at once rather than at the next check.
        pinned = LandingPolicy.for_deployment(cfg.base_dir, cfg.raw).conflict(cfg.clock().today())
        if result.key_id not in (pinned or ()):
            print("NOT named in the signed protection policy's [conflict] section: no report is "
                  "sealed to this card until the compliance officer names it there and signs "
                  "(peluit policy check, control COI-1).")
    return 0


def cmd_auditor_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ..models import AuditorCard

    cfg = load_config(args)
    check_db(cfg)
    with session(cfg) as db:
        rows = db.scalars(select(AuditorCard).order_by(AuditorCard.enrolled_day,
                                                       AuditorCard.name)).all()
    if not rows:
        print("no auditor card enrolled: the reporter app refuses submissions until one is")
    for r in rows:
        print(f"{r.key_id}  {'active  ' if r.active else 'disabled'}  {r.recipient_group:<12}  "
              f"{r.enrolled_day}  {r.fingerprint}  {r.name}")
    return 0


def cmd_auditor_set(args: argparse.Namespace) -> int:

    from ..auditors import set_active
    from ..gateway.adminlog import SHELL

    cfg = load_config(args)
    check_db(cfg)
    with session(cfg) as db, db.begin():
        row = set_active(db, args.key_id, args.active, actor=SHELL, day=cfg.clock().day())
        name = row.name
    print(f"{'enabled' if args.active else 'disabled'}: {name}")
    return 0


def sweep_store(cfg: Any) -> int:
    """Wipe envelopes no committed row refers to (a crash left them), refill the store's pool of
    free slots, and cover the store's times (dropbox_app/store.py)."""
    from ..cover import known_members
    from ..store import Store

    store = Store(cfg.store_dir)
    store.ensure()

    def known() -> set[str]:
        with session(cfg) as db:
            return known_members(db)

    removed = store.sweep(known)
    store.refill()
    import datetime as dt

    store.cover(dt.datetime.now(dt.UTC).date())
    return removed


def cmd_serve(args: argparse.Namespace) -> int:
    from .. import app as apps
    from ..server import serve_forever

    cfg = load_config(args)
    check_db(cfg)
    removed = sweep_store(cfg)
    if removed:
        print(f"removed {removed} file(s) left in the store by an interrupted upload",
              flush=True)
    if args.app == "reporter":
        wsgi, listen = apps.make_reporter_app(cfg, cover=True), cfg.reporter_listen
    else:
        wsgi, listen = apps.make_gateway_app(cfg, cover=True), cfg.gateway_listen
    try:
        srv = apps.make_http_server(cfg, args.app, wsgi)
        serve_forever(srv, ready=lambda url: print(f"peluit {args.app} listening on {url}",
                                                   flush=True))
    except OSError as exc:
        raise UserError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    return 0
