"""``peluit policy …`` and ``peluit audit …`` (see peluit/cli.py for the convention).

Parsers only at import time; each command imports what it needs when it runs, so ``peluit
--help`` stays fast. A command fails by raising ``peluit.ground.errors.UserError``.

* ``audit``  — verify and checkpoint the workbench's audit log
* ``policy`` — sign, verify, diff, install the protection policy; controls; statistics
* ``verify-authorship`` — check a reporter's proof of authorship offline
* ``common`` — identity, cards, passphrase, atomic output"""

from __future__ import annotations

import argparse

from . import audit, authorship, policy


def register(subparsers: argparse._SubParsersAction) -> None:
    audit.register(subparsers)
    policy.register(subparsers)
    authorship.register(subparsers)
