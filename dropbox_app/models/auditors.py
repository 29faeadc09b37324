"""Enrolled auditor cards: every submission is sealed to the box key of each active card."""

from __future__ import annotations

from sqlalchemy import Boolean, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, day_column


class AuditorCard(Base):
    __tablename__ = "auditor_cards"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the card's sign key id
    card: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)   # canonical card bytes
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    enrolled_day: Mapped[str] = day_column()
    # "inspectorate" (the auditors) or "conflict" (who reads reports about the inspectorate
    # itself, dropbox_app/routing.py): a card is in one group only.
    recipient_group: Mapped[str] = mapped_column(String(16), nullable=False,
                                                 default="inspectorate",
                                                 server_default="inspectorate")
