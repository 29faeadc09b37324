"""``peluit`` sub-commands. Each part registers its own group; this module only dispatches.

Group modules expose ``register(subparsers)``; they add parsers and set ``func`` on them to a
function taking the parsed ``argparse.Namespace`` and returning an exit code. They import their
heavy dependencies inside those functions so that ``peluit --help`` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from peluit.ground.errors import UserError, report

# Order is the order of ``peluit --help``.
GROUP_MODULES = (
    "peluit.demo",          # demo
    "dropbox_app.cli",      # serve, db, auditor, gateway-user, server-key, backup, restore
    "workbench.cli",        # workbench
    "policies.cli",         # policy, audit
    "tor.cli",              # tor
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peluit", description="Peluit: secure anonymous whistleblowing over Tor.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in GROUP_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except (UserError, OSError) as exc:  # the house's one convention: peluit/ground/errors.py
        return report(exc)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
