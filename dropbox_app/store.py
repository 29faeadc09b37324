"""The encrypted store: a pool of slot files, ``<slot>.env``, that envelopes are written into.

A seized server must not learn *when* anything happened (docs/architecture.md, invariant 3). A
file's times tell it: the kernel sets the inode's change time (ctime) on every write, rename,
``utime`` or truncation, and keeps its birth time (statx) for ever; a directory's times change
whenever a name is added or removed. Neither ctime nor birth time can be set from user space.
So the store never creates, renames or unlinks a name when a reporter or an auditor acts:

* **Slots are made in batches**, empty, by ``refill()``: when the store is set up, by the cover
  writer (dropbox_app/cover.py) at random moments unrelated to any request, and by
  ``peluit store sweep``. Their birth times, and the directory's times, date only those
  batches. (Only a pool run dry makes a batch inside a request; ``POOL_TARGET`` is sized so that
  it does not happen, and it would then date a burst, not a submission.)
* **Writing claims a free slot** (an empty file) with an exclusive ``flock``: no time changes,
  and two processes or two servers sharing the store never claim the same slot. The envelope
  streams into it; ``commit()`` fsyncs it and keeps the lock until the database transaction
  that refers to it has committed (``release()``). The slot's name is the row's ``member``.
* **Visibility is the committed row.** Nothing reads a slot no committed row names, so a
  half-written or aborted envelope is never visible. An abort truncates the slot (empty again,
  free); a crash leaves a full slot no row names, which ``sweep()`` wipes once it can take the
  slot's lock (a live writer holds it until its commit).
* **Deleting wipes in place** (``delete()``): zeros over the content, fsync, truncate to zero.
  The name stays, as a free slot; the blocks are freed.
* **Times are covered** (``cover()``): after every commit that touched the store, and at the
  cover writer's random moments, every slot and the directory get atime and mtime set to
  midnight UTC of the day, which sets every ctime to that same moment. So all files show one
  ctime, the latest cover, and no file's times single out the one that was written.
* **Reads do not touch atime**: envelopes are opened with ``O_NOATIME``.

Sizes are the envelope's padded size (crypto/envelope.py); a free slot is empty."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from peluit.ground.files import fsync_dir

_MEMBER = re.compile(r"^[0-9a-f]{32}\.env$")
TEMP_PREFIX = ".tmp-"
#: Free slots the pool is brought back to, and the level under which the cover writer refills.
POOL_TARGET = 256
POOL_LOW = 64
WIPE_BLOCK = 1 << 20
_NOATIME = getattr(os, "O_NOATIME", 0)

# The slots this process holds: flock already keeps two open file descriptions apart, but on a
# network file system (a shared store) flock may fall back to per-process POSIX locks, which
# would not keep two threads of one process apart.
_held: set[str] = set()
_held_lock = threading.Lock()


class StoreError(Exception):
    pass


def member_name(object_id: str) -> str:
    name = f"{object_id}.env"
    if not _MEMBER.match(name):
        raise StoreError("bad store member name")
    return name


def _check_member(member: str) -> None:
    if not _MEMBER.match(member):
        raise StoreError("bad store member name")


def midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()


def cover_paths(paths: Iterable[Path | str], day: dt.date) -> None:
    """Set atime and mtime of each path to midnight of ``day`` (which sets its ctime to now).
    A path that vanished meanwhile is skipped."""
    t = midnight(day)
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            os.utime(p, (t, t), follow_symlinks=False)


def read_noatime(path: Path | str) -> bytes:
    """A small file's bytes, read without stamping its access time (keys, secrets)."""
    fd = os.open(path, os.O_RDONLY | _NOATIME)
    with os.fdopen(fd, "rb") as f:
        return f.read()


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


