"""The search index of one workbench process, kept in step with the vault database.

Built from decrypted text the first time someone holding the vault key searches
(``refresh`` then indexes everything; see index.py for why it lives in memory only). Later
refreshes index only what is newer than what it has seen (cases, notes, questions, the
reporters' messages imported by another process), so a list page pays a few indexed queries.
Edits of existing text go through the service, which re-indexes the case itself."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbench import db

from .catalog import CaseCatalog
from .content import searchable_text
from .index import SearchIndex
from .models import Case, CaseEvent

BATCH = 2000
log = logging.getLogger(__name__)


class CaseSearch:
    def __init__(self) -> None:
        self.index = SearchIndex()
        self.catalog = CaseCatalog()
        self._lock = threading.Lock()
        self._case = self._event = self._submission = self._reply = 0
        self._warm: threading.Thread | None = None

    @property
    def warming(self) -> bool:
        return self._warm is not None and self._warm.is_alive()

    def warm_up(self, sessionmaker: Callable[[], Session], vault_key: bytes) -> None:
        """Build the text index in a background thread (once), so the first search after
        unlocking waits for what is left of the build instead of all of it, and lists are
        usable at once. A search meanwhile blocks on the index lock until the build ends."""
        if self._warm is not None or self._case:
            return
        from workbench import db as _db

        def build() -> None:
            try:
                with _db.unlocked(vault_key), sessionmaker() as session:
                    self.refresh(session)
            except Exception:  # the first search builds what is missing instead
                log.warning("building the case search index in the background failed")
        self._warm = threading.Thread(target=build, name="case-index", daemon=True)
        self._warm.start()

    def forget(self, case_id: int) -> None:
        """A disposed case's words leave the index (cases/retention.py)."""
        with self._lock:
            self.index.remove(case_id)

    def clear(self) -> None:
        """Forget the text index (the catalog holds no content and stays)."""
        with self._lock:
            self.index.clear()
            self._case = self._event = self._submission = self._reply = 0
            self._warm = None

    def refresh(self, session: Session, text: bool = True) -> SearchIndex:
        """Bring the catalog up to date and, with ``text``, index what is new (that needs
        ``db.unlocked``). Returns the index."""
        self.catalog.refresh(session)
        if not text:
            return self.index
        with self._lock:
            self.index.add_many(self._new_cases(session))
            for ev_id, case_id, kind, body in session.execute(
                    select(CaseEvent.id, CaseEvent.case_id, CaseEvent.kind, CaseEvent.body)
                    .where(CaseEvent.id > self._event).order_by(CaseEvent.id)):
                if kind == "disposed":
                    # Disposed of by another process (peluit workbench dispose while this one
                    # serves): its words leave this process's index too.
                    self.index.remove(case_id)
                else:
                    self.index.add(case_id, str((body or {}).get("text", "")))
                self._event = ev_id
            by_report = dict(session.execute(
                select(Case.report_id, Case.id).where(Case.report_id.is_not(None))).all()) \
                if self._has_new_threads(session) else {}
            for seq, report_id, content in session.execute(
                    select(db.Submission.seq, db.Submission.report_id, db.Submission.content)
                    .where(db.Submission.seq > self._submission,
                           db.Submission.kind.in_(("message", "retaliation")))
                    .order_by(db.Submission.seq)):
                # sync_reports runs first, so every report with a report submission has a case.
                self._submission = seq
                case_id = by_report.get(report_id)
                if case_id is not None and isinstance(content, dict):
                    self.index.add(case_id, str(content.get("text", "")))
            for seq, report_id, text in session.execute(
                    select(db.Reply.seq, db.Reply.report_id, db.Reply.text)
                    .where(db.Reply.seq > self._reply).order_by(db.Reply.seq)):
                self._reply = seq
                case_id = by_report.get(report_id)
                if case_id is not None:
                    self.index.add(case_id, text)
            return self.index

    def _has_new_threads(self, session: Session) -> bool:
        sub = session.scalar(select(func.max(db.Submission.seq))) or 0
        rep = session.scalar(select(func.max(db.Reply.seq))) or 0
        return sub > self._submission or rep > self._reply

    def _new_cases(self, session: Session) -> Iterator[tuple[int, str]]:
        # Batches keep one batch of decrypted rows in memory besides the index itself.
        while True:
            rows = session.execute(select(Case.id, Case.content, Case.review)
                                   .where(Case.id > self._case).order_by(Case.id)
                                   .limit(BATCH)).all()
            if not rows:
                return
            for case_id, content, review in rows:
                c = {k: v for k, v in (content or {}).items() if k != "case"}
                r = {k: v for k, v in (review or {}).items() if k != "case"} if review else None
                yield case_id, searchable_text(c, r)
                self._case = case_id
