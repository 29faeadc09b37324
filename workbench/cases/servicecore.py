"""The case service's shared core (``CaseService`` is assembled from it and the step modules
beside it: ``intake``, ``reading``, ``review``, ``thread``, ``listing``, ``loans``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from peluit.ground.clock import Clock
from policies.calendar import DeadlinePolicy, WorkingCalendar
from workbench import audit, outbox

from . import revision
from .content import bound
from .models import Case, CaseEvent, CaseLink
from .people import User
from .workflow import (
    CLOSED_COARSE_VALUES,
    DEFAULT_CATEGORIES,
    Action,
    Coarse,
    Permission,
    State,
    WorkflowError,
    check_transition,
    coarse_of,
    require,
)

if TYPE_CHECKING:
    from .search import CaseSearch


class ServiceCore:
    """What every step needs: the session, the clock, the case a step names, the audit log,
    the revision and coarse status a change bumps, the sealed values of a case."""

    def __init__(self, session: Session, search: CaseSearch, calendar: WorkingCalendar,
                 clock: Clock, dupe_key: bytes | None,
                 policy: DeadlinePolicy | None = None,
                 categories: Mapping[str, str] | None = None):
        """``dupe_key`` is ``sketch_key(vault_key)``; None for a session without the vault key
        (the compliance officer), which can then only list metadata."""
        self.db = session
        self.search = search
        self.index = search.index
        self.dupe_key = dupe_key
        self.calendar = calendar
        self.clock = clock
        self.policy = policy or DeadlinePolicy()
        self.categories = dict(categories or DEFAULT_CATEGORIES)

    def audit(self, user: User, action: str, case: Case | None, **details: Any) -> None:
        """Append to the audit log (codes and ids in ``details``, never content)."""
        self._audit(user, action, case, **details)

    def _at(self) -> str:
        return self.clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")

    def _audit(self, user: User, action: str, case: Case | None, **details: Any) -> None:
        audit.record(self.db, user.id, action, case.number if case else None, details,
                     at=self._at())

    def _case(self, case_id: int) -> Case:
        case = self.db.get(Case, case_id)
        if case is None:
            raise WorkflowError("not_found", "no such case")
        return case

    def _step(self, user: User, case_id: int, action: Action) -> Case:
        """The case a step of the process names, when ``user`` may take it from its state."""
        case = self._case(case_id)
        check_transition(action, case.state, user.role)
        return case

    def _now(self) -> dt.datetime:
        return self.clock.now().astimezone(dt.UTC).replace(tzinfo=None)

    def _touch(self, case: Case) -> None:
        case.updated_at = self._now()
        revision.bump(case)

    def _set_state(self, user: User, case: Case, state: State) -> None:
        case.state = state.value
        self._touch(case)
        coarse = coarse_of(state, case.outcome).value
        if coarse == Coarse.RECEIVED and case.coarse and case.coarse != Coarse.RECEIVED:
            # Back with the lead after verification, or reopened: the reporter is not told
            # "received" again, which would read as a step backwards.
            coarse = (Coarse.VERIFICATION.value if case.coarse in CLOSED_COARSE_VALUES
                      else case.coarse)
        if coarse != case.coarse:
            case.coarse = coarse
            if case.report_id is not None:
                # The reporter learns the coarse status with the next reply bundle.
                outbox.queue_status(self.db, case.report_id, coarse, user.id,
                                    today=self.clock.today())

    def _content(self, case: Case) -> dict[str, str]:
        return dict(bound(case.content, case.id))

    def _review(self, case: Case) -> dict[str, Any] | None:
        return bound(case.review, case.id) if case.review is not None else None

    @staticmethod
    def _text(value: str | None, case: Case) -> dict[str, Any] | None:
        return {"case": case.id, "text": value} if value else None

    @staticmethod
    def _open_text(value: Any, case: Case) -> str | None:
        return bound(value, case.id)["text"] if value is not None else None

    def _dupe_key(self) -> bytes:
        if self.dupe_key is None:
            raise WorkflowError("locked", "this needs the vault key")
        return self.dupe_key

    def _category(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        if value not in self.categories:
            raise WorkflowError("bad_category", "unknown category")
        return str(value)

    def _link(self, case: Case, other: Case, kind: str, score: int | None) -> None:
        exists = self.db.scalars(select(CaseLink).where(
            CaseLink.case_id == case.id, CaseLink.other_id == other.id,
            CaseLink.kind == kind)).first()
        if exists is None:
            self.db.add(CaseLink(case_id=case.id, other_id=other.id, kind=kind, score=score))
            self.db.flush()

    def _event(self, user: User, case: Case, kind: str, text: str) -> CaseEvent:
        ev = CaseEvent(case_id=case.id, kind=kind, actor=user.id, at=self._now(),
                       body={"case": case.id, "text": text})
        self.db.add(ev)
        self.db.flush()
        self.index.add(case.id, text)
        return ev

    def get_case(self, user: User, case_id: int) -> Case:
        """Metadata only (number, state, dates): what the compliance officer may see."""
        require(user.role, Permission.LIST)
        return self._case(case_id)

    def by_number(self, number: str) -> Case | None:
        return self.db.scalars(select(Case).where(Case.number == number)).first()