class _Slot:
    """A claimed slot: an open descriptor holding the slot's exclusive lock."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the last descriptor drops the flock
            self.fd = -1
            with _held_lock:
                _held.discard(self.path.name)

    def __del__(self) -> None:  # a forgotten slot must not stay locked for the process's life
        with contextlib.suppress(Exception):
            self.release()


def _try_lock(path: Path, *, want_empty: bool | None) -> _Slot | None:
    """Open and lock ``path`` without waiting; None if another holds it, it is gone, or its
    emptiness is not ``want_empty`` once locked."""
    with _held_lock:
        if path.name in _held:
            return None
        _held.add(path.name)
    try:
        fd = os.open(path, os.O_RDWR | _NOATIME)
    except FileNotFoundError:
        with _held_lock:
            _held.discard(path.name)
        return None
    slot = _Slot(path, fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        slot.release()
        return None
    except BaseException:
        slot.release()
        raise
    if want_empty is not None and (os.fstat(fd).st_size == 0) != want_empty:
        slot.release()
        return None
    return slot


def _wipe_fd(fd: int) -> int:
    """Zeros over the content, fsync, truncate to empty, fsync. Returns the size wiped."""
    size = os.fstat(fd).st_size
    if size:
        zeros = bytes(min(size, WIPE_BLOCK))
        os.lseek(fd, 0, os.SEEK_SET)
        left = size
        while left:
            left -= os.write(fd, zeros[:min(left, WIPE_BLOCK)])
        os.fsync(fd)
    os.ftruncate(fd, 0)
    os.fsync(fd)
    return size


class PendingEnvelope:
    """An envelope being written into a claimed slot: ``sink`` takes ciphertext; ``commit()``
    completes it on disk; ``release()`` (after the row naming it has committed) lets the slot's
    lock go; ``discard()`` (an abort, or an exception) empties the slot again."""

    def __init__(self, store: Store, slot: _Slot):
        self.store = store
        self._slot = slot
        self.member = slot.path.name
        self.final = slot.path
        self._file = os.fdopen(os.dup(slot.fd), "wb", buffering=1024 * 1024)
        self.sink = HashingWriter(self._file)
        self.done = False

    def commit(self, day: dt.date | None = None) -> tuple[int, str]:
        """fsync; returns (size on disk, sha256 hex). The slot stays locked: a sweep must not
        take it for an orphan before the row naming it has committed. ``day`` is not used (the
        cover sets every slot's times at once)."""
        del day
        self.sink.finish()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self.done = True
        return self.sink.size, self.sink.sha256.hexdigest()

    def release(self) -> None:
        """The row naming this envelope has committed: let the slot go."""
        if not self._file.closed:
            self._file.close()
        self._slot.release()

    def discard(self) -> None:
        with contextlib.suppress(Exception):  # whatever went wrong, the content goes
            self.sink.finish()
        if not self._file.closed:
            with contextlib.suppress(Exception):
                self._file.close()
        if self._slot.fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self._slot.fd, 0)
                os.fsync(self._slot.fd)
        self._slot.release()
        self.done = False


