"""Writing the workbench's audit log (the chain itself is policies/auditlog.py).

Entries name actors by key id and cases by id; ``details`` must never hold reporter content,
because the log is plain (``peluit audit verify`` reads it without the vault key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peluit.ground.clock import Clock
from policies import auditlog

from . import db


def _now() -> str:
    return Clock().now().strftime("%Y-%m-%dT%H:%MZ")  # an instant, in UTC


def last_entry(session: Session) -> auditlog.Entry | None:
    row = session.scalars(select(db.AuditLogRow).order_by(db.AuditLogRow.seq.desc()).limit(1)
                          ).first()
    if row is None:
        return None
    return auditlog.parse_line(row.entry, f"audit_log seq {row.seq}")


def record(session: Session, actor: str, action: str, case: str | None = None,
           details: Mapping[str, Any] | None = None, at: str | None = None) -> auditlog.Entry:
    """Append one entry in the caller's transaction (it commits or rolls back with the work)."""
    entry = auditlog.append(last_entry(session), at=at or _now(), actor=actor, action=action,
                            case=case, details=details)
    session.add(db.AuditLogRow(seq=entry.seq, entry=entry.to_bytes(), hash=entry.hash))
    session.flush()
    return entry
