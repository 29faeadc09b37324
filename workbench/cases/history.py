"""A case's history, read from the audit log: every entry that names the case (its number) or
its web report (the report id in the details: questions written, files exported, escrow and
authorship steps), oldest first, with the actor's name. The log holds no content, so neither
does the history. Exposed to templates as ``request.case_history(case)``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from policies import auditlog

from .. import db

#: Entries shown on the case page (the oldest are left out past this; the log keeps all).
SHOWN = 200


@dataclass(frozen=True)
class Step:
    seq: int
    at: str
    actor: str  # a member's name, or the key id / system actor the log names
    action: str
    times: int = 1  # the same person doing the same thing in a row (reading) is one line


def case_history(session: Session, number: str, report_id: str | None) -> list[Step]:
    # The entries are canonical JSON (policies/auditlog.py): look for the case's number in the
    # "case" field, and for the report id anywhere, in SQL; then check each parsed entry.
    needles = [f'"case":{json.dumps(number)}'.encode()]
    if report_id:
        needles.append(json.dumps(report_id).encode())
    rows = session.scalars(
        select(db.AuditLogRow)
        .where(or_(*[func.instr(db.AuditLogRow.entry, n) > 0 for n in needles]))
        .order_by(db.AuditLogRow.seq.desc()).limit(SHOWN)).all()
    names = dict(session.execute(select(db.Auditor.key_id, db.Auditor.name)).all())
    out = []
    for row in reversed(rows):
        entry = auditlog.parse_line(row.entry, f"audit_log seq {row.seq}")
        if entry.case != number and (not report_id
                                     or report_id not in entry.details.values()):
            continue
        actor = names.get(entry.actor, entry.actor)
        if out and (out[-1].actor, out[-1].action) == (actor, entry.action):
            last = out[-1]
            out[-1] = Step(last.seq, last.at, actor, entry.action, last.times + 1)
        else:
            out.append(Step(entry.seq, entry.at, actor, entry.action))
    return out


def includeme(config: Any) -> None:
    config.add_request_method(
        lambda request, case: case_history(request.dbsession, case.number, case.report_id),
        "case_history")