class Store:
    def __init__(self, path: Path):
        self.path = Path(path)

    def ensure(self) -> None:
        """Create the directory and, if the pool is low, a batch of slots (set-up time)."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.free_slots() < POOL_LOW:
            self.refill()

    # -- the pool ------------------------------------------------------------------------------

    def _slot_names(self) -> list[str]:
        # Listed through an O_NOATIME descriptor: reading the directory must not stamp it.
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | _NOATIME)
        try:
            return [e.name for e in os.scandir(fd) if _MEMBER.match(e.name)]
        finally:
            os.close(fd)

    def free_slots(self) -> int:
        n = 0
        for name in self._slot_names():
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path / name).st_size == 0:
                    n += 1
        return n

    def refill(self, target: int = POOL_TARGET) -> int:
        """Create empty slots until ``target`` are free, in one batch. Returns how many."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self._make(max(0, target - self.free_slots()))

    def _make(self, missing: int) -> int:
        for _ in range(missing):
            fd = os.open(self.path / member_name(secrets.token_hex(16)),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
        if missing:
            fsync_dir(self.path)
        return missing

    def _claim(self) -> _Slot:
        rng = secrets.SystemRandom()
        for attempt in range(2):
            names = self._slot_names()
            rng.shuffle(names)
            for name in names:
                path = self.path / name
                try:
                    if os.stat(path).st_size:
                        continue
                except FileNotFoundError:
                    continue
                slot = _try_lock(path, want_empty=True)
                if slot is not None:
                    return slot
            if attempt == 0:
                # The pool ran dry between two refills: make a batch now (its birth times show
                # this moment; see the module's docstring).
                self._make(POOL_LOW)
        raise StoreError("no free slot in the store")

    def begin(self, object_id: str | None = None) -> PendingEnvelope:
        """Claim a free slot for a new envelope (``object_id`` is no longer part of the name:
        the row's ``member`` is the slot's name)."""
        del object_id
        return PendingEnvelope(self, self._claim())

    # -- reading -------------------------------------------------------------------------------

    def open(self, member: str) -> BinaryIO:
        _check_member(member)
        fd = os.open(self.path / member, os.O_RDONLY | _NOATIME)
        return os.fdopen(fd, "rb")

    def read(self, member: str) -> bytes:
        with self.open(member) as f:
            return f.read()

    def members(self) -> Iterator[str]:
        """Slots that hold something (a committed envelope, or an orphan the sweep will wipe)."""
        for name in self._slot_names():
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path / name).st_size:
                    yield name

    def busy(self) -> int:
        """How many slots a writer holds right now (an upload in progress, a bundle spooling)."""
        n = 0
        for name in self._slot_names():
            slot = _try_lock(self.path / name, want_empty=None)
            if slot is None:
                n += 1
            else:
                slot.release()
        return n

    # -- deleting ------------------------------------------------------------------------------

    def delete(self, member: str) -> int:
        """Wipe an envelope whose row is gone (committed): zeros, fsync, truncate. The slot
        becomes free. Waits for a sweep that holds the slot. Returns the size wiped."""
        _check_member(member)
        try:
            fd = os.open(self.path / member, os.O_RDWR | _NOATIME)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return _wipe_fd(fd)
        finally:
            os.close(fd)

    def sweep(self, known: Callable[[], set[str]] | set[str] | None = None,
              now: float | None = None) -> int:
        """Wipe what a crash left behind: full slots that no committed row names. Each
        candidate is locked first (a writer keeps its slot locked until its row committed), and
        only then is ``known()`` asked for the rows, so a commit cannot slip in between.
        Temporary files of the store's earlier layout are removed. Returns how many went."""
        del now
        removed = 0
        for entry in os.scandir(self.path):
            if entry.name.startswith(TEMP_PREFIX):
                os.unlink(entry.path)
                removed += 1
        if known is None:
            return removed
        held: list[_Slot] = []
        try:
            for name in self.members():
                slot = _try_lock(self.path / name, want_empty=False)
                if slot is not None:
                    held.append(slot)
            if held:
                names = known() if callable(known) else known
                for slot in held:
                    if slot.path.name not in names:
                        _wipe_fd(slot.fd)
                        removed += 1
        finally:
            for slot in held:
                slot.release()
        return removed

    # -- tied to a database transaction ---------------------------------------------------------

    def settle(self, session, pendings: Iterable[PendingEnvelope]) -> None:
        """When ``session``'s transaction commits, release ``pendings`` (their rows are now
        visible) and cover the store's times; when it rolls back, empty their slots."""
        pendings = list(pendings)

        def committed() -> None:
            for p in pendings:
                p.release()

        def rolled_back() -> None:
            for p in pendings:
                p.discard()

        self._after(session, committed, rolled_back)

    def delete_after_commit(self, session, members: Iterable[str]) -> None:
        """Wipe ``members`` once ``session``'s transaction (which deleted their rows) commits,
        then cover the store's times. A crash in between leaves full slots no row names, which
        the sweep wipes."""
        members = list(members)

        def committed() -> None:
            for m in members:
                self.delete(m)

        self._after(session, committed, None)

    def _after(self, session, on_commit: Callable[[], None],
               on_rollback: Callable[[], None] | None) -> None:
        from sqlalchemy import event

        done = False

        def after_commit(_session) -> None:
            nonlocal done
            if not done:
                done = True
                on_commit()
                self.cover(dt.datetime.now(dt.UTC).date())

        def after_end(_session, transaction) -> None:
            # Ended without a commit: rolled back, or closed (pyramid_tm's abort closes).
            nonlocal done
            if not done and transaction.parent is None:
                done = True
                if on_rollback is not None:
                    on_rollback()

        event.listen(session, "after_commit", after_commit)
        event.listen(session, "after_transaction_end", after_end)

    # -- times ---------------------------------------------------------------------------------

    def cover(self, day: dt.date) -> None:
        """Every slot, then the directory: atime and mtime to midnight of ``day``, and so every
        ctime to this moment."""
        cover_paths([*(self.path / n for n in self._slot_names()), self.path], day)
