"""Reporter sessions, held on the server; the cookie carries only a random token.

The row id is a hash of the token. The row's contents (the reporter's X25519 private key, the
lookup id, the session's own times) are sealed with XChaCha20-Poly1305 under a key derived from
the token, so a copy of the database opens no session. The codename itself is never kept: only
the keys derived from it. Idle sessions end after 30 minutes, every session after 2 hours, and
logging out deletes the row."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from typing import Any

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey
from sqlalchemy import delete
from sqlalchemy.orm import Session

from peluit.ground.clock import Clock

from .models import ReporterSession

COOKIE = "peluit_session"
IDLE_SECONDS = 30 * 60
ABSOLUTE_SECONDS = 2 * 60 * 60
_TOKEN_BYTES = 32


@dataclass
class SessionData:
    """What a session remembers, in memory only, once opened."""

    private_key: bytes
    lookup_id: bytes
    reporter_id: str | None  # None until the first report makes the reporter row
    confirmed: bool  # the reporter said they wrote the codename down
    created: float
    last_seen: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> PrivateKey:
        return PrivateKey(self.private_key)

    def _encode(self) -> bytes:
        return json.dumps({
            "k": base64.b64encode(self.private_key).decode(),
            "l": base64.b64encode(self.lookup_id).decode(),
            "r": self.reporter_id, "c": self.confirmed,
            "t0": self.created, "t1": self.last_seen, "x": self.extra,
        }, separators=(",", ":")).encode()

    @classmethod
    def _decode(cls, raw: bytes) -> SessionData:
        d = json.loads(raw)
        return cls(base64.b64decode(d["k"]), base64.b64decode(d["l"]), d["r"], d["c"],
                   d["t0"], d["t1"], d.get("x", {}))


def _row_id(token: str) -> str:
    return hashlib.blake2b(token.encode(), digest_size=32, person=b"peluit-sess-id").hexdigest()


def _seal_key(token: str) -> bytes:
    return hashlib.blake2b(token.encode(), digest_size=32, person=b"peluit-sess-key").digest()


def _seal(token: str, row_id: str, data: SessionData) -> bytes:
    nonce = os.urandom(24)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(data._encode(), row_id.encode(), nonce,
                                                    _seal_key(token))
    return nonce + ct


def _open(token: str, row_id: str, sealed: bytes) -> SessionData | None:
    try:
        raw = crypto_aead_xchacha20poly1305_ietf_decrypt(sealed[24:], row_id.encode(),
                                                         sealed[:24], _seal_key(token))
    except (NaclCryptoError, ValueError):
        return None
    return SessionData._decode(raw)


def _purge_day(created: float) -> str:
    """The day the session is surely over (its absolute end, rounded up to the next day): the
    row shows that day, never the hour it was made."""
    import datetime as dt

    end = dt.datetime.fromtimestamp(created + ABSOLUTE_SECONDS, dt.UTC).date()
    return (end + dt.timedelta(days=1)).isoformat()


class SessionExpired(Exception):
    """The cookie names a session that ended (timed out or logged out)."""


class Sessions:
    """Create, open, save and end sessions. One instance per request."""

    def __init__(self, db: Session, clock: Clock):
        self.db = db
        self.clock = clock

    def create(self, private_key: PrivateKey, lookup_id: bytes, reporter_id: str | None,
               confirmed: bool) -> tuple[str, SessionData]:
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        now = self.clock.timestamp()
        data = SessionData(bytes(private_key), lookup_id, reporter_id, confirmed, now, now)
        row_id = _row_id(token)
        self.db.add(ReporterSession(id=row_id, sealed=_seal(token, row_id, data),
                                    purge_day=_purge_day(now)))
        return token, data

    def open(self, token: str | None) -> SessionData | None:
        """The live session for ``token``; None when there is no cookie; SessionExpired when
        the cookie names a session that has ended. The ended row is not deleted here: a write
        would take SQLite's write lock for the rest of the request (an upload sent on a compose
        grant streams after this); whoever answers deletes it (``end``), and ``purge`` sweeps
        what is left."""
        if not token or len(token) > 64:
            return None
        row_id = _row_id(token)
        row = self.db.get(ReporterSession, row_id)
        data = _open(token, row_id, row.sealed) if row is not None else None
        if data is None:
            raise SessionExpired()
        now = self.clock.timestamp()
        if now - data.last_seen > IDLE_SECONDS or now - data.created > ABSOLUTE_SECONDS:
            raise SessionExpired()
        return data

    def save(self, token: str, data: SessionData) -> None:
        """Write the session back (called after the view, so a long upload holds no lock)."""
        data.last_seen = self.clock.timestamp()
        row_id = _row_id(token)
        row = self.db.get(ReporterSession, row_id)
        if row is not None:
            row.sealed = _seal(token, row_id, data)

    def end(self, token: str | None) -> None:
        if token:
            self.db.execute(delete(ReporterSession).where(ReporterSession.id == _row_id(token)))

    def purge(self) -> int:
        """Delete every session past its absolute lifetime (rows whose purge day has begun).
        Called where a write happens anyway, and by the cover writer (dropbox_app/cover.py) at
        random moments, so abandoned rows go without waiting for someone to log in."""
        res = self.db.execute(delete(ReporterSession)
                              .where(ReporterSession.purge_day <= self.clock.day()))
        return res.rowcount or 0
