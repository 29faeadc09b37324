"""Safe copies of a case's attachments, kept in the vault like the attachments themselves.

A safe copy (``workbench.safecopy``: page pixels only, rendered in a sandbox) is made once, on an
auditor's request, and stored as an envelope sealed to the vault's own key pair, at
``safecopies/<submission id>.env``, naming its submission inside so one file cannot stand in for
another's copy. It is never written in clear: built in memory, encrypted, written atomically."""

from __future__ import annotations

import io
import re
from pathlib import Path

from nacl.public import PrivateKey

from crypto.envelope import EnvelopeReader, EnvelopeWriter
from crypto.errors import AuthenticationError
from peluit.ground.files import write_atomic

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
    buf = io.BytesIO()
    writer = EnvelopeWriter(buf, [key.public_key],
                            {"v": 1, "kind": "safe-copy", "submission": submission_id})
    writer.write(pdf)
    writer.close()
    path = _path(vault_path, submission_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write_atomic(path, buf.getvalue())


def load(vault_path: Path | str, submission_id: str, key: PrivateKey) -> bytes | None:
    """The stored safe copy's PDF, or None when none was made. Raises AuthenticationError when
    the envelope was changed or belongs to another file."""
    try:
        f = open(_path(vault_path, submission_id), "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with f:
        reader = EnvelopeReader(f, [key])
        meta = reader.metadata
        if meta.get("kind") != "safe-copy" or meta.get("submission") != submission_id:
            raise AuthenticationError("the stored safe copy belongs to another file")
        out = bytearray()
        for chunk in reader.chunks():
            out += chunk
            if len(out) > MAX_PDF:
                raise AuthenticationError("stored safe copy too large")
    return bytes(out)


def erase(vault_path: Path | str, submission_id: str) -> None:
    """Overwrite a safe copy with zeros and remove it (case disposal); nothing if there is none."""
    import os

    path = _path(vault_path, submission_id)
    try:
        with open(path, "r+b") as f:
            f.write(bytes(os.fstat(f.fileno()).st_size))
            f.flush()
            os.fsync(f.fileno())
    except FileNotFoundError:
        return
    path.unlink()
