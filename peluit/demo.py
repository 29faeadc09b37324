"""``peluit demo``: everything on one machine, on the embedded default. Filled in by issue 3."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the reporter app, gateway and workbench locally")
    p.add_argument("--data-dir", default=".demo")
    p.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    print("peluit demo: not built yet")
    return 1
