"""`peluit policy …` and `peluit audit …` (see peluit/cli.py for the convention).

Parsers only here; each command imports what it needs when it runs, so ``peluit --help`` stays
fast. User errors print one line and return non-zero (peluit.cli turns CommandError into that)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peluit.ground.clock import Clock


class _Fail(Exception):
    """A user error inside one of these commands: one line on stderr, exit 1."""


def register(subparsers: argparse._SubParsersAction) -> None:
    audit = subparsers.add_parser("audit", help="verify the workbench's audit log")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    v = asub.add_parser("verify", help="check the hash chain (and checkpoints) of an audit log")
    v.add_argument("source", type=Path, help="a vault directory or a JSON Lines export")
    v.add_argument("--checkpoint", type=Path, action="append", default=[],
                   help="a signed checkpoint file to hold the log to (repeatable)")
    v.add_argument("--trust", type=Path, action="append", default=[],
                   help="a card whose key must have signed the checkpoints (repeatable)")
    v.set_defaults(func=_wrap(_audit_verify))

    c = asub.add_parser("checkpoint", help="sign the log's current head as proof to keep")
    c.add_argument("source", type=Path, help="a vault directory or a JSON Lines export")
    c.add_argument("--identity", type=Path, required=True,
                   help="the compliance officer's sealed identity file")
    c.add_argument("--out", type=Path, required=True, help="where to write the checkpoint")
    c.set_defaults(func=_wrap(_audit_checkpoint))

    from policies import cli_policy

    cli_policy.register(subparsers, _wrap)


def _wrap(func):  # type: ignore[no-untyped-def]
    """Run ``func(args)``; a user error becomes one line on stderr and exit code 1."""

    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except _Fail as exc:
            print(f"peluit: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:  # a path the user gave cannot be read or written
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"peluit: {exc.strerror or exc}{where}", file=sys.stderr)
            return 1

    return run


def fail(message: str) -> _Fail:
    return _Fail(message)


def read_passphrase(prompt: str) -> str:
    """From the terminal without echo; from standard input (one line) when it is not a
    terminal, so scripts and tests can pipe it in."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise _Fail("no passphrase given on standard input")
    return line.rstrip("\r\n")


VAULT_RECORD_FORMAT = "peluit-vault-auditor"  # a workbench vault's auditors/<key id>.json


def load_identity(path: Path):  # type: ignore[no-untyped-def]
    """Unseal the compliance officer's identity from ``path``: a sealed identity file
    (``peluit policy new-signer``) or their record in a workbench vault
    (``VAULT/auditors/<key id>.json``), which must then have the compliance role."""
    import json

    from crypto.errors import CryptoError
    from crypto.identity import AuditorIdentity

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _Fail(f"cannot read {path}: {exc.strerror}") from None
    try:
        obj = json.loads(data)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and obj.get("format") == VAULT_RECORD_FORMAT:
        if obj.get("role") != "compliance":
            raise _Fail(f"{path}: {obj.get('name')!r} is a {obj.get('role')} in the vault, "
                        "not a compliance officer")
        if not isinstance(obj.get("identity"), str):
            raise _Fail(f"{path}: damaged vault record")
        data = obj["identity"].encode("utf-8")
    passphrase = read_passphrase(f"Passphrase for {path.name}: ")
    try:
        return AuditorIdentity.unseal(data, passphrase)
    except CryptoError as exc:
        raise _Fail(f"{path}: {exc}") from None


def load_card(path: Path):  # type: ignore[no-untyped-def]
    from crypto.errors import CryptoError
    from crypto.identity import Card

    try:
        return Card.from_bytes(path.read_bytes())
    except OSError as exc:
        raise _Fail(f"cannot read {path}: {exc.strerror}") from None
    except CryptoError as exc:
        raise _Fail(f"{path}: {exc}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """policies.documents.write_atomic, failing with the command's one-line error."""
    from policies.documents import PolicyError
    from policies.documents import write_atomic as write

    try:
        write(path, data)
    except PolicyError as exc:
        raise _Fail(str(exc)) from None


def _load_log(source: Path):  # type: ignore[no-untyped-def]
    """(entries, which source was read)."""
    from policies.auditlog import AuditFormatError, load_source

    try:
        return load_source(source)
    except AuditFormatError as exc:
        raise _Fail(str(exc)) from None
    except OSError as exc:
        raise _Fail(f"cannot read {source}: {exc.strerror}") from None


def _audit_verify(args: argparse.Namespace) -> int:
    from policies.auditlog import AuditFormatError, Checkpoint, verify

    entries, where = _load_log(args.source)
    print(f"verifying the {where}")
    checkpoints = []
    for path in args.checkpoint:
        try:
            checkpoints.append(Checkpoint.from_bytes(path.read_bytes()))
        except OSError as exc:
            raise _Fail(f"cannot read {path}: {exc.strerror}") from None
        except AuditFormatError as exc:
            raise _Fail(f"{path}: {exc}") from None
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
        raise _Fail("the audit log is empty: nothing to checkpoint")
    problems = verify(entries)
    if problems:
        raise _Fail(f"refusing to sign a damaged log: {problems[0]}")
    identity = load_identity(args.identity)
    cp = sign_checkpoint(entries[-1], identity.signing, signer=identity.name,
                         at=Clock().today().isoformat())
    write_atomic(args.out, cp.to_bytes() + b"\n")
    print(f"checkpoint: seq {cp.seq}, head {cp.head}, written to {args.out}")
    return 0
