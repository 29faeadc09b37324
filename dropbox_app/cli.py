"""`peluit` sub-commands of dropbox_app (see peluit/cli.py for the convention)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:  # noqa: SLF001
    """Add this part's command group. Filled in by its issue."""
