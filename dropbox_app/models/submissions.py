"""What reporters sent (``submissions``) and what the workbench answered (``replies``).

Both point at an envelope in the store (``member``, ``<id>.env``). The server cannot open either:
submissions are sealed to the auditor cards, replies to the reporter's key."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, day_column, id_column
from .reporters import Report


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[str] = id_column()
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    member: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    padded_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_day: Mapped[str] = day_column()
    acked_day: Mapped[str | None] = day_column(nullable=True)

    report: Mapped[Report] = relationship()


class SubmissionAck(Base):
    """One recipient group's acknowledgment of a submission (dropbox_app/gateway/acks.py).

    Every group's workbench acknowledges every submission of a bundle it imported, the ones it
    could open and the ones sealed to the other group alike, so these rows are the same for
    every submission and tell no one which group it went to. No day: the submission's
    ``acked_day`` is set once every group with an active card has acknowledged it."""

    __tablename__ = "submission_acks"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    recipient_group: Mapped[str] = mapped_column(String(16), primary_key=True)


class Reply(Base):
    __tablename__ = "replies"

    id: Mapped[str] = id_column()
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    member: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    padded_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_day: Mapped[str] = day_column()
    read_day: Mapped[str | None] = day_column(nullable=True)

    report: Mapped[Report] = relationship()
