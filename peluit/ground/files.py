"""Files that are either complete or absent, and one mode policy.

Every file Peluit writes whole (keys, configuration, signed documents, bundles, backups,
restored databases) goes through here: the data goes to a fresh name beside the target
(created exclusively, with the final mode from the start, so no other user can ever open it),
is fsynced, renamed over the target, and the directory is fsynced so that the rename itself
survives a power cut. A crash leaves the old file or the new one, never half of either; the
temp name starts with a dot and ends in ``.tmp`` so that directory scanners can skip it.

Mode policy: ``PRIVATE`` (0600) unless the caller says otherwise (a file meant to be shipped
or read by others, e.g. a word list in the source tree, passes ``PUBLIC``)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

PRIVATE = 0o600
PUBLIC = 0o644
TEMP_SUFFIX = ".tmp"


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename, creation or removal in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_beside(path: str | os.PathLike[str]) -> Path:
    """A fresh, hidden name in the same directory (so the rename stays on one file system)."""
    path = Path(path)
    return path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMP_SUFFIX}")


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def remove_temps(directory: str | os.PathLike[str], prefix: str) -> int:
    """Remove the temp names starting with ``prefix`` (files or directories) that a writer
    killed before its rename left in ``directory``; call it where nothing else can be writing
    under that prefix (the next run of the same command, under a lock or by nature). Returns
    how many went."""
    import shutil

    removed = 0
    for entry in os.scandir(directory):
        if entry.name.startswith(prefix) and is_temp_name(entry.name):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            removed += 1
    return removed


def fsync_file(path: str | os.PathLike[str]) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], mode: int = PRIVATE) -> Iterator[Path]:
    """Yield a temp path beside ``path`` (already created, empty, with ``mode``) for a writer
    that wants a file name (gpg, ``shutil.copyfile``, a tool run as a subprocess). On a clean
    exit the temp file is fsynced and renamed over ``path`` and the directory fsynced; on an
    error it is removed and ``path`` is untouched."""
    path = Path(path)
    tmp = temp_beside(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode))
    try:
        yield tmp
        os.chmod(tmp, mode)  # a writer that recreated the file must not widen it
        fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: int = PRIVATE) -> Iterator[BinaryIO]:
    """Yield a binary file to write ``path``'s new content into, in pieces (a streamed archive);
    the file appears under ``path`` complete, or not at all."""
    path = Path(path)
    tmp = temp_beside(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int = PRIVATE) -> None:
    """Write ``data`` to ``path`` whole or not at all (see the module docstring)."""
    with atomic_writer(path, mode) as f:
        f.write(data)


WIPE_BLOCK = 1 << 20


def wipe_and_remove(path: str | os.PathLike[str]) -> bool:
    """Overwrite ``path`` with zeros (in blocks: a large file needs no large buffer), fsync,
    remove it and fsync its directory: what was in it is not left in the file's old blocks
    (as far as the file system writes in place). False when there was no such file."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        left = os.fstat(fd).st_size
        zeros = bytes(min(left, WIPE_BLOCK))
        while left:
            left -= os.write(fd, zeros[:min(left, WIPE_BLOCK)])
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()
    fsync_dir(path.parent)
    return True
