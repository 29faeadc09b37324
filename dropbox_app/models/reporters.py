"""Reporters and their reports.

A reporter row is made when the codename is issued (so that a reporter whose first session ended
before sending can carry on with it; unused rows go after a week): the lookup id (derived from
the codename with argon2id) finds it, the X25519 public key is what replies are sealed to."""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, day_column, id_column


class Reporter(Base):
    __tablename__ = "reporters"

    id: Mapped[str] = id_column()
    lookup_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    created_day: Mapped[str] = day_column()

    reports: Mapped[list[Report]] = relationship(back_populates="reporter",
                                                 order_by="Report.created_day")


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[str] = id_column()
    # Unique: a codename files one report (later words are messages on it), and the database
    # holds to that when copies of the first report arrive at once (services.file_report).
    reporter_id: Mapped[str] = mapped_column(ForeignKey("reporters.id"), index=True,
                                             unique=True, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="received")
    created_day: Mapped[str] = day_column()
    # The recipient group, sealed to the reporter's own key (dropbox_app/routing.py): the same
    # 49 random-looking bytes whichever the group. None: filed before groups existed.
    route: Mapped[bytes | None] = mapped_column(LargeBinary(64), nullable=True)

    reporter: Mapped[Reporter] = relationship(back_populates="reports")
