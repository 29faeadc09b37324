"""Metadata stripped from an original that must travel as it is (a spreadsheet the agency needs
to recompute), with mat2 (Debian package ``mat2``, LGPL-3.0-or-later, run as a program).

mat2 parses the reporter's file, so it runs in the safe-copy sandbox (sandbox.py: no network, no
view of the vault, limits, a wall-clock timeout), twice: once to list what it finds (``mat2
-s``), once to clean (``mat2 --inplace``), each time with the file on stdin and written to the
sandbox's own tmpfs. The listing is reduced to *names* of what was removed (``docProps/core.xml:
dc:creator``), never their values (the author's name is the value), so the report can be kept
and shown without carrying what it removed.

PDFs are not given to mat2: it would rasterise them (the safe copy does that better, with OCR);
an original PDF is rewritten by ``workbench.cases.scrub`` instead."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from . import sandbox

# Formats mat2 0.13 cleans without turning them into something else (``mat2 -l``).
EXTENSIONS = frozenset({
    "docx", "xlsx", "pptx", "odt", "ods", "odp", "odg", "odc", "odf", "odi", "epub",
    "jpg", "jpeg", "png", "gif", "tif", "tiff", "svg", "ppm", "heic",
    "mp3", "ogg", "oga", "opus", "flac", "wav", "aiff", "mp4", "m4v", "avi", "wmv",
})
WALL_SECONDS = 60
MAX_OUTPUT = 128 * 1024 * 1024
MAX_LISTING = 1024 * 1024


class StripError(Exception):
    """mat2 could not read or clean the file (damaged, encrypted, unsupported, too slow)."""


@dataclass(frozen=True)
class Stripped:
    data: bytes
    removed: list[str]  # "part: name" of each item mat2 found, values left out


def supported(extension: str) -> bool:
    return extension in EXTENSIONS


def _run(script: str, data: bytes) -> bytes:
    try:
        proc = subprocess.run(sandbox.command(["/bin/sh", "-c", script]), input=data,  # noqa: S603
                              capture_output=True, timeout=WALL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise StripError("mat2 took too long") from None
    if proc.returncode != 0:
        raise StripError("mat2 could not clean the file")
    return proc.stdout


def strip(data: bytes, extension: str) -> Stripped:
    """The file without the metadata mat2 knows of, and the names of what it removed."""
    if not supported(extension) or not extension.isalnum():
        raise StripError("mat2 does not clean this format")
    path = f"{sandbox.INSIDE_TMP}/lampiran.{extension}"
    listing = _run(f"cat > {path} && exec mat2 -s {path}", data)[:MAX_LISTING]
    cleaned = _run(f"cat > {path} && mat2 --inplace {path} >&2 && exec cat {path}", data)
    if not cleaned or len(cleaned) > MAX_OUTPUT:
        raise StripError("mat2 gave no file back")
    return Stripped(cleaned, names(listing.decode("utf-8", "replace")))


def names(listing: str) -> list[str]:
    """``part: name`` for every item of ``mat2 -s``'s listing, values dropped; the zip entries'
    times (one per part) are folded into one item."""
    out, part, times = [], "", 0
    for line in listing.splitlines():
        text = line.strip()
        if text.startswith("[++] Metadata for ") and text.endswith(":"):
            part = text[len("[++] Metadata for "):-1]
        elif text.startswith("[+]") or ": " not in text:
            continue
        else:
            name = text.split(": ", 1)[0].strip()[:80]  # "cp:lastModifiedBy: Budi" -> the name
            if name == "date_time":
                times += 1
            elif name:
                out.append(f"{part}: {name}" if part else name)
    if times:
        out.append(f"date_time ({times})")
    return out
