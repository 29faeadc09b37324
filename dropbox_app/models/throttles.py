"""Shared counters for login throttling, and one-time form tokens.

Kept in the database, not in process memory, so that several app servers behind one onion
address (Onionbalance) agree, and a restart does not reset them. Rows carry no reporter identity
and no hour: the key is a BLAKE2b hash, keyed with a secret of the deployment, of the window (an
hour) and, for per-id counters, the attempted lookup id; only the day the row may go is in
clear."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Throttle(Base):
    __tablename__ = "throttles"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    purge_day: Mapped[str] = mapped_column(String(10), nullable=False, index=True)


class UsedToken(Base):
    """A one-time form token already spent: a second submit of the same form is refused."""

    __tablename__ = "used_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # A day, not an hour: the row is written with a submission, and must not date it finer.
    purge_day: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
