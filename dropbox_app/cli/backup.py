"""``peluit backup OUT`` / ``peluit restore IN`` (the logic is dropbox_app/backup.py)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from .common import config_path

PASSPHRASE_ENV = "PELUIT_BACKUP_PASSPHRASE"  # noqa: S105 - a variable name


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("backup", help="write a consistent backup of the server")
    p.add_argument("out", metavar="OUT", help="the backup file to create (must not exist)")
    p.add_argument("--config", metavar="PATH", help="peluit.toml")
    p.add_argument("--passphrase-file", metavar="FILE",
                   help=f"passphrase for the sealed secrets (else ${PASSPHRASE_ENV} or a prompt)")
    p.add_argument("--without-secrets", action="store_true",
                   help="leave out the salt and the keys (the backup cannot rebuild the server)")
    p.set_defaults(func=cmd_backup)

    p = subparsers.add_parser("restore", help="restore a backup made by `peluit backup`")
    p.add_argument("backup", metavar="IN")
    p.add_argument("--config", metavar="PATH",
                   help="where the restored peluit.toml goes; paths in it are then relative "
                        "to that directory")
    p.add_argument("--passphrase-file", metavar="FILE")
    p.add_argument("--force", action="store_true",
                   help="replace an existing configuration, database and secrets")
    p.set_defaults(func=cmd_restore)


def _passphrase(args: argparse.Namespace, confirm: bool) -> str:
    from ..backup import BackupError

    if args.passphrase_file:
        try:
            text = Path(args.passphrase_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise BackupError(f"cannot read {args.passphrase_file}: {exc.strerror}") from None
        phrase = text[0] if text else ""
    elif os.environ.get(PASSPHRASE_ENV):
        phrase = os.environ[PASSPHRASE_ENV]
    elif sys.stdin.isatty():
        phrase = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("Again: ") != phrase:
            raise BackupError("the passphrases differ")
    else:
        raise BackupError(f"a passphrase is needed for the secrets: --passphrase-file, "
                          f"${PASSPHRASE_ENV}, or run on a terminal")
    if confirm and len(phrase) < 12:
        raise BackupError("the backup passphrase must have at least 12 characters")
    return phrase


def cmd_backup(args: argparse.Namespace) -> int:
    from ..backup import make_backup

    out = Path(args.out)
    ask = None if args.without_secrets else (lambda: _passphrase(args, confirm=True))
    summary = make_backup(config_path(args), out, ask)
    print(f"wrote {out}: {summary['envelopes']} envelopes, database {summary['db']}, "
          f"secrets {'sealed' if summary['secrets'] else 'left out'}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from ..backup import restore

    target = config_path(args)
    summary = restore(Path(args.backup), target, lambda: _passphrase(args, confirm=False),
                      force=args.force)
    print(f"restored {summary['envelopes']} envelopes and the database into {target}"
          + ("" if summary["secrets"] else "; the backup held no secrets: put back the salt "
                                           "and the server key before starting the apps"))
    return 0
