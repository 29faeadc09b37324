"""Server-side reporter sessions.

The row is found by a hash of the random token in the cookie; everything in it (the reporter's
private key, the lookup id, the times the session uses) is sealed under a key derived from that
token, which the server never stores. So the database alone opens no session and says not which
reporter was active when. ``purge_day`` (``YYYY-MM-DD``, the day after which the row is
past its absolute lifetime) only lets stale rows be swept: a day, never an hour, so the column
does not date a session finer than the rest of the database."""

from __future__ import annotations

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReporterSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    purge_day: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
