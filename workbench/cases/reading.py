"""Reading one case: its content, review, reasons, thread, links and loans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from workbench import db, escrow, filestore

from . import inbox as _inbox
from .content import bound, parse_day
from .models import Case, CaseEvent, CaseLink, FileLoan
from .people import User
from .servicecore import ServiceCore
from .workflow import Permission, require


@dataclass
class CaseDetail:
    case: Case
    content: dict[str, str]
    review: dict[str, Any] | None
    decision_reason: str | None
    outcome_note: str | None
    thread: list[dict[str, Any]]
    links: list[dict[str, Any]]
    loans: list[FileLoan]


class ReadingSteps(ServiceCore):
    """Reading a case."""

    def detail(self, user: User, case_id: int) -> CaseDetail:
        require(user.role, Permission.READ)
        case = self._case(case_id)
        content = self._content(case)
        content.pop("reporter_key", None)
        thread = self._thread(case)
        links = []
        for link in self.db.scalars(select(CaseLink).where(
                (CaseLink.case_id == case.id) | (CaseLink.other_id == case.id))):
            other = link.other_id if link.case_id == case.id else link.case_id
            oc = self.db.get(Case, other)
            links.append({"kind": link.kind, "score": link.score, "case": oc,
                          "direction": "to" if link.case_id == case.id else "from"})
        loans = list(self.db.scalars(select(FileLoan).where(FileLoan.case_id == case.id)
                                     .order_by(FileLoan.id)))
        self._audit(user, "case.read", case)
        _inbox.mark_seen(self.db, case)
        return CaseDetail(case, content, self._review(case),
                          self._open_text(case.decision_reason, case),
                          self._open_text(case.outcome_note, case),
                          thread, links, loans)

    def _thread(self, case: Case) -> list[dict[str, Any]]:
        """Notes, questions to the reporter and what the reporter sent, in order. Answers name
        the question they answer (``in_reply_to``)."""
        items: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        for ev in self.db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)):
            items.append(((ev.at.date(), 2, ev.id), {
                "kind": ev.kind, "actor": ev.actor, "day": ev.at.date(), "id": f"n{ev.id}",
                "text": bound(ev.body, case.id)["text"]}))
        if case.report_id is not None:
            for r in self.db.scalars(select(db.Reply).where(db.Reply.report_id == case.report_id)):
                items.append(((parse_day(r.created_day), 1, r.seq), {
                    "kind": r.kind, "actor": r.author, "day": parse_day(r.created_day),
                    "id": r.id, "text": r.text, "sent": r.exported_seq is not None}))
            for sub in self.db.scalars(select(db.Submission).where(
                    db.Submission.report_id == case.report_id,
                    # deposits and consents: the case page's escrow section (workbench/escrow.py)
                    db.Submission.kind.not_in(("report", *escrow.KINDS)))):
                body = sub.content if isinstance(sub.content, dict) else {}
                kind = sub.kind
                if kind == "message" and body.get("in_reply_to"):
                    kind = "answer"
                items.append(((parse_day(sub.received_day), 0, sub.seq), {
                    "kind": kind, "actor": None, "day": parse_day(sub.received_day), "id": sub.id,
                    "text": str(body.get("text", "")), "in_reply_to": body.get("in_reply_to"),
                    # Shown and exported under the sanitised name, never the name as sent.
                    "file_name": (filestore.download_name(sub.file_name, f"file-{sub.id[:8]}")
                                  if sub.kind == "file" else None),
                    "content_type": sub.content_type if sub.kind == "file" else None,
                    "size": sub.size if sub.kind == "file" else None}))
        items.sort(key=lambda kv: kv[0])
        return [v for _, v in items]
