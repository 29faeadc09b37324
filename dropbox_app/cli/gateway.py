"""``peluit gateway-user``, ``peluit server-key`` and ``peluit retention``: the gateway's
commands for the server shell."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from .common import command, group, load_config, open_db


def register(subparsers: argparse._SubParsersAction) -> None:
    name = ("username", {"metavar": "NAME"})
    gsub = group(subparsers, "gateway-user", "auditor gateway accounts")
    command(gsub, "add", cmd_user_add, "create an account (prints passphrase and TOTP secret once)",
            name, ("--role", {"choices": ("auditor", "admin"), "default": "auditor"}))
    command(gsub, "list", cmd_user_list, "list accounts")
    for action, text in (("disable", "disable an account and end its sessions"),
                         ("enable", "enable an account again"),
                         ("unlock", "clear the failed sign-ins and the delay they started"),
                         ("reset", "new passphrase and TOTP secret (prints them once)")):
        command(gsub, action, cmd_user_change, text, name, action=action)

    ssub = group(subparsers, "server-key", "the server's bundle signing key")
    command(ssub, "show", cmd_key_show, "print the server card that workbenches pin")
    command(ssub, "rotate", cmd_key_rotate, "make a new key; inbox bundles announce it until a "
                                            "workbench's reply bundle confirms it")
    command(ssub, "announce", cmd_key_announce,
            "write an inbox bundle, signed by the current key, that announces the waiting new "
            "key again (no submissions; for a workbench that missed it)",
            ("out", {"type": Path, "help": "where to write the bundle (must not exist)"}))

    rsub = group(subparsers, "retention", "delete what the workbench acknowledged")
    command(rsub, "run", cmd_retention_run,
            "delete acknowledged submissions past the retention period")


def _print_account(new: Any) -> None:
    print(f"user:        {new.username} ({new.role})")
    print(f"passphrase:  {new.passphrase}")
    print(f"TOTP secret: {new.totp_secret}")
    print(f"TOTP link:   {new.totp_uri}")
    print("Shown once: give them to the person directly. The server keeps only a hash of the "
          "passphrase.")


def cmd_user_add(args: argparse.Namespace) -> int:

    from ..gateway import accounts, adminlog, totpseal
    from ..gateway.passphrase import PassphraseHasher

    cfg, (engine, factory) = open_db(args)
    with factory() as db, db.begin():
        new = accounts.create(db, PassphraseHasher(), args.username, args.role, cfg.clock().day(),
                              cfg.default_language, actor=adminlog.SHELL,
                              totp_key=totpseal.key_for(cfg))
    engine.dispose()
    _print_account(new)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from ..gateway import accounts

    _cfg, (engine, factory) = open_db(args)
    with factory() as db:
        users = accounts.all_users(db)
        if not users:
            print("no gateway accounts; create an admin with `peluit gateway-user add NAME "
                  "--role admin`")
        for u in users:
            state = "active" if u.active else "disabled"
            extra = f"  {u.failures} failed sign-ins" if u.failures else ""
            print(f"{u.username:<32} {u.role:<8} {state:<8} {u.created_day}{extra}")
    engine.dispose()
    return 0


def cmd_user_change(args: argparse.Namespace) -> int:

    from ..gateway import accounts, adminlog, sessions, totpseal
    from ..gateway.passphrase import PassphraseHasher

    cfg, (engine, factory) = open_db(args)
    new = None
    who = {"actor": adminlog.SHELL, "day": cfg.clock().day()}
    with factory() as db, db.begin():
        if args.action == "reset":
            new = accounts.reset_credentials(db, PassphraseHasher(), args.username,
                                             cfg.default_language, **who,
                                             totp_key=totpseal.key_for(cfg))
            sessions.end_all_for(db, accounts.find(db, args.username).id)
        elif args.action == "unlock":
            accounts.unlock(db, args.username, **who)
        else:
            user = accounts.set_active(db, args.username, args.action == "enable", **who)
            if args.action == "disable":
                sessions.end_all_for(db, user.id)
    engine.dispose()
    if new is not None:
        _print_account(new)
    else:
        print(f"{args.action}d: {args.username}" if args.action != "unlock"
              else f"unlocked: {args.username}")
    return 0


def cmd_key_show(args: argparse.Namespace) -> int:
    from ..gateway import serverkey

    cfg = load_config(args)
    card = serverkey.load(cfg.server_key_file).card()
    # The card alone on stdout (`> server.card` gives the file `workbench init` pins); what a
    # person compares aloud on stderr.
    print(card.to_bytes().decode())
    print(f"fingerprint:   {card.fingerprint}", file=sys.stderr)
    print(f"deployment id: {cfg.deployment_id}", file=sys.stderr)
    return 0


def cmd_key_rotate(args: argparse.Namespace) -> int:

    from ..gateway import adminlog, serverkey

    cfg, (engine, factory) = open_db(args)
    with factory() as db, db.begin():
        new = serverkey.rotate(db, cfg.server_key_file, cfg.clock().day(), actor=adminlog.SHELL)
    engine.dispose()
    print(f"new server key {new.key_id}, fingerprint {new.card().fingerprint}")
    print("Inbox bundles, signed by the current key, announce it to the workbench until a "
          "reply bundle from the workbench confirms it; then it takes over.")
    return 0


def cmd_key_announce(args: argparse.Namespace) -> int:
    from crypto.bundle import write_bundle
    from peluit.ground.files import write_atomic

    from ..gateway import adminlog, serverkey

    cfg, (engine, factory) = open_db(args)
    try:
        if args.out.exists():
            raise serverkey.ServerKeyError(f"{args.out} exists; give a new file name")
        with factory() as db, db.begin():
            manifest, signer = serverkey.announcement(
                db, cfg.server_key_file, cfg.deployment_id, cfg.clock().today(),
                actor=adminlog.SHELL)
            out = io.BytesIO()
            write_bundle(out, manifest, signer.signing, lambda name: io.BytesIO())
            write_atomic(args.out, out.getvalue())
    finally:
        engine.dispose()
    print(f"announcement of the new server key written to {args.out} (inbox bundle "
          f"{manifest.seq} of key {signer.key_id}); import it on the workbench, then carry "
          "the workbench's next reply bundle back: that confirms the new key")
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:

    from ..gateway import adminlog, retention

    cfg, (engine, factory) = open_db(args)
    with factory() as db, db.begin():
        result = retention.run(db, cfg.store_dir, cfg.clock().today(), cfg.retention_days,
                               actor=adminlog.SHELL)
    retention.compact(engine)
    engine.dispose()
    # The daily run is also the store's fixed moment: orphans wiped, the pool of free slots
    # refilled, every time covered (dropbox_app/store.py).
    from .server import sweep_store

    sweep_store(cfg)
    print(f"deleted {result.deleted} submissions ({result.bytes} bytes) acknowledged more than "
          f"{cfg.retention_days} days ago")
    return 0
