"""The global budget for failed codename logins, and the count an admin sees.

Guessing a whole codename is hopeless (7 words of 7,776: 90 bits), but someone who knows part of
one (a few words glimpsed on a desk) can try the rest, and an admin should know that an attack is
going on. There is no address to key a limit on (through Tor every visitor is 127.0.0.1), so the
budget is global, and what it does once spent must never lock a real reporter out:

* ``LoginBudget`` (this server process, in memory): while more than ``per_minute`` logins failed
  in the last minute, logins no longer start as fast as they arrive but at ``pace`` a second, in
  arrival order, each told its turn when it comes in. A reporter waits behind the requests
  already waiting (32 guessing threads: about 11 s at 3 a second), then logs in; nothing is
  locked and the successful login leaves no trace. A login whose turn would be more than
  ``max_wait`` away is answered "busy, try again" (503) at once, so the wait has a bound. The
  wait happens before the key derivation and before any database access: a waiting request holds
  a worker thread, never an argon2 slot or a database connection. Guessing drops from what the
  KDF allows (~600 a minute) to ``pace`` (180 a minute). The pace keeps a reporter's wait behind
  32 guessers well inside the 20 s for which the HTTP server's ``kdf`` lane queues a login.
  The window is kept in memory and not in the database on purpose: a row per minute would be a
  record of when logins happened, which the server must not keep (docs/engineering.md). Several
  app servers each keep their own budget.
* ``count_failure`` / ``close_past_days`` (database): the number of failed codename logins of each
  day (``login_failure_days``), shown on the gateway's admin page and, once the day is over,
  written to the gateway's admin log as ``reporter.login_failures`` with the day and the count.
  A day and a number: nothing of any codename, lookup id or hash of one.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .db import dialect_insert
from .models import LoginFailureDay
from .throttle import Busy

FAILURES_PER_MINUTE = 30   # more failures than this in a minute: logins are paced
PACE_PER_SECOND = 3.0      # logins started per second while paced
MAX_WAIT_SECONDS = 25.0    # a turn further away than this: "busy, try again" at once
KEEP_DAYS = 60             # days of counts kept for the admin page
LOG_ACTION = "reporter.login_failures"


class LoginBudget:
    def __init__(self, per_minute: int = FAILURES_PER_MINUTE, pace: float = PACE_PER_SECOND,
                 max_wait: float = MAX_WAIT_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.per_minute = per_minute
        self.interval = 1.0 / pace
        self.max_wait = max_wait
        self._now = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._failures: deque[float] = deque()  # monotonic seconds, this process only
        self._next_turn = 0.0

    def _prune(self, now: float) -> None:
        while self._failures and self._failures[0] <= now - 60.0:
            self._failures.popleft()

    def spent(self) -> bool:
        with self._lock:
            self._prune(self._now())
            return len(self._failures) >= self.per_minute

    def wait_turn(self) -> float:
        """Before a login's key derivation: return at once while the budget lasts; once spent,
        sleep until this login's turn (raise Busy if it is too far). Returns the seconds
        waited."""
        with self._lock:
            now = self._now()
            self._prune(now)
            if len(self._failures) < self.per_minute:
                return 0.0
            turn = max(now, self._next_turn)
            if turn - now > self.max_wait:
                raise Busy()
            self._next_turn = turn + self.interval
        wait = turn - now
        if wait > 0:
            self._sleep(wait)
        return wait

    def failed(self) -> None:
        with self._lock:
            now = self._now()
            self._prune(now)
            self._failures.append(now)


# --- the daily count ----------------------------------------------------------------------------

def count_failure(db: Session, day: str) -> None:
    """One more failed codename login today (one statement: servers counting at once agree)."""
    table = LoginFailureDay.__table__
    stmt = dialect_insert(db)(table).values(day=day, count=1, logged=False)
    db.execute(stmt.on_conflict_do_update(index_elements=[table.c.day],
                                          set_={"count": table.c.count + 1}))


def close_past_days(db: Session, today: dt.date) -> int:
    """Write each finished day's count to the gateway's admin log (once), and forget counts older
    than ``KEEP_DAYS``. Returns the number of entries written. Called where a write happens
    anyway: a failed login, the admin page, an inbox download."""
    from .gateway import adminlog

    day = today.isoformat()
    written = 0
    pending = db.execute(select(LoginFailureDay.day).where(
        LoginFailureDay.day < day, LoginFailureDay.logged.is_(False))
        .order_by(LoginFailureDay.day)).scalars().all()
    for past in pending:
        # Claimed by one UPDATE: of two servers closing the same day, one writes the entry (the
        # other's UPDATE waits for it, then matches no row).
        claimed = db.execute(update(LoginFailureDay)
                             .where(LoginFailureDay.day == past, LoginFailureDay.logged.is_(False))
                             .values(logged=True)
                             .returning(LoginFailureDay.count)).scalar_one_or_none()
        if claimed is None:
            continue
        adminlog.record(db, day, adminlog.GATEWAY, LOG_ACTION,
                        {"day": past, "failed_logins": claimed})
        written += 1
    cutoff = (today - dt.timedelta(days=KEEP_DAYS)).isoformat()
    db.execute(delete(LoginFailureDay).where(LoginFailureDay.day < cutoff,
                                             LoginFailureDay.logged.is_(True)))
    return written


def recent(db: Session, today: dt.date, days: int = 7) -> list[tuple[str, int]]:
    """(day, count) for the last ``days`` days, newest first, days without failures as 0."""
    first = today - dt.timedelta(days=days - 1)
    counts = dict(db.execute(select(LoginFailureDay.day, LoginFailureDay.count)
                             .where(LoginFailureDay.day >= first.isoformat())).all())
    return [((today - dt.timedelta(days=i)).isoformat(),
             counts.get((today - dt.timedelta(days=i)).isoformat(), 0)) for i in range(days)]
