"""Imported files, kept encrypted in the vault.

Each file is an envelope sealed to the vault's own key pair (``vault.vault_box_key``), so no
plaintext file is ever written and a file can only be read through the unlocked vault. The
envelopes of one import are appended to one *pack* file, ``files/<name>.pack``, and a row
points at (pack, offset, length): creating ten thousand small files costs more here than
encrypting them, and a pack is written, fsynced and renamed once. Each envelope names its
submission inside, so rows cannot be pointed at each other's files.

A pack is ``flock``-ed by the import writing it from its first byte until the rows that point
at it have committed (``release``). An import killed before that leaves a temp pack or a pack
no row names; the next import removes them first (``sweep``), taking each one's lock before it
looks, so a pack another import is still writing is never touched.

Downloads decrypt on the fly. ``erase`` overwrites one file's envelope in place with zeros, for
when a case's material must be destroyed."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import queue
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from nacl.public import PrivateKey, PublicKey

from crypto.envelope import EnvelopeReader, EnvelopeWriter
from crypto.errors import AuthenticationError
from peluit.ground.files import fsync_dir

FILES_DIR = "files"
WRITE_BUFFER = 1 << 16  # envelope chunks are 64 KiB: larger buffers only add a copy
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Stored:
    path: str  # relative to the vault
    offset: int
    length: int
    size: int  # plaintext bytes
    sha256: str  # of the plaintext


class PackWriter:
    """Appends envelopes to a new pack. Not visible under its final name until ``finish``.

    The re-encryption runs in a worker thread: the importing thread reads, hashes and decrypts
    the bundle while the worker hashes the plaintext, encrypts it again and writes it (libsodium
    and hashlib release the GIL), so an import uses two cores. A bounded queue keeps memory at a
    few chunks whatever the file sizes.

    Durability is paid as the pack grows, not all at the end: every ``FLUSH_EVERY`` bytes a
    third thread fdatasyncs what has been written so far, so the disk works while the CPUs do,
    and ``finish`` only waits for the tail (one fsync of a whole gigabyte took a sixth of an
    import's time)."""

    QUEUE_CHUNKS = 64
    FLUSH_EVERY = 32 << 20

    def __init__(self, vault_path: Path | str, vault_public: PublicKey):
        self.root = Path(vault_path)
        self.name = f"{secrets.token_hex(8)}.pack"
        self.rel = f"{FILES_DIR}/{self.name}"
        self._tmp = self.root / FILES_DIR / f".{self.name}.tmp"
        self._public = vault_public
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # Held until the rows commit (``release``): the lock follows the file through the
        # rename, and tells ``sweep`` in another import that this pack is not an orphan.
        self._lock: int | None = os.open(self._tmp, os.O_RDONLY)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._out: BinaryIO = os.fdopen(fd, "wb", buffering=WRITE_BUFFER)
        self.count = 0
        self._stored: list[Stored] = []
        self._error: BaseException | None = None
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(self.QUEUE_CHUNKS)
        self._worker = threading.Thread(target=self._work, name="pack-writer", daemon=True)
        self._flush_wanted = threading.Event()
        self._flushing = True
        self._flusher = threading.Thread(target=self._flush_loop, name="pack-flusher",
                                         daemon=True)
        self._flusher.start()
        self._worker.start()

    def _flush_loop(self) -> None:
        fd = self._out.fileno()
        while True:
            self._flush_wanted.wait()
            self._flush_wanted.clear()
            if not self._flushing:
                return
            try:
                os.fdatasync(fd)  # what the buffer handed to the kernel so far
            except OSError:
                return  # finish() does the final fsync and reports any error there

    def _work(self) -> None:
        writer = h = None
        size = start = 0
        next_flush = self.FLUSH_EVERY
        while True:
            op, arg = self._queue.get()
            if op == "stop":
                return
            if self._error is not None:
                continue  # drain until stopped
            try:
                if op == "begin":
                    start, size, h = self._out.tell(), 0, hashlib.sha256()
                    writer = EnvelopeWriter(self._out, [self._public],
                                            {"v": 1, "kind": "vault-file", "submission": arg})
                elif op == "data":
                    h.update(arg)  # type: ignore[union-attr]
                    writer.write(arg)  # type: ignore[union-attr]
                    size += len(arg)
                elif op == "end":
                    writer.close()  # type: ignore[union-attr]
                    self._stored.append(Stored(self.rel, start, self._out.tell() - start, size,
                                               h.hexdigest()))  # type: ignore[union-attr]
                written = self._out.tell()
                if written >= next_flush:  # also inside one large file
                    next_flush = written + self.FLUSH_EVERY
                    self._flush_wanted.set()
            except BaseException as exc:  # reported to the importing thread
                self._error = exc

    def _put(self, op: str, arg: Any = None) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((op, arg))

    def add(self, submission_id: str, chunks: Iterable[bytes | memoryview]) -> int:
        """Queue ``chunks`` (a decrypting reader's output) for the pack; returns the file's
        index in ``results()``. An error while reading stops here; the pack is then discarded."""
        self._put("begin", submission_id)
        for chunk in chunks:
            self._put("data", chunk)
        self._put("end")
        self.count += 1
        return self.count - 1

    def _stop(self) -> None:
        if self._worker.is_alive():
            self._queue.put(("stop", None))
            self._worker.join()
        self._stop_flusher()

    def _stop_flusher(self) -> None:
        self._flushing = False
        self._flush_wanted.set()
        self._flusher.join()

    def done(self) -> list[Stored]:
        """The files stored so far, in order. The worker only ever appends, so what is below
        ``len()`` at any moment stays as it is: no copy is needed (one per batch of a large
        import would cost time quadratic in its number of files)."""
        if self._error is not None:
            raise self._error
        return self._stored

    def results(self) -> list[Stored]:
        """Wait for the worker; one Stored per ``add``, in order."""
        self._stop()
        if self._error is not None:
            raise self._error
        return self._stored

    def finish(self) -> None:
        """Make the pack durable under its final name (before the database commits)."""
        self.results()
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        os.replace(self._tmp, self.root / self.rel)
        fsync_dir(self.root / FILES_DIR)

    def discard(self) -> None:
        # Unblock a worker waiting on a full queue, then stop it.
        self._error = self._error or RuntimeError("discarded")
        while self._worker.is_alive():
            try:
                self._queue.put(("stop", None), timeout=0.1)
                self._worker.join()
            except queue.Full:
                continue
        self._stop_flusher()
        if not self._out.closed:
            # Closing flushes the buffer, which fails again on a full disk: the pack goes anyway.
            with contextlib.suppress(OSError):
                self._out.close()
        self._tmp.unlink(missing_ok=True)
        (self.root / self.rel).unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        """Let go of the pack's lock: call once the rows pointing at it have committed."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


_PACK = re.compile(r"^[0-9a-f]{16}\.pack$")
_TEMP_PACK = re.compile(r"^\.[0-9a-f]{16}\.pack\.tmp$")


def sweep(vault_path: Path | str, referenced: Callable[[], set[str]]) -> int:
    """Remove what a killed import left in ``files/``: temp packs, and packs no row names
    (``referenced()`` gives the rows' ``file_path`` values, asked again once a pack's lock is
    held, so a pack whose rows committed meanwhile stays). Returns how many went."""
    files = Path(vault_path) / FILES_DIR
    if not files.is_dir():
        return 0
    removed = 0
    known = referenced()  # once; asked again only for a pack that looks orphaned
    for entry in os.scandir(files):
        temp = bool(_TEMP_PACK.match(entry.name))
        if not temp and not (_PACK.match(entry.name)
                             and f"{FILES_DIR}/{entry.name}" not in known):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # an import is writing it
            if temp or f"{FILES_DIR}/{entry.name}" not in referenced():
                os.unlink(entry.path)
                removed += 1
        finally:
            os.close(fd)
    if removed:
        fsync_dir(files)
    return removed


class _Slice:
    """A read-only window on a file: reads stop at the end of one envelope."""

    def __init__(self, f: BinaryIO, length: int):
        self._f = f
        self._left = length

    def read(self, n: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(want)
        self._left -= len(data)
        return data


def relative_path(submission_id: str) -> str:
    """Where a file stored on its own (one envelope, offset 0, whole file) lives."""
    return f"{FILES_DIR}/{submission_id}.env"


def iter_plaintext(vault_path: Path | str, sub: Any, key: PrivateKey) -> Iterator[bytes]:
    """The bytes of a stored file (``sub`` is a db.Submission; no offset means the envelope is
    the whole file). The envelope is opened and checked at once, so a missing file or another
    submission's envelope raises here, before a response starts; changed content raises at the
    end of the iteration (crypto errors)."""
    path = Path(vault_path) / sub.file_path
    f = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    try:
        offset = sub.file_offset or 0
        length = sub.file_length if sub.file_length is not None else path.stat().st_size - offset
        f.seek(offset)
        reader = EnvelopeReader(_Slice(f, length), [key])
        if reader.metadata.get("submission") != sub.id:
            raise AuthenticationError("the stored file belongs to another submission")
    except BaseException:
        f.close()
        raise

    def chunks() -> Iterator[bytes]:
        with f:
            yield from reader.chunks()
    return chunks()


def erase(vault_path: Path | str, sub: Any) -> None:
    """Overwrite one stored file with zeros, in place, and make that durable (no offset: the
    envelope is the whole file, as ``iter_plaintext`` reads it)."""
    path = Path(vault_path) / sub.file_path
    with open(path, "r+b") as f:
        offset = sub.file_offset or 0
        f.seek(offset)
        left = (sub.file_length if sub.file_length is not None
                else os.fstat(f.fileno()).st_size - offset)
        while left:
            n = min(left, WRITE_BUFFER)
            f.write(bytes(n))
            left -= n
        f.flush()
        os.fsync(f.fileno())


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
