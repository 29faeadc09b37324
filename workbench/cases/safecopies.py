"""Safe copies of a case's attachments, kept in the vault like the attachments themselves.

A safe copy (``workbench.safecopy``: page pixels only, rendered in a sandbox) is made once, on an
auditor's request, and stored as an envelope sealed to the vault's own key pair, at
``safecopies/<submission id>.env``, naming its submission inside so one file cannot stand in for
another's copy. It is never written in clear: built in memory, encrypted, written atomically."""

from __future__ import annotations

import re
from pathlib import Path

from nacl.public import PrivateKey

from peluit.ground.files import wipe_and_remove
from workbench import sealedfiles

DIR = "safecopies"
MAX_PDF = 512 * 1024 * 1024
_ID = re.compile(r"[0-9a-f]{32}")


def _path(vault_path: Path | str, submission_id: str) -> Path:
    if not _ID.fullmatch(submission_id):
        raise ValueError("not a submission id")
    return Path(vault_path) / DIR / f"{submission_id}.env"


def exists(vault_path: Path | str, submission_id: str) -> bool:
    return _path(vault_path, submission_id).is_file()


def store(vault_path: Path | str, submission_id: str, pdf: bytes, key: PrivateKey) -> None:
    sealedfiles.seal(_path(vault_path, submission_id), pdf, key,
                     {"v": 1, "kind": "safe-copy", "submission": submission_id})


def load(vault_path: Path | str, submission_id: str, key: PrivateKey) -> bytes | None:
    """The stored safe copy's PDF, or None when none was made. Raises AuthenticationError when
    the envelope was changed or belongs to another file."""
    return sealedfiles.unseal(_path(vault_path, submission_id), key,
                              {"kind": "safe-copy", "submission": submission_id}, MAX_PDF,
                              "safe copy")


def erase(vault_path: Path | str, submission_id: str) -> None:
    """Overwrite a safe copy with zeros and remove it (case disposal); nothing if there is none."""
    wipe_and_remove(_path(vault_path, submission_id))
