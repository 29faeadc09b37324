"""Case tables in the vault database (on ``workbench.db.Base``, created by ``db.create_schema``).

What is plain and what is encrypted, and why:

* Plain: the workflow metadata that lists, filters, deadlines and the compliance officer's
  statistics need without the vault key (a compliance officer's session has none): case number,
  channel, state, category code, darwas flag, decision and outcome codes, the day received (day
  granularity, as the server keeps it) and due dates. These say that a complaint exists and how
  it is handled, which the audit log says too.
* Encrypted under the vault key (``db.EncryptedJSON`` / ``EncryptedText``): everything a
  reporter wrote, every free text an auditor or lead wrote (review, reasons, notes), loan
  purposes. The JSON values also carry their case id, checked on reading, because the column
  encryption binds a value to its column but not to its row: a value copied into another case
  is refused instead of shown there.
* Duplicate sketches are keyed hashes (BLAKE2b under a vault subkey): without the vault key they
  reveal only that two cases share phrases, which the duplicate links reveal anyway.

A web case refers to the vault's report by its (random, server-assigned) id; its questions are
the vault's ``replies`` and its answers the vault's ``submissions`` of that report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from workbench.db import Base, EncryptedJSON, EncryptedText


class Case(Base):
    __tablename__ = "cases"
    # Encrypted columns are deferred: lists and a compliance officer's pages (no vault key)
    # never load, let alone decrypt, them.

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    coarse: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(32))
    darwas: Mapped[bool | None] = mapped_column(Boolean)
    decision: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(24))
    policy_improvement: Mapped[bool] = mapped_column(Boolean, default=False)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_day: Mapped[dt.date] = mapped_column(Date)
    acknowledged_day: Mapped[dt.date | None] = mapped_column(Date)
    verified_day: Mapped[dt.date | None] = mapped_column(Date)
    decided_day: Mapped[dt.date | None] = mapped_column(Date)
    closed_day: Mapped[dt.date | None] = mapped_column(Date)
    due_acknowledge: Mapped[dt.date] = mapped_column(Date)
    due_verify: Mapped[dt.date] = mapped_column(Date)
    due_complete: Mapped[dt.date] = mapped_column(Date)
    eu_acknowledge: Mapped[dt.date] = mapped_column(Date)
    eu_feedback: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[Any] = mapped_column(EncryptedJSON("case.content"), deferred=True)
    review: Mapped[Any | None] = mapped_column(EncryptedJSON("case.review"), deferred=True)
    decision_reason: Mapped[Any | None] = mapped_column(EncryptedJSON("case.decision_reason"),
                                                         deferred=True)
    outcome_note: Mapped[Any | None] = mapped_column(EncryptedJSON("case.outcome_note"),
                                                      deferred=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # Bumped on every change (max + 1): the in-memory catalog re-reads only rows above the
    # revision it has seen. A counter, not a time: two changes can share a timestamp.
    rev: Mapped[int] = mapped_column(Integer, index=True, default=0)

    __table_args__ = (
        Index("ix_cases_received", "received_day", "id"),
        Index("ix_cases_state", "state", "received_day", "id"),
        Index("ix_cases_category", "category", "received_day", "id"),
        Index("ix_cases_channel", "channel", "received_day", "id"),
        Index("ix_cases_due", "due_complete"),
    )


class CaseLink(Base):
    """A relation between two cases: ``related`` (earlier records of the same matter, set in
    review), ``duplicate`` (flagged by the sketch, ``score`` in percent), ``confirmed`` (an
    auditor linked the duplicate to its earlier case)."""

    __tablename__ = "case_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (UniqueConstraint("case_id", "other_id", "kind"),)


class CaseEvent(Base):
    """Notes in the case's thread (contacts with an off-line reporter, verification findings,
    reasons for reopening). Questions and answers of web reporters are the vault's own rows."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))   # note | finding | reopen | contact
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    body: Mapped[Any] = mapped_column(EncryptedJSON("case_event.body"), deferred=True)


class CaseSketch(Base):
    """Bottom-k keyed shingle hashes of a case's text, for near-duplicate lookup."""

    __tablename__ = "case_sketches"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    h: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    __table_args__ = (Index("ix_case_sketches_h", "h"),)


class Agency(Base):
    """An outside agency or a unit cases can be forwarded to, with its OpenPGP key."""

    __tablename__ = "case_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # kpk | ombudsman | lpsk | police | apip | unit
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)


class Forward(Base):
    __tablename__ = "case_forwards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("case_agencies.id"))
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(100))


class FileLoan(Base):
    """Circulation of a case's physical file (berkas)."""

    __tablename__ = "case_file_loans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    borrower: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str | None] = mapped_column(EncryptedText("case_file_loan.purpose"),
                                                 deferred=True)
    borrowed_day: Mapped[dt.date] = mapped_column(Date)
    due_back_day: Mapped[dt.date | None] = mapped_column(Date)
    returned_day: Mapped[dt.date | None] = mapped_column(Date)
    lent_by: Mapped[str] = mapped_column(String(64))
    received_by: Mapped[str | None] = mapped_column(String(64))


class RetaliationFlag(Base):
    """A reporter said, with their codename, that they face retaliation (one ``retaliation``
    submission): the case is flagged for the compliance officer with its own deadline. Plain
    columns only but the reason, so the compliance officer's pages (no vault key) can list it;
    the reason is sealed to the vault's box key, because a compliance officer may write it
    without holding the vault key, and only key holders (leads) read it back."""

    __tablename__ = "case_retaliation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), unique=True)
    flagged_day: Mapped[dt.date] = mapped_column(Date)
    due_day: Mapped[dt.date] = mapped_column(Date)
    handled_day: Mapped[dt.date | None] = mapped_column(Date)
    handled_by: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class CaseSeen(Base):
    """How far the team has read a web case's conversation: the highest import ``seq`` of the
    reporter's submissions when a key holder last opened the case page. What the reporter sent
    after it is "not yet read" on the home page. A sequence number only, no content."""

    __tablename__ = "case_seen"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)


class CaseAssignment(Base):
    """A lead assigned this member (their key id) to the case (workbench/cases/access.py). A
    case with assignments is open to its assignees and the leads only. Covered by the vault's
    seal (workbench/trust.py): a row added or removed behind the workbench's back is refused."""

    __tablename__ = "case_assignments"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
    by: Mapped[str] = mapped_column(String(32))


class CaseRecusal(Base):
    """The member declared a conflict of interest on the case: they are excluded from it, lead
    or not, for good (a recusal is not withdrawn; the audit log keeps the declaration). Sealed
    like the assignments: deleting a recusal would let the member back in."""

    __tablename__ = "case_recusals"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10))
