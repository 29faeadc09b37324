"""Who acts on a case (a member of the workbench, or the intake that opens web reports), and
the key of the duplicate sketches."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.kdf import subkey


@dataclass(frozen=True)
class User:
    """Who acts: ``id`` is the auditor's key id (what the audit log records), ``role`` one of
    auditor, lead, compliance."""

    id: str
    name: str
    role: str


SYSTEM = User("workbench-intake", "intake", "auditor")


def sketch_key(vault_key: bytes) -> bytes:
    """The duplicate-sketch key: a subkey of the vault key, separate from the column key."""
    return subkey(vault_key, b"peluit-dupes-v1")
