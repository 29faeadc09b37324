"""The gateway's admin log: every change to accounts, auditor cards and server keys, every
lockout, every bundle transfer and every retention run that deleted something, as a hash chain
in the workbench audit log's format (policies/auditlog.py).

Why it leaves the server: whoever is root on the server can rewrite a log kept only there. So
each inbox bundle carries the newest ``WINDOW`` entries inside its signed manifest, and the
workbench keeps every entry it was shown (workbench/gatewaylog.py). An entry changed or dropped
after a bundle carried it, or a gap in the numbering, is reported on the air-gapped side, where
the server's admin cannot reach. What this cannot catch: an action erased before any bundle
carried it. The import's recipient check still catches the most harmful one, a card enrolled
behind the team's back, because every envelope names its recipients.

Entries name staff (gateway user names, auditor card names and key ids) and never anything of a
reporter. Their time is the day, as everywhere on the server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import auditlog

from ..models.gateway import AdminLogHead, AdminLogRow

#: The actor of commands typed in the server shell (`peluit gateway-user ...`): not a valid
#: user name, so it cannot be confused with one.
SHELL = "(server shell)"
#: The actor of what the gateway does by itself (a lockout, the end of a key rotation).
GATEWAY = "(gateway)"
#: Entries each inbox bundle carries: years of admin work, a few hundred kilobytes at most.
WINDOW = 1000


def _head(db: Session) -> AdminLogHead:
    # FOR UPDATE (PostgreSQL): a second admin action waits for this transaction, then reads
    # the head it left.
    head = db.scalar(select(AdminLogHead).where(AdminLogHead.id == 1).with_for_update())
    if head is None:  # a database built from the models rather than the migrations
        head = AdminLogHead(id=1, seq=0, hash=auditlog.GENESIS)
        db.add(head)
    return head


def record(db: Session, day: str, actor: str, action: str,
           details: Mapping[str, Any] | None = None) -> auditlog.Entry:
    """Append one entry in the caller's transaction: it commits or rolls back with the action."""
    head = _head(db)
    entry = auditlog.Entry(seq=head.seq + 1, prev=head.hash, at=day, actor=actor, action=action,
                           details=dict(details or {}))
    db.add(AdminLogRow(seq=entry.seq, entry=entry.to_bytes(), hash=entry.hash))
    head.seq, head.hash = entry.seq, entry.hash
    db.flush()
    return entry


def _load(rows: list[AdminLogRow]) -> list[auditlog.Entry]:
    return [auditlog.parse_line(r.entry, f"admin_log seq {r.seq}") for r in rows]


def newest(db: Session, limit: int | None = None) -> list[auditlog.Entry]:
    """The last ``limit`` (default ``WINDOW``) entries, oldest first."""
    rows = list(db.scalars(select(AdminLogRow).order_by(AdminLogRow.seq.desc())
                           .limit(WINDOW if limit is None else limit)))
    return _load(rows[::-1])


def for_bundle(db: Session) -> list[dict[str, Any]]:
    """What an inbox bundle carries: the newest entries as plain dicts with their hashes."""
    return [{**e.to_dict(), "hash": e.hash} for e in newest(db)]
