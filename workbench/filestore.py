"""Imported files, kept encrypted in the vault: each is an envelope sealed to the vault's own
key pair (``vault.vault_box_key``), so no plaintext file is ever written, and a file can only be
read through the unlocked workbench. Downloads decrypt on the fly."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from nacl.public import PrivateKey

from crypto.envelope import EnvelopeReader

FILES_DIR = "files"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def relative_path(submission_id: str) -> str:
    return f"{FILES_DIR}/{submission_id}.env"


def iter_plaintext(vault_path: Path, rel: str, key: PrivateKey) -> Iterator[bytes]:
    """Yield a stored file's bytes. A damaged file raises at the end (the download is cut)."""
    with open(Path(vault_path) / rel, "rb") as f:
        reader = EnvelopeReader(f, [key])
        yield from reader.chunks()


def download_name(name: str | None, fallback: str) -> str:
    """An ASCII file name that is safe on any system: no path, no control or shell characters,
    no leading dot, at most 120 characters, the extension kept."""
    name = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode("ascii")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip("._-")
    if not name:
        name = fallback
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 119 - len(ext)] + "." + ext) if dot and len(ext) <= 16 else name[:120]
    return name
