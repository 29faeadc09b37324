"""The review (penelaahan), the lead's decision, verification, closing, reopening, marking
a duplicate, and the lead's request to open an identity in escrow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from workbench import escrow, outbox

from .content import clean, searchable_text, written_reason
from .models import Case, CaseEvent
from .people import User
from .servicecore import ServiceCore
from .workflow import (
    DECISION_OUTCOME,
    DECISION_STATE,
    FOUR_W_ONE_H,
    Action,
    Decision,
    Outcome,
    Permission,
    State,
    WorkflowError,
    require,
)


class ReviewSteps(ServiceCore):
    """The steps of the process after intake."""

    def start_review(self, user: User, case_id: int) -> Case:
        case = self._step(user, case_id, Action.START_REVIEW)
        self._set_state(user, case, State.REVIEW)
        self._audit(user, "case.review.start", case)
        return case

    def save_review(self, user: User, case_id: int, review: Mapping[str, Any],
                    submit: bool = False) -> Case:
        """Store the penelaahan; with ``submit`` the case goes to the lead. Submitting needs a
        category and the darwas / non-darwas classification."""
        case = self._step(user, case_id, Action.SUBMIT_REVIEW)
        complete = review.get("complete") or {}
        data = {
            "complete": {k: bool(complete.get(k)) for k in FOUR_W_ONE_H},
            "core_issue": clean(review.get("core_issue")),
            "rule": clean(review.get("rule"), 2000),
            "notes": clean(review.get("notes")),
        }
        darwas = review.get("darwas")
        if darwas not in (None, True, False):
            raise WorkflowError("bad_input", "darwas must be yes or no")
        category = self._category(review.get("category"))
        related = [n.strip() for n in review.get("related", []) if n and n.strip()]
        related_cases = []
        for number in related:
            other = self.by_number(number)
            if other is None or other.id == case.id:
                raise WorkflowError("bad_related", f"no case numbered {number}")
            related_cases.append(other)
        if submit and (category is None or darwas is None):
            raise WorkflowError("review_incomplete", "a category and darwas/non-darwas are needed")
        old = searchable_text(self._content(case), self._review(case))
        case.review = {**data, "case": case.id}
        case.category = category
        case.darwas = darwas
        for other in related_cases:
            self._link(case, other, "related", None)
        self.index.replace(case.id, old, searchable_text(self._content(case), data))
        action = "case.review.save"
        if submit:
            self._set_state(user, case, State.DECISION)
            action = "case.review.submit"
        self._touch(case)
        self._audit(user, action, case, category=category or "", darwas=darwas,
                    complete=sum(data["complete"].values()),
                    related=[o.number for o in related_cases])
        return case

    def decide(self, user: User, case_id: int, decision: str, reason: str) -> Case:
        case = self._step(user, case_id, Action.DECIDE)
        try:
            d = Decision(decision)
        except ValueError:
            raise WorkflowError("bad_decision", "unknown decision") from None
        reason = written_reason(reason, "a decision needs a written reason")
        if d is Decision.ARCHIVED and not self._verified_with_reporter(case):
            # The policy (§7) and the Kemenag process: no evidence → archived only after a
            # verifier asked the reporter for more (clarification, then the finding).
            raise WorkflowError("archive_unverified",
                                "archive only after clarification with the reporter")
        case.decision = d.value
        case.decision_reason = self._text(reason, case)
        case.decided_day = self.clock.today()
        # The initial review's target is met by the lead's decision (policies.clocks "verify").
        case.verified_day = case.verified_day or self.clock.today()
        state = DECISION_STATE[d]
        if state is State.CLOSED:
            case.outcome = DECISION_OUTCOME[d].value
            case.closed_day = self.clock.today()
        self._set_state(user, case, state)
        self._audit(user, "case.decide", case, decision=d.value)
        return case

    def _verified_with_reporter(self, case: Case) -> bool:
        """A verification round (clarification with the reporter) has recorded its finding."""
        return self.db.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.kind == "finding")) > 0

    def verification_done(self, user: User, case_id: int, finding: str) -> Case:
        """The verifier's finding after clarifying with the reporter; back to the lead."""
        case = self._step(user, case_id, Action.VERIFICATION_DONE)
        finding = written_reason(finding, "write down what verification found")
        self._event(user, case, "finding", finding)
        self._set_state(user, case, State.DECISION)
        self._audit(user, "case.verification.done", case)
        return case

    def close(self, user: User, case_id: int, outcome: str, note: str,
              policy_improvement: bool = False) -> Case:
        """Close with an outcome; ``policy_improvement`` records that the case led to a change
        of policy or procedure (what the national assessment scores)."""
        case = self._step(user, case_id, Action.CLOSE)
        try:
            o = Outcome(outcome)
        except ValueError:
            raise WorkflowError("bad_outcome", "unknown outcome") from None
        if o is Outcome.DUPLICATE:
            raise WorkflowError("bad_outcome", "link a duplicate to its earlier case instead")
        note = written_reason(note, "closing needs a written note")
        case.outcome = o.value
        case.policy_improvement = bool(policy_improvement)
        case.outcome_note = self._text(note, case)
        case.closed_day = self.clock.today()
        self._set_state(user, case, State.CLOSED)
        self._audit(user, "case.close", case, outcome=o.value)
        return case

    def reopen(self, user: User, case_id: int, reason: str) -> Case:
        case = self._step(user, case_id, Action.REOPEN)
        reason = written_reason(reason, "reopening needs a written reason")
        self._event(user, case, "reopen", reason)
        case.outcome = None
        case.closed_day = None
        case.duplicate_of = None
        self._set_state(user, case, State.REVIEW)
        self._audit(user, "case.reopen", case)
        return case

    def mark_duplicate(self, user: User, case_id: int, of_number: str) -> Case:
        """Handle a re-sent or copied complaint under the earlier case: linked, closed as a
        duplicate, never followed up twice."""
        case = self._step(user, case_id, Action.MARK_DUPLICATE)
        other = self.by_number(of_number.strip())
        if other is None or other.id == case.id:
            raise WorkflowError("bad_related", f"no case numbered {of_number}")
        if other.duplicate_of == case.id:
            raise WorkflowError("bad_related", "that case is already a duplicate of this one")
        case.duplicate_of = other.duplicate_of or other.id
        self._link(case, other, "confirmed", None)
        case.outcome = Outcome.DUPLICATE.value
        case.closed_day = self.clock.today()
        self._set_state(user, case, State.CLOSED)
        self._audit(user, "case.duplicate", case, of=other.number)
        return case

    def request_identity(self, user: User, case_id: int, deposit_id: str, reason: str
                         ) -> escrow.EscrowRequest:
        """A lead's written request to open the reporter's deposited identity."""
        require(user.role, Permission.DECIDE)
        case = self._case(case_id)
        if case.report_id is None:
            raise WorkflowError("no_channel", "this complaint has no reporter channel")
        try:
            req = escrow.request_opening(self.db, user.id, case.number, case.report_id,
                                         deposit_id, clean(reason, 10_000),
                                         self.clock.today(), self._at())
        except (escrow.EscrowError, outbox.OutboxError) as exc:
            raise WorkflowError("escrow", str(exc)) from None
        return req
