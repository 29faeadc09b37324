"""Server-side gateway sessions.

The cookie carries 32 random bytes; the table keeps their SHA-256, so the database alone opens
no session. A session dies after ``idle_seconds`` without a request and ``absolute_seconds``
after login, whatever happens; logging out deletes the row. ``reauth_at`` records the last
passphrase-and-code check, which admin actions require to be fresh."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from ..models.gateway import GatewaySession, GatewayUser
from .policy import SessionPolicy

COOKIE = "peluit_gw"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class ActiveSession:
    row: GatewaySession
    user: GatewayUser


def start(db: Session, user: GatewayUser, now: float) -> str:
    """A new session for ``user`` (just authenticated); returns the cookie value."""
    token = secrets.token_urlsafe(32)
    t = int(now)
    db.add(GatewaySession(id=_hash(token), user_id=user.id, created_at=t, last_seen_at=t,
                          reauth_at=t))
    db.flush()
    return token


def resume(db: Session, token: str | None, now: float, policy: SessionPolicy
           ) -> ActiveSession | None:
    """The live session behind ``token``, touched; None (and the row deleted) when it expired
    or its user was disabled meanwhile."""
    if not token or len(token) > 128:
        return None
    row = db.get(GatewaySession, _hash(token))
    if row is None:
        return None
    user = db.get(GatewayUser, row.user_id)
    if user is None or not user.active or not policy.alive(row.created_at, row.last_seen_at, now):
        db.delete(row)
        return None
    row.last_seen_at = int(now)
    return ActiveSession(row, user)


def reauthenticated(row: GatewaySession, now: float) -> None:
    row.reauth_at = int(now)


def end(db: Session, token: str | None) -> None:
    if token and len(token) <= 128:
        db.execute(delete(GatewaySession).where(GatewaySession.id == _hash(token)))


def end_all_for(db: Session, user_id: str) -> None:
    """Disabling an account or resetting its credentials ends every session it has."""
    db.execute(delete(GatewaySession).where(GatewaySession.user_id == user_id))


def purge(db: Session, now: float, policy: SessionPolicy) -> int:
    t = int(now)
    result = db.execute(delete(GatewaySession).where(or_(
        GatewaySession.last_seen_at <= t - policy.idle_seconds,
        GatewaySession.created_at <= t - policy.absolute_seconds)))
    return result.rowcount or 0
