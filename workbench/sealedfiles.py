"""Small files the workbench keeps sealed to the vault's own key pair (a case's redactions, an
attachment's safe copy): one envelope per file, written atomically, naming inside what it
belongs to, so that one file cannot stand in for another's (a swapped file is refused)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from crypto.envelope import EnvelopeReader, EnvelopeWriter
from crypto.errors import AuthenticationError
from peluit.ground.files import write_atomic


def seal(path: Path, data: bytes, key: PrivateKey, meta: Mapping[str, Any]) -> None:
    """Write ``data`` sealed to ``key``'s public half, ``meta`` (what it belongs to) inside."""
    buf = io.BytesIO()
    writer = EnvelopeWriter(buf, [key.public_key], dict(meta))
    writer.write(data)
    writer.close()
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write_atomic(path, buf.getvalue())


def unseal(path: Path, key: PrivateKey, meta: Mapping[str, Any], limit: int,
           what: str) -> bytes | None:
    """The content of ``path``, or None when there is no such file. Raises
    AuthenticationError when the envelope was changed, its ``meta`` is not the expected one
    (it belongs to another case or file), or it holds more than ``limit`` bytes."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with f:
        reader = EnvelopeReader(f, [key])
        found = reader.metadata
        if any(found.get(k) != v for k, v in meta.items()):
            raise AuthenticationError(f"the stored {what} belongs to another one")
        out = bytearray()
        for chunk in reader.chunks():
            out += chunk
            if len(out) > limit:
                raise AuthenticationError(f"stored {what} too large")
    return bytes(out)
