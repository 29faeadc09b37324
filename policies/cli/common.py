"""What the policy and audit commands share: reading the officer's identity and cards, the
passphrase, writing results whole; failures as ``peluit.ground.errors.UserError``."""

from __future__ import annotations

import sys
from pathlib import Path

from peluit.ground.errors import UserError


def fail(message: str) -> UserError:
    return UserError(message)


def read_passphrase(prompt: str) -> str:
    """From the terminal without echo; from standard input (one line) when it is not a
    terminal, so scripts and tests can pipe it in."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise UserError("no passphrase given on standard input")
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
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    try:
        obj = json.loads(data)
    except ValueError:
        obj = None
    if isinstance(obj, dict) and obj.get("format") == VAULT_RECORD_FORMAT:
        if obj.get("role") != "compliance":
            raise UserError(f"{path}: {obj.get('name')!r} is a {obj.get('role')} in the vault, "
                        "not a compliance officer")
        if not isinstance(obj.get("identity"), str):
            raise UserError(f"{path}: damaged vault record")
        data = obj["identity"].encode("utf-8")
    passphrase = read_passphrase(f"Passphrase for {path.name}: ")
    try:
        return AuditorIdentity.unseal(data, passphrase)
    except CryptoError as exc:
        raise UserError(f"{path}: {exc}") from None


def load_card(path: Path):  # type: ignore[no-untyped-def]
    from crypto.errors import CryptoError
    from crypto.identity import Card

    try:
        return Card.from_bytes(path.read_bytes())
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    except CryptoError as exc:
        raise UserError(f"{path}: {exc}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """policies.documents.write_atomic, failing with the command's one-line error."""
    from policies.documents import PolicyError
    from policies.documents import write_atomic as write

    try:
        write(path, data)
    except PolicyError as exc:
        raise UserError(str(exc)) from None
