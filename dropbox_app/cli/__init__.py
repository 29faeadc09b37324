"""`peluit` sub-commands of the server side (see peluit/cli.py for the convention).

Parsers only at import time: this package imports the standard library and nothing heavy, so
that ``peluit --help`` loads no Pyramid, SQLAlchemy or WebOb; each command imports what it needs
when it runs. A command fails the house's way by raising ``peluit.ground.errors.UserError`` (or
a part's error derived from it: ConfigError, EnrollError, BackupError, AccountError, …).

* ``server``  — init, serve, db, auditor
* ``gateway`` — gateway-user, server-key, retention
* ``backup``  — backup, restore (the logic is dropbox_app/backup.py)
* ``publicpages`` — reporter-pages (the logic is dropbox_app/publicpages)
* ``common``  — the ``--config`` option and what every command opens"""

from __future__ import annotations

import argparse

from . import backup, gateway, publicpages, server


def register(subparsers: argparse._SubParsersAction) -> None:
    server.register(subparsers)
    gateway.register(subparsers)
    backup.register(subparsers)
    publicpages.register(subparsers)
