"""Numbers of the gateway's account policy, in one place.

Throttling is kept per account in the database, not per IP: every request arrives from Tor's
127.0.0.1, so an IP limit would lock out everybody at once (GlobaLeaks' per-IP limits broke
whole offices behind one NAT) and would protect nothing."""

from __future__ import annotations

from dataclasses import dataclass

FREE_FAILURES = 5            # failed sign-ins before attempts are delayed
FIRST_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 3600


def delay_seconds(failures: int) -> int:
    """After an account's ``failures``-th consecutive failure: how long sign-ins without a fresh
    code are refused unchecked. Nothing for the first few, then a minute doubling with every
    further failure, at most an hour.

    A delay, not a lock: a sign-in with a code the account has not used yet is always checked,
    delay or not, and a correct passphrase with it always passes. An outsider who knows a user
    name can run up the failures, but cannot make a code, so cannot keep the real user out;
    and while the delay runs, their guesses are refused at the same cost without being checked
    or counted (counting them would let them stretch the delay forever)."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_DELAY_SECONDS << min(failures - FREE_FAILURES, 16), MAX_DELAY_SECONDS)


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
