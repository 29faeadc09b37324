"""Cover: file-system times that date nothing a reporter or an auditor did.

The store (dropbox_app/store.py) never creates or removes a name when someone acts, and covers
its slots' times after every commit that touched it. This module does the same for the SQLite
database and runs the cover writer:

* **Database files.** Every write transaction moves the mtime and ctime of the database file, its
  ``-wal`` and ``-shm`` (and a read may move an atime). Each time a connection goes back to the
  pool (its transaction over), ``DbTimes`` sets atime and mtime of those files back to midnight
  UTC if they moved, which moves their ctime to that moment: so only the latest transaction
  shows, as a ctime, and it shows on every file alike.
* **A connection held open** (``keep_open``): SQLite deletes the ``-wal`` and ``-shm`` when its
  last connection closes and creates them again at the next one; their birth times, and the
  directory's times, would date that first request. Each app holds one connection from its
  start, so the files are created when the app starts.
* **The cover writer** (``CoverWriter``, started by ``peluit serve``): a thread per app process
  that wakes at random moments (exponentially distributed, mean ``MEAN_SECONDS``), unrelated
  to any request. Each time it purges ended sessions and old throttle rows (so abandoned rows
  go without waiting for a login), wipes orphaned slots, refills the store's pool of free slots
  when it runs low (so new slots are born at these moments, never at a submission), and covers
  the times of the store and of the database files. The latest ctime anywhere is then as likely
  a cover as a reporter. Several app processes or servers each run one; they share nothing but
  the database and the store.

PostgreSQL keeps its own files (docs/deploy.md says what they reveal and which settings limit
it); ``DbTimes`` has nothing to do there."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from .store import POOL_LOW, Store, cover_paths

log = logging.getLogger(__name__)

MEAN_SECONDS = 300.0
_SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def known_members(db: Any) -> set[str]:
    """Every store member a committed row names (submissions and replies)."""
    from .models import Reply, Submission

    return set(db.scalars(select(Submission.member))) | set(db.scalars(select(Reply.member)))


def sqlite_file(engine: Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def sqlite_paths(engine: Engine) -> list[Path]:
    """The database file and the files SQLite keeps beside it."""
    path = sqlite_file(engine)
    return [] if path is None else [Path(f"{path}{s}") for s in _SQLITE_SUFFIXES]


class DbTimes:
    """Pool check-in listener: the SQLite files' atime and mtime back to midnight if moved."""

    def __init__(self, paths: list[Path]):
        self.paths = paths

    def __call__(self, *_args: Any) -> None:
        t = dt.datetime.combine(today(), dt.time(), tzinfo=dt.UTC).timestamp()
        for p in self.paths:
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if st.st_mtime != t or st.st_atime != t:
                # All of them, not only the one that moved: a file left alone would keep the
                # ctime of an earlier transaction.
                cover_paths(self.paths, today())
                return

    def cover(self) -> None:
        """Unconditionally: every ctime to now (the cover writer's moments)."""
        cover_paths(self.paths, today())


def install(engine: Engine) -> DbTimes | None:
    """Cover the SQLite files' times at every pool check-in (dropbox_app/db.make_engine)."""
    paths = sqlite_paths(engine)
    if not paths:
        return None
    times = DbTimes(paths)
    event.listen(engine, "checkin", times)
    return times


_kept: dict[str, sqlite3.Connection] = {}
_kept_lock = threading.Lock()


def keep_open(engine: Engine) -> None:
    """Hold one connection to the SQLite file for the life of the process (see above)."""
    path = sqlite_file(engine)
    if path is None or not path.exists():
        return
    with _kept_lock:
        if str(path) in _kept:
            return
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
        _kept[str(path)] = conn
    DbTimes(sqlite_paths(engine))()


class CoverWriter(threading.Thread):
    """The cover writer of one app process (see the module's docstring)."""

    def __init__(self, engine: Engine, store: Store, clock: Any,
                 mean_seconds: float = MEAN_SECONDS):
        super().__init__(name="peluit-cover", daemon=True)
        self.engine = engine
        self.store = store
        self.clock = clock
        self.mean = mean_seconds
        self._rng = secrets.SystemRandom()
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self._rng.expovariate(1.0 / self.mean)):
            try:
                self.once()
            except Exception:  # a bad moment (disk full, database busy): try at the next one
                log.warning("cover writer: one round failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()

    def once(self) -> None:
        from sqlalchemy import delete, update
        from sqlalchemy.orm import Session

        from .gateway import sessions as gateway_sessions
        from .gateway import totp
        from .gateway.policy import DEFAULT_SESSION_POLICY
        from .models import GatewayUser, Throttle, UsedToken
        from .sessions import Sessions

        with Session(self.engine) as db, db.begin():
            Sessions(db, self.clock).purge()
            # An auditor's session row keeps the second of their last request (a reply upload
            # among them): once it has expired it goes now, not at the next gateway login.
            gateway_sessions.purge(db, self.clock.timestamp(), DEFAULT_SESSION_POLICY)
            # The last TOTP step an account used dates its last sign-in to 30 s. It only matters
            # while a code of that step could still be accepted; after that it is forgotten.
            oldest_acceptable = int(self.clock.timestamp() // totp.STEP) - totp.DRIFT_STEPS
            db.execute(update(GatewayUser).where(GatewayUser.totp_last_step < oldest_acceptable)
                       .values(totp_last_step=None))
            db.execute(delete(Throttle).where(Throttle.purge_day < self.clock.day()))
            db.execute(delete(UsedToken).where(UsedToken.purge_day < self.clock.day()))

        def known() -> set[str]:
            with Session(self.engine) as db:
                return known_members(db)

        self.store.sweep(known)
        if self.store.free_slots() < POOL_LOW:
            self.store.refill()
        self.store.cover(today())
        DbTimes(sqlite_paths(self.engine)).cover()


def start(engine: Engine, store: Store, clock: Any) -> CoverWriter:
    writer = CoverWriter(engine, store, clock)
    writer.start()
    return writer
