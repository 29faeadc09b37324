"""What the workbench will send back: questions and messages for reporters, coarse status
changes. Everything queued here leaves with the next ``export-replies``."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from peluit.ground.clock import Clock

from . import db
from .i18n import N_

MAX_REPLY_CHARS = 100_000
REPLY_KINDS = ("question", "message")


class OutboxError(ValueError):
    """Bad input for a reply or a status change; the message is an English msgid of the
    workbench catalog, so views translate it with ``request.gettext(str(exc))``."""


def queue_reply(session: Session, report_id: str, author: str, text: str,
                kind: str = "question", today: dt.date | None = None) -> db.Reply:
    """Write a question or message to the reporter of ``report_id`` (needs ``db.unlocked``)."""
    if kind not in REPLY_KINDS:
        raise OutboxError(N_("Unknown reply kind."))
    text = text.strip()
    if not text:
        raise OutboxError(N_("The question is empty."))
    if len(text) > MAX_REPLY_CHARS:
        raise OutboxError(N_("The question is too long."))
    if session.get(db.Report, report_id) is None:
        raise OutboxError(N_("No such report."))
    seq = (session.scalar(select(func.max(db.Reply.seq))) or 0) + 1
    reply = db.Reply(id=secrets.token_hex(16), seq=seq, report_id=report_id, kind=kind,
                     text=text, author=author,
                     created_day=(today or Clock().today()).isoformat())
    session.add(reply)
    session.flush()
    return reply


def queue_status(session: Session, report_id: str, status: str, author: str,
                 today: dt.date | None = None) -> db.StatusChange:
    """Tell the reporter a coarse status (never findings) with the next reply bundle."""
    if status not in db.REPORT_STATUSES:
        raise OutboxError(N_("Unknown status."))
    if session.get(db.Report, report_id) is None:
        raise OutboxError(N_("No such report."))
    change = db.StatusChange(report_id=report_id, status=status, author=author,
                             created_day=(today or Clock().today()).isoformat())
    session.add(change)
    session.flush()
    return change
