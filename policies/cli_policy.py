"""`peluit policy …`: sign, verify, diff, render the protection policy; check a deployment's
controls; statistics. Registered from policies/cli.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def register(subparsers: argparse._SubParsersAction, wrap: Callable) -> None:
    policy = subparsers.add_parser("policy", help="protection policy, controls and statistics")
    policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
