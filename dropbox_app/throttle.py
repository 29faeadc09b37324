"""Limits on the costly and the guessable.

* ``KdfGate``: argon2id is deliberately expensive (64 MiB, ~180 ms). At most as many derivations
  run at once as the machine has cores and memory for; past that the reporter is told "busy, try
  again in a moment" (503) instead of joining a queue that grows without limit.
* ``LoginThrottle``: failed codename logins are counted in the database per attempted lookup id,
  per hour window. The row key is a BLAKE2b hash keyed with the server's local secret
  (dropbox_app/serversecret.py) of the window and the id, and the only time in clear is the day
  the row may be purged: a copy of the table shows neither the hours nor the ids. Not per IP:
  through Tor every visitor is 127.0.0.1. Failures alone are counted, so a reporter's
  successful logins leave no trace at all.

  There is no global lockout by default. A codename has 7 words of 7,776 (90 bits) and the KDF
  gate allows a few derivations a second, so a global cap adds nothing against guessing; but
  anyone could reach it with a few hundred wrong codenames an hour and so lock every reporter
  out of their questions, which is exactly what someone hunting a reporter would want. A
  deployment can still set one (``global_limit``); floods are Tor's PoW defence's to absorb.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from peluit.ground.clock import Clock

from .models import Throttle, UsedToken

GLOBAL_FAILURES_PER_HOUR: int | None = None  # see above: a global lockout is a DoS lever
PER_ID_FAILURES_PER_HOUR = 10


class Busy(Exception):
    """Too many key derivations at once: try again shortly."""


class Throttled(Exception):
    """Too many failed logins in this window."""


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1024 ** 3


def default_kdf_slots(memory_kib: int) -> int:
    """One derivation per core, and no more than half the available memory can hold."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    by_memory = (_mem_available() // 2) // (memory_kib * 1024)
    return max(1, min(cores or 1, by_memory))


class KdfGate:
    def __init__(self, slots: int, wait_seconds: float = 2.0):
        self.slots = slots
        self._sem = threading.BoundedSemaphore(slots)
        self._wait = wait_seconds

    @contextmanager
    def slot(self) -> Iterator[None]:
        # A short wait smooths out bursts; beyond it the answer is "busy", never a long queue.
        if not self._sem.acquire(timeout=self._wait):
            raise Busy()
        try:
            yield
        finally:
            self._sem.release()


THROTTLE_KEY_PURPOSE = b"peluit-throttle"


def row_key(key: bytes, hour: int, lookup_id: bytes | None) -> str:
    """The row key of one window's counter: keyed, so that neither the hour nor the lookup id
    can be read back or tested without the server's secret (the table must not become a list
    of ids, nor a log of the hours someone tried to log in)."""
    h = hashlib.blake2b(key=key, digest_size=24, person=THROTTLE_KEY_PURPOSE)
    h.update(b"login\0" + hour.to_bytes(8, "big"))
    if lookup_id is not None:
        h.update(b"\0id\0" + lookup_id)
    return h.hexdigest()


class LoginThrottle:
    def __init__(self, db: Session, clock: Clock,
                 global_limit: int | None = GLOBAL_FAILURES_PER_HOUR,
                 per_id_limit: int = PER_ID_FAILURES_PER_HOUR, *, key: bytes):
        self.db = db
        self.key = key
        self.clock = clock
        self.global_limit = global_limit
        self.per_id_limit = per_id_limit

    def _keys(self, lookup_id: bytes | None) -> list[tuple[str, int]]:
        hour = self.clock.hour()
        keys = ([] if self.global_limit is None
                else [(row_key(self.key, hour, None), self.global_limit)])
        if lookup_id is not None:
            keys.append((row_key(self.key, hour, lookup_id), self.per_id_limit))
        return keys

    def check(self, lookup_id: bytes | None = None) -> None:
        """Raise Throttled if this window has seen too many failures (before the KDF runs,
        for the global window; after it, for the lookup id)."""
        for key, limit in self._keys(lookup_id):
            count = self.db.scalar(select(Throttle.count).where(Throttle.key == key))
            if count is not None and count >= limit:
                raise Throttled()

    def failed(self, lookup_id: bytes | None) -> None:
        import datetime as dt

        # The window ends within the hour; the row goes once its day is over (a day, never the
        # hour, in clear).
        purge = (self.clock.today() + dt.timedelta(days=1)).isoformat()
        insert = _dialect_insert(self.db)
        for key, _ in self._keys(lookup_id):
            # One statement, so that two servers counting the same window cannot collide.
            stmt = insert(Throttle).values(key=key, count=1, purge_day=purge)
            self.db.execute(stmt.on_conflict_do_update(
                index_elements=[Throttle.key], set_={"count": Throttle.count + 1}))

    def purge(self) -> None:
        self.db.execute(delete(Throttle).where(Throttle.purge_day < self.clock.day()))
        self.db.execute(delete(UsedToken).where(UsedToken.purge_day < self.clock.day()))


def token_hash(token: str) -> str:
    return hashlib.blake2b(token.encode(), digest_size=32, person=b"peluit-form-tok").hexdigest()


def spend_token(db: Session, clock: Clock, token: str) -> bool:
    """Mark a one-time form token used; False if it was already spent (a second submit).
    Flushes at once, so two concurrent submits of one form meet on the primary key."""
    import datetime as dt

    purge = (clock.today() + dt.timedelta(days=2)).isoformat()
    db.add(UsedToken(token_hash=token_hash(token), purge_day=purge))
    try:
        db.flush()
    except IntegrityError:
        return False
    return True


def token_spent(db: Session, token: str) -> bool:
    return db.get(UsedToken, token_hash(token)) is not None


def _dialect_insert(db: Session):
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
