"""Appending case changes to the hash-chained audit log (policies/auditlog.py defines the chain).

Entries never hold reporter content: the action, the case number, the actor's key id and codes
(a decision, a status, a link). Free text stays in the encrypted case fields."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import auditlog

from .models import AuditRow


def append(session: Session, *, at: dt.datetime, actor: str, action: str, case: str | None,
           details: Mapping[str, Any] | None = None) -> auditlog.Entry:
    last = session.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).first()
    prev = None
    if last is not None:
        prev = auditlog.parse_line(last.entry, f"audit_log seq {last.seq}")
    entry = auditlog.append(prev, at=at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                            actor=actor, action=action, case=case, details=details)
    raw = entry.to_bytes()
    session.add(AuditRow(seq=entry.seq, entry=raw, hash=hashlib.sha256(raw).hexdigest()))
    session.flush()
    return entry


def entries(session: Session) -> list[auditlog.Entry]:
    rows = session.scalars(select(AuditRow).order_by(AuditRow.seq)).all()
    return [auditlog.Entry.from_dict({**auditlog.parse_line(r.entry, "audit_log").to_dict(),
                                      "hash": r.hash}) for r in rows]
