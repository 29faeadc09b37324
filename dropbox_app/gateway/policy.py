"""Numbers of the gateway's account policy, in one place.

Throttling is kept per account in the database, not per IP: every request arrives from Tor's
127.0.0.1, so an IP limit would lock out everybody at once (GlobaLeaks' per-IP limits broke
whole offices behind one NAT) and would protect nothing."""

from __future__ import annotations

from dataclasses import dataclass

FREE_FAILURES = 5            # failures before the account locks
FIRST_LOCK_SECONDS = 15 * 60
MAX_LOCK_SECONDS = 24 * 3600


def lock_seconds(failures: int) -> int:
    """How long an account stays locked after its ``failures``-th consecutive failure: nothing
    for the first few, then 15 minutes doubling with every further failure, at most a day."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_LOCK_SECONDS << min(failures - FREE_FAILURES, 16), MAX_LOCK_SECONDS)


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 30 * 60          # SecureDrop journalists: 2 h; a transfer takes minutes
    absolute_seconds: int = 8 * 3600     # a working day at most, whatever the activity
    reauth_seconds: int = 5 * 60         # an admin action needs a login this fresh

    def alive(self, created: float, last_seen: float, now: float) -> bool:
        return (now - last_seen) < self.idle_seconds and (now - created) < self.absolute_seconds

    def fresh(self, reauth_at: float | None, now: float) -> bool:
        return reauth_at is not None and 0 <= now - reauth_at < self.reauth_seconds


DEFAULT_SESSION_POLICY = SessionPolicy()
