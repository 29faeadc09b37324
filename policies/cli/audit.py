"""``peluit audit verify`` and ``peluit audit checkpoint``: the workbench's audit log."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peluit.ground.clock import Clock
from peluit.ground.errors import UserError

from .common import load_card, load_identity, write_atomic


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="verify the workbench's audit log")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    v = asub.add_parser("verify", help="check the hash chain (and checkpoints) of an audit log")
    v.add_argument("source", type=Path, help="a vault directory or a JSON Lines export")
    v.add_argument("--checkpoint", type=Path, action="append", default=[],
                   help="a signed checkpoint file to hold the log to (repeatable)")
    v.add_argument("--trust", type=Path, action="append", default=[],
                   help="a card whose key must have signed the checkpoints (repeatable)")
    v.set_defaults(func=_audit_verify)

    c = asub.add_parser("checkpoint", help="sign the log's current head as proof to keep")
    c.add_argument("source", type=Path, help="a vault directory or a JSON Lines export")
    c.add_argument("--identity", type=Path, required=True,
                   help="the compliance officer's sealed identity file")
    c.add_argument("--out", type=Path, required=True, help="where to write the checkpoint")
    c.set_defaults(func=_audit_checkpoint)


def _load_log(source: Path):  # type: ignore[no-untyped-def]
    """(entries, which source was read)."""
    from policies.auditlog import AuditFormatError, load_source

    try:
        return load_source(source)
    except AuditFormatError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror}") from None


def _audit_verify(args: argparse.Namespace) -> int:
    from policies.auditlog import AuditFormatError, Checkpoint, verify

    entries, where = _load_log(args.source)
    print(f"verifying the {where}")
    checkpoints = []
    for path in args.checkpoint:
        try:
            checkpoints.append(Checkpoint.from_bytes(path.read_bytes()))
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None
        except AuditFormatError as exc:
            raise UserError(f"{path}: {exc}") from None
    trusted = [load_card(p).sign_key for p in args.trust] if args.trust else None
    problems = verify(entries, checkpoints, trusted)
    for p in problems:
        print(p)
    if problems:
        print(f"audit log: {len(problems)} problem(s) in {len(entries)} entries", file=sys.stderr)
        return 1
    head = entries[-1].hash if entries else "(empty)"
    print(f"audit log intact: {len(entries)} entries, {len(checkpoints)} checkpoint(s), "
          f"head {head}")
    if checkpoints and trusted is None:
        from crypto.keys import fingerprint

        for cp in checkpoints:
            print(f"checkpoint seq {cp.seq} signed by {cp.signer}, key fingerprint "
                  f"{fingerprint(bytes(cp.sign_key))}: compare it with the officer's")
    return 0


def _audit_checkpoint(args: argparse.Namespace) -> int:

    from policies.auditlog import sign_checkpoint, verify

    entries, where = _load_log(args.source)
    print(f"checkpointing the {where}")
    if not entries:
        raise UserError("the audit log is empty: nothing to checkpoint")
    problems = verify(entries)
    if problems:
        raise UserError(f"refusing to sign a damaged log: {problems[0]}")
    identity = load_identity(args.identity)
    cp = sign_checkpoint(entries[-1], identity.signing, signer=identity.name,
                         at=Clock().today().isoformat())
    write_atomic(args.out, cp.to_bytes() + b"\n")
    print(f"checkpoint: seq {cp.seq}, head {cp.head}, written to {args.out}")
    return 0
