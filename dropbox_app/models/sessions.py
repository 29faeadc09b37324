"""Server-side reporter sessions.

The row is found by a hash of the random token in the cookie; everything in it (the reporter's
private key, the lookup id, the times the session uses) is sealed under a key derived from that
token, which the server never stores. So the database alone opens no session and says not which
reporter was active when. ``purge_hour`` (hours since the epoch) only lets stale rows be swept."""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ReporterSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    purge_hour: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
