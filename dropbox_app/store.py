"""The encrypted store: one file per envelope, named ``<id>.env``.

Nothing is ever half-visible: an envelope is written under a temporary name in the same
directory, fsynced, and only then renamed to its final name (and the directory fsynced), so a
crash leaves at most a temporary file that ``sweep()`` removes. The files' times are set to
midnight of the day: the filesystem must not keep the exact time a reporter submitted."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from peluit.ground.files import fsync_dir

_MEMBER = re.compile(r"^[0-9a-f]{32}\.env$")
TEMP_PREFIX = ".tmp-"
_TEMP = re.compile(r"^\.tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]+$")


def _host_tag() -> str:
    import socket

    return hashlib.blake2b(socket.gethostname().encode(), digest_size=4).hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreError(Exception):
    pass


def member_name(object_id: str) -> str:
    name = f"{object_id}.env"
    if not _MEMBER.match(name):
        raise StoreError("bad store member name")
    return name


class HashingWriter:
    """A file-like sink that counts, hashes and writes the ciphertext the envelope writer
    produces, on a thread of its own: hashing and writing release the GIL, so they overlap
    with reading the socket and encrypting. The queue is short (a few chunks), so memory stays
    bounded whatever the size, and the data is flushed to disk as it goes, so the final fsync
    has little left to do."""

    QUEUE_CHUNKS = 16
    FLUSH_EVERY = 32 * 1024 * 1024

    def __init__(self, f: BinaryIO):
        import queue
        import threading

        self._f = f
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="envelope-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        unflushed = 0
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                self.sha256.update(data)
                self._f.write(data)
                unflushed += len(data)
                if unflushed >= self.FLUSH_EVERY:
                    self._f.flush()
                    os.fdatasync(self._f.fileno())
                    unflushed = 0
            except BaseException as exc:
                self._error = exc

    def write(self, data: bytes) -> int:
        if self._error is not None:
            raise self._error
        data = bytes(data)  # the caller may reuse its buffer
        self.size += len(data)
        self._queue.put(data)
        return len(data)

    def finish(self) -> None:
        """Wait until everything queued is written; raise what the writer met."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error


class PendingEnvelope:
    """An envelope being written: ``sink`` takes ciphertext; ``commit()`` makes it visible
    under its final name; ``discard()`` (or an exception) removes every trace of it."""

    def __init__(self, store: Store, object_id: str):
        self.store = store
        self.member = member_name(object_id)
        self.final = store.path / self.member
        # The writer's host and pid are in the name, so that after a crash its leftovers can be
        # told from the live uploads of another process sharing the store.
        self.temp = store.path / (f"{TEMP_PREFIX}{_host_tag()}-{os.getpid()}-"
                                      f"{secrets.token_hex(12)}")
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb", buffering=1024 * 1024)
        self.sink = HashingWriter(self._file)
        self.done = False

    def commit(self, day: dt.date) -> tuple[int, str]:
        """fsync and rename; returns (size on disk, sha256 hex)."""
        self.sink.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
        os.utime(self.temp, (midnight, midnight))
        os.rename(self.temp, self.final)
        fsync_dir(self.store.path)
        self.done = True
        return self.sink.size, self.sink.sha256.hexdigest()

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # whatever went wrong, the file goes
            self.sink.finish()
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)
        if self.done:
            self.final.unlink(missing_ok=True)
        self.done = False


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)

    def ensure(self) -> None:
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)

    def begin(self, object_id: str) -> PendingEnvelope:
        return PendingEnvelope(self, object_id)

    def open(self, member: str) -> BinaryIO:
        if not _MEMBER.match(member):
            raise StoreError("bad store member name")
        return (self.path / member).open("rb")

    def read(self, member: str) -> bytes:
        with self.open(member) as f:
            return f.read()

    def delete(self, member: str) -> None:
        """Unlink an envelope. The content is ciphertext whose key exists only on the
        workbench (or, for replies, only in the reporter's codename), so unlinking suffices."""
        if not _MEMBER.match(member):
            raise StoreError("bad store member name")
        (self.path / member).unlink(missing_ok=True)

    def members(self) -> Iterator[str]:
        for entry in os.scandir(self.path):
            if _MEMBER.match(entry.name):
                yield entry.name

    def sweep(self, known: set[str] | None = None, now: float | None = None) -> int:
        """Remove what a crash left behind: temporary files whose writing process on this host
        is gone, or older than a day (no upload takes that long; another server sharing the
        store may be writing a younger one), and,
        when ``known`` is given, envelopes that no database row refers to (a crash between the
        rename and the commit) dated two days back or more, so no live request can still be
        about to commit them."""
        import time

        now = time.time() if now is None else now
        host = _host_tag()
        removed = 0
        for entry in os.scandir(self.path):
            age = now - entry.stat().st_mtime
            if entry.name.startswith(TEMP_PREFIX):
                m = _TEMP.match(entry.name)
                dead_writer = bool(m and m.group(1) == host and not _alive(int(m.group(2))))
                stale = dead_writer or age > 86400
            else:
                stale = (known is not None and bool(_MEMBER.match(entry.name))
                         and entry.name not in known and age > 2 * 86400)
            if stale:
                os.unlink(entry.path)
                removed += 1
        return removed
