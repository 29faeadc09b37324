"""A case's thread: the acknowledgment, notes, questions to the reporter, OCR words."""

from __future__ import annotations

from workbench import db, outbox

from . import acknowledgment
from .content import MAX_OCR_TEXT, clean
from .models import Case, CaseEvent
from .people import User
from .servicecore import ServiceCore
from .workflow import OPEN_STATES, Permission, WorkflowError, require


class ThreadSteps(ServiceCore):
    """Writing to a case's thread and to the reporter."""

    def acknowledge(self, user: User, case_id: int) -> Case:
        """Send the acknowledgment: for a web report, the standard message
        (cases/acknowledgment.py) queued to the reporter through the outbox; for an off-line
        complaint, record that it was acknowledged by its own means. Stops the acknowledgment
        clock (policies.clocks: met when the standard message is sent)."""
        require(user.role, Permission.WORK)
        case = self._case(case_id)
        if case.acknowledged_day is None:
            self._send_acknowledgment(user, case)
        return case

    def _send_acknowledgment(self, user: User, case: Case) -> None:
        reply = None
        if case.report_id is not None:
            try:
                reply = outbox.queue_reply(self.db, case.report_id, user.id,
                                           acknowledgment.text(self.policy), kind="message",
                                           today=self.clock.today())
            except outbox.OutboxError as exc:
                raise WorkflowError("outbox", str(exc)) from None
        case.acknowledged_day = self.clock.today()
        self._touch(case)
        self._audit(user, "case.acknowledge", case, **({"reply": reply.id} if reply else {}))

    def add_ocr_text(self, user: User, case: Case, file_name: str, text: str) -> None:
        """The words read from a safe copy's pages (OCR), kept in the case's thread as an
        ``ocr`` entry, so the case search finds them (after a restart too)."""
        require(user.role, Permission.WORK)
        text = " ".join(text.split())[:MAX_OCR_TEXT]
        if text:
            self._event(user, case, "ocr", f"{file_name}: {text}")

    def add_note(self, user: User, case_id: int, text: str, kind: str = "note") -> CaseEvent:
        """A note; ``contact`` records a contact with an off-line reporter (phone, visit)."""
        require(user.role, Permission.WORK)
        if kind not in ("note", "contact"):
            raise WorkflowError("bad_input", "unknown note kind")
        case = self._case(case_id)
        text = clean(text)
        if not text:
            raise WorkflowError("text_required", "the note is empty")
        ev = self._event(user, case, kind, text)
        self._audit(user, "case.note", case, event=ev.id)
        return ev

    def ask(self, user: User, case_id: int, text: str) -> db.Reply:
        """A question to the reporter, through the vault's outbox: it is sealed to the
        reporter's key in the next reply bundle, and the answer comes back threaded under it.
        Off-line complaints have no such channel: record contacts as notes instead."""
        require(user.role, Permission.WORK)
        case = self._case(case_id)
        if case.report_id is None:
            raise WorkflowError("no_channel", "this complaint has no reporter channel; "
                                "record the contact as a note")
        if case.state not in OPEN_STATES:
            raise WorkflowError("bad_state", "the case is closed")
        if case.acknowledged_day is None:
            # A question is no acknowledgment: the reporter gets the standard message first,
            # so "acknowledged" means the same thing on every case.
            self._send_acknowledgment(user, case)
        try:
            reply = outbox.queue_reply(self.db, case.report_id, user.id, clean(text, 10_000),
                                       kind="question", today=self.clock.today())
        except outbox.OutboxError as exc:
            raise WorkflowError("outbox", str(exc)) from None
        self.index.add(case.id, reply.text)
        self._audit(user, "case.question", case, reply=reply.id)
        return reply
