"""The gateway's admin log as the workbench sees it (written by dropbox_app/gateway/adminlog.py).

Each inbox bundle carries the newest entries of the gateway's hash-chained admin log in its signed
manifest. The workbench keeps every entry it is shown and, at each import, compares:

* the entries must form one chain (policies/auditlog.py, ``verify_window``);
* an entry the workbench saw before must come back unchanged (``rewritten``);
* the log must not end before the last entry seen (``truncated``);
* the entries must follow on from the last one seen, with no numbers skipped (``deleted``).

A problem is reported, recorded in the audit log and printed by the import, but does not refuse
the bundle: the submissions in it are the reporters' and are still authentic (the bundle's
signature covers them). New entries are kept only when the chain holds together, so a problem is
reported again at every import until a lead has looked into it and runs
``peluit workbench gateway-log forget-after N``: the vault then forgets what it kept after entry
N and takes the gateway's entries from there at the next import (after a restore of an older
server backup, N is the last entry the restored log has)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from policies import auditlog

from . import audit, db
from .i18n import N_
from .vault import Unlocked, VaultError

#: A gateway sends at most a thousand entries (adminlog.WINDOW); more is not an admin log.
MAX_ENTRIES = 5000
MAX_ENTRY_BYTES = 4096


class GatewayLogError(ValueError):
    """The bundle's admin log is not in the documented format."""


@dataclass
class Outcome:
    new: list[auditlog.Entry] = field(default_factory=list)
    problems: list[LogProblem] = field(default_factory=list)


def parse(raw: Any) -> list[auditlog.Entry]:
    """The entries of a bundle body's ``admin_log`` (None: a body without one)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise GatewayLogError("the bundle's admin log is not a list of entries")
    entries = []
    for item in raw:
        try:
            entry = auditlog.Entry.from_dict(item)
        except auditlog.AuditFormatError:
            raise GatewayLogError("an entry of the bundle's admin log is malformed") from None
        if entry.stored_hash is None or len(entry.to_bytes()) > MAX_ENTRY_BYTES:
            raise GatewayLogError("an entry of the bundle's admin log is malformed")
        entries.append(entry)
    return entries


def _seen(session: Session) -> dict[int, str]:
    return dict(session.execute(select(db.GatewayLogRow.seq, db.GatewayLogRow.hash)).all())


@dataclass(frozen=True)
class LogProblem:
    """One thing wrong with a bundle's admin log. ``text`` is an English msgid of the workbench
    catalog with ``%(name)s`` placeholders filled from ``params``: the page shows it translated,
    the CLI and the audit log in English (``str``)."""

    kind: str  # edited, deleted, inserted, reordered, rewritten, truncated
    text: str
    params: dict[str, int | str]

    def __str__(self) -> str:
        return f"gateway admin log {self.kind}: {self.text % self.params}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "params": self.params}


CHAIN = N_("The entries do not hold together at entry %(seq)s (%(kind)s: %(detail)s).")
CHANGED = N_("Entry %(seq)s differs from the one an earlier bundle carried.")
UNLINKED = N_("Entry %(seq)s does not follow entry %(prev)s that an earlier bundle carried.")
CUT_SHORT = N_("An earlier bundle carried entries up to %(seen)s; this one ends at %(last)s.")
NEVER_SHOWN = N_("Entries %(first)s to %(last)s were never shown to the workbench.")


def compare(seen: dict[int, str], entries: Sequence[auditlog.Entry]) -> list[LogProblem]:
    """Every problem of ``entries`` (a bundle's window, oldest first) against what was seen."""
    problems = [LogProblem(p.kind, CHAIN, {"seq": p.seq or 0, "kind": p.kind,
                                           "detail": p.message})
                for p in auditlog.verify_window(entries)]
    last_seen = max(seen, default=0)
    last = entries[-1].seq if entries else 0
    for e in entries:
        if e.seq in seen and seen[e.seq] != e.hash:
            problems.append(LogProblem("rewritten", CHANGED, {"seq": e.seq}))
    if last < last_seen:
        problems.append(LogProblem("truncated", CUT_SHORT, {"seen": last_seen, "last": last}))
    if entries and last_seen:
        first = entries[0]
        if first.seq > last_seen + 1:
            problems.append(LogProblem("deleted", NEVER_SHOWN,
                                       {"first": last_seen + 1, "last": first.seq - 1}))
        elif first.seq == last_seen + 1 and first.prev != seen[last_seen]:
            problems.append(LogProblem("rewritten", UNLINKED,
                                       {"seq": first.seq, "prev": last_seen}))
    return problems


#: The ``settings`` row holding the problems found at the last import (JSON list), for the
#: workbench page; empty when the log followed on.
PROBLEMS_SETTING = "gateway_log.problems"


def merge(session: Session, entries: Sequence[auditlog.Entry], today: str) -> Outcome:
    """Check a bundle's admin log (``parse``) against the vault's copy and keep its new entries,
    in the caller's transaction."""
    seen = _seen(session)
    outcome = Outcome(problems=compare(seen, entries))
    db.set_setting(session, PROBLEMS_SETTING, json.dumps([p.to_dict() for p in outcome.problems]))
    if outcome.problems:
        return outcome
    last_seen = max(seen, default=0)
    outcome.new = [e for e in entries if e.seq > last_seen]
    for e in outcome.new:
        session.add(db.GatewayLogRow(seq=e.seq, entry=e.to_bytes(), hash=e.hash, seen_day=today))
    return outcome


def describe(entry: auditlog.Entry) -> str:
    """One line for a person: number, day, who, what, and the details."""
    details = ", ".join(f"{k}={v}" for k, v in sorted(entry.details.items()))
    return f"#{entry.seq} {entry.at} {entry.actor}: {entry.action} ({details})"


def kept(session: Session, limit: int) -> list[auditlog.Entry]:
    """The newest ``limit`` entries the vault keeps, oldest first."""
    rows = list(session.scalars(select(db.GatewayLogRow).order_by(db.GatewayLogRow.seq.desc())
                                .limit(limit)))
    return [auditlog.parse_line(r.entry, f"gateway_log seq {r.seq}") for r in rows[::-1]]


def forget_after(session: Session, by: Unlocked, seq: int) -> int:
    """A lead's decision, recorded in the audit log: forget the kept entries after ``seq``, so
    the next import takes the gateway's from there. Returns how many were forgotten."""
    if by.role != "lead":
        raise VaultError("only a lead can change what the vault keeps of the gateway's log")
    if seq < 0:
        raise VaultError("the entry number must be 0 or more")
    rows = list(session.scalars(select(db.GatewayLogRow).where(db.GatewayLogRow.seq > seq)))
    for row in rows:
        session.delete(row)
    db.set_setting(session, PROBLEMS_SETTING, "[]")  # looked into; the next import tells anew
    audit.record(session, by.key_id, "gateway_log.forget", details={
        "after": seq, "forgotten": len(rows),
        "hashes": [r.hash for r in sorted(rows, key=lambda r: r.seq)]})
    return len(rows)


def last_problems(session: Session) -> list[LogProblem]:
    """What the last import found wrong with the gateway's log (nothing before any import)."""
    raw = db.get_setting(session, PROBLEMS_SETTING)
    return [LogProblem(p["kind"], p["text"], p["params"]) for p in json.loads(raw or "[]")]
