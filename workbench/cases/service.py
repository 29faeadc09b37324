"""The case service: every step of the process, with roles enforced here (not only in views), every
change appended to the audit log, encrypted fields sealed and opened in one place.

Views and the import command call these methods with plain arguments; they never touch the
tables directly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, undefer

from crypto.kdf import subkey
from peluit.ground.clock import Clock
from policies import clocks as _clocks
from policies.calendar import DeadlinePolicy, WorkingCalendar
from workbench import audit, db, escrow, filestore, outbox

from . import access as _access
from . import acknowledgment, duplicates, retaliation, revision
from . import deadlines as _deadlines
from . import inbox as _inbox
from .models import Case, CaseEvent, CaseLink, CaseSketch, FileLoan, RetaliationFlag

if TYPE_CHECKING:
    from .search import CaseSearch
from .workflow import (
    CLOSED_COARSE_VALUES,
    COARSE,
    DECISION_OUTCOME,
    DECISION_STATE,
    DEFAULT_CATEGORIES,
    FORM_CATEGORY_CODES,
    FOUR_W_ONE_H,
    OFFLINE_CHANNELS,
    OPEN_STATES,
    Action,
    Channel,
    Coarse,
    Decision,
    Outcome,
    Permission,
    State,
    WorkflowError,
    allowed,
    check_transition,
    coarse_of,
    require,
)

CONTENT_FIELDS = ("summary", "what", "who_name", "who_position", "who_unit", "where", "when",
                  "how", "evidence", "sender", "reference")
MAX_FIELD = 20_000
MAX_REASON = 5_000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class User:
    """Who acts: ``id`` is the auditor's key id (what the audit log records), ``role`` one of
    auditor, lead, compliance."""

    id: str
    name: str
    role: str


SYSTEM = User("workbench-intake", "intake", "auditor")


def sketch_key(vault_key: bytes) -> bytes:
    """The duplicate-sketch key: a subkey of the vault key, separate from the column key."""
    return subkey(vault_key, b"peluit-dupes-v1")


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


@dataclass
class Filters:
    q: str = ""
    state: str = ""
    category: str = ""
    channel: str = ""
    deadline: str = ""          # "" | overdue | due_soon (any clock, or only ``clock``)
    clock: str = ""             # "" | a name of policies.clocks.CLOCKS
    page: int = 1
    per_page: int = PAGE_SIZE


@dataclass
class Page:
    items: list[Case]
    total: int
    page: int
    per_page: int
    summaries: dict[int, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _clean(value: Any, limit: int = MAX_FIELD) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WorkflowError("bad_input", "expected text")
    value = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(value) > limit:
        raise WorkflowError("too_long", f"text longer than {limit} characters")
    return value


MAX_OCR_TEXT = 100_000


def searchable_text(content: Mapping[str, str], review: Mapping[str, Any] | None = None) -> str:
    parts = [content.get(k, "") for k in CONTENT_FIELDS if k != "sender"]
    if review:
        parts += [str(review.get(k, "")) for k in ("core_issue", "rule", "notes")]
    return "\n".join(p for p in parts if p)


def duplicate_text(content: Mapping[str, str]) -> str:
    return "\n".join(content.get(k, "") for k in ("what", "how", "who_name", "who_unit", "where"))


class CaseService:
    """Every step of the process for one session (one request or one command)."""

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

    # -- helpers ------------------------------------------------------------------------------

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
        return dict(_bound(case.content, case.id))

    def _review(self, case: Case) -> dict[str, Any] | None:
        return _bound(case.review, case.id) if case.review is not None else None

    @staticmethod
    def _text(value: str | None, case: Case) -> dict[str, Any] | None:
        return {"case": case.id, "text": value} if value else None

    @staticmethod
    def _open_text(value: Any, case: Case) -> str | None:
        return _bound(value, case.id)["text"] if value is not None else None

    # -- intake -------------------------------------------------------------------------------

    def _create(self, user: User, channel: Channel, day: dt.date, content: dict[str, str],
                category: str | None, report_id: str | None) -> Case:
        due = self.calendar.due_dates(day, self.policy)
        now = self._now()
        case = Case(number="pending", report_id=report_id, channel=channel.value,
                    state=State.INTAKE.value, coarse=COARSE[State.INTAKE].value,
                    category=category, received_day=day,
                    due_acknowledge=due.acknowledge, due_verify=due.verify,
                    due_complete=due.complete, eu_acknowledge=due.eu_acknowledge,
                    eu_feedback=due.eu_feedback, content={}, created_at=now, updated_at=now)
        self.db.add(case)
        self.db.flush()  # the id binds the content to this row
        case.number = f"{day.year}-{case.id:06d}"
        self._touch(case)
        case.content = {**content, "case": case.id}
        sk = duplicates.sketch(duplicate_text(content), self._dupe_key())
        self.db.add_all(CaseSketch(case_id=case.id, h=h) for h in sk)
        self.db.flush()
        self.index.add(case.id, searchable_text(content))
        self._flag_duplicates(case, sk)
        self._audit(user, "case.create", case, channel=channel.value, received=day.isoformat())
        return case

    def _dupe_key(self) -> bytes:
        if self.dupe_key is None:
            raise WorkflowError("locked", "this needs the vault key")
        return self.dupe_key

    def _content_from(self, fields: Mapping[str, Any]) -> dict[str, str]:
        content = {k: _clean(fields.get(k)) for k in CONTENT_FIELDS}
        if not content["what"] and not content["summary"]:
            raise WorkflowError("what_required", "say what happened")
        return {k: v for k, v in content.items() if v}

    def _category(self, value: Any) -> str | None:
        if value in (None, ""):
            return None
        if value not in self.categories:
            raise WorkflowError("bad_category", "unknown category")
        return str(value)

    def intake_offline(self, user: User, channel: str, received_day: dt.date,
                       fields: Mapping[str, Any]) -> Case:
        """A complaint that arrived by letter, copy, email, walk-in, phone, LAPOR! or social
        media, typed in by an auditor."""
        require(user.role, Permission.INTAKE)
        try:
            ch = Channel(channel)
        except ValueError:
            raise WorkflowError("bad_channel", "unknown channel") from None
        if ch not in OFFLINE_CHANNELS:
            raise WorkflowError("bad_channel", "web reports arrive by bundle import")
        if received_day > self.clock.today():
            raise WorkflowError("future_day", "the day received is in the future")
        return self._create(user, ch, received_day, self._content_from(fields),
                            self._category(fields.get("category")), None)

    def sync_reports(self, user: User = SYSTEM) -> list[Case]:
        """Open a case for every imported report that has none yet (web reports reach the vault
        by bundle import; this is their intake). Idempotent; needs the vault key."""
        require(user.role, Permission.INTAKE)
        self._dupe_key()
        rows = self.db.execute(
            select(db.Report).outerjoin(Case, Case.report_id == db.Report.id)
            .where(Case.id.is_(None)).order_by(db.Report.received_day, db.Report.id)).scalars()
        created = []
        for report in list(rows):
            first = self.db.scalars(select(db.Submission).where(
                db.Submission.report_id == report.id, db.Submission.kind == "report")
                .order_by(db.Submission.seq).limit(1)).first()
            if first is None:
                continue  # only messages so far: wait for the report itself
            form = first.content if isinstance(first.content, dict) else {}
            fields = {k: v for k, v in form.items() if k in CONTENT_FIELDS and isinstance(v, str)}
            if not (fields.get("what") or "").strip():
                fields["what"] = "-"
            category = FORM_CATEGORY_CODES.get(str(form.get("category", "")))
            day = _day(report.received_day) or self.clock.today()
            created.append(self._create(user, Channel.WEB, day, self._content_from(fields),
                                        category, report.id))
        retaliation.sync(self.db, self.calendar, self.policy, at=self._at())
        escrow.sync(self.db, self._number_of, at=self._at())
        return created

    def _number_of(self, report_id: str) -> str | None:
        case = self.db.scalar(select(Case).where(Case.report_id == report_id))
        return case.number if case else None

    # -- identity in escrow (workbench/escrow.py) ---------------------------------------------

    def request_identity(self, user: User, case_id: int, deposit_id: str, reason: str
                         ) -> escrow.EscrowRequest:
        """A lead's written request to open the reporter's deposited identity."""
        require(user.role, Permission.DECIDE)
        case = self._case(case_id)
        if case.report_id is None:
            raise WorkflowError("no_channel", "this complaint has no reporter channel")
        try:
            req = escrow.request_opening(self.db, user.id, case.number, case.report_id,
                                         deposit_id, _clean(reason, 10_000),
                                         self.clock.today(), self._at())
        except (escrow.EscrowError, outbox.OutboxError) as exc:
            raise WorkflowError("escrow", str(exc)) from None
        return req

    # -- reading ------------------------------------------------------------------------------

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
                "text": _bound(ev.body, case.id)["text"]}))
        if case.report_id is not None:
            for r in self.db.scalars(select(db.Reply).where(db.Reply.report_id == case.report_id)):
                items.append(((_day(r.created_day), 1, r.seq), {
                    "kind": r.kind, "actor": r.author, "day": _day(r.created_day),
                    "id": r.id, "text": r.text, "sent": r.exported_seq is not None}))
            for sub in self.db.scalars(select(db.Submission).where(
                    db.Submission.report_id == case.report_id,
                    # deposits and consents: the case page's escrow section (workbench/escrow.py)
                    db.Submission.kind.not_in(("report", *escrow.KINDS)))):
                body = sub.content if isinstance(sub.content, dict) else {}
                kind = sub.kind
                if kind == "message" and body.get("in_reply_to"):
                    kind = "answer"
                items.append(((_day(sub.received_day), 0, sub.seq), {
                    "kind": kind, "actor": None, "day": _day(sub.received_day), "id": sub.id,
                    "text": str(body.get("text", "")), "in_reply_to": body.get("in_reply_to"),
                    # Shown and exported under the sanitised name, never the name as sent.
                    "file_name": (filestore.download_name(sub.file_name, f"file-{sub.id[:8]}")
                                  if sub.kind == "file" else None),
                    "content_type": sub.content_type if sub.kind == "file" else None,
                    "size": sub.size if sub.kind == "file" else None}))
        items.sort(key=lambda kv: kv[0])
        return [v for _, v in items]

    def get_case(self, user: User, case_id: int) -> Case:
        """Metadata only (number, state, dates): what the compliance officer may see."""
        require(user.role, Permission.LIST)
        return self._case(case_id)

    def by_number(self, number: str) -> Case | None:
        return self.db.scalars(select(Case).where(Case.number == number)).first()

    # -- review (penelaahan) ------------------------------------------------------------------

    def start_review(self, user: User, case_id: int) -> Case:
        case = self._case(case_id)
        check_transition(Action.START_REVIEW, case.state, user.role)
        self._set_state(user, case, State.REVIEW)
        self._audit(user, "case.review.start", case)
        return case

    def save_review(self, user: User, case_id: int, review: Mapping[str, Any],
                    submit: bool = False) -> Case:
        """Store the penelaahan; with ``submit`` the case goes to the lead. Submitting needs a
        category and the darwas / non-darwas classification."""
        case = self._case(case_id)
        check_transition(Action.SUBMIT_REVIEW, case.state, user.role)
        complete = review.get("complete") or {}
        data = {
            "complete": {k: bool(complete.get(k)) for k in FOUR_W_ONE_H},
            "core_issue": _clean(review.get("core_issue")),
            "rule": _clean(review.get("rule"), 2000),
            "notes": _clean(review.get("notes")),
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

    def _link(self, case: Case, other: Case, kind: str, score: int | None) -> None:
        exists = self.db.scalars(select(CaseLink).where(
            CaseLink.case_id == case.id, CaseLink.other_id == other.id,
            CaseLink.kind == kind)).first()
        if exists is None:
            self.db.add(CaseLink(case_id=case.id, other_id=other.id, kind=kind, score=score))
            self.db.flush()

    # -- the lead's decision ------------------------------------------------------------------

    def decide(self, user: User, case_id: int, decision: str, reason: str) -> Case:
        case = self._case(case_id)
        check_transition(Action.DECIDE, case.state, user.role)
        try:
            d = Decision(decision)
        except ValueError:
            raise WorkflowError("bad_decision", "unknown decision") from None
        reason = _clean(reason, MAX_REASON)
        if not reason:
            raise WorkflowError("reason_required", "a decision needs a written reason")
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
        case = self._case(case_id)
        check_transition(Action.VERIFICATION_DONE, case.state, user.role)
        finding = _clean(finding, MAX_REASON)
        if not finding:
            raise WorkflowError("reason_required", "write down what verification found")
        self._event(user, case, "finding", finding)
        self._set_state(user, case, State.DECISION)
        self._audit(user, "case.verification.done", case)
        return case

    def close(self, user: User, case_id: int, outcome: str, note: str,
              policy_improvement: bool = False) -> Case:
        """Close with an outcome; ``policy_improvement`` records that the case led to a change
        of policy or procedure (what the national assessment scores)."""
        case = self._case(case_id)
        check_transition(Action.CLOSE, case.state, user.role)
        try:
            o = Outcome(outcome)
        except ValueError:
            raise WorkflowError("bad_outcome", "unknown outcome") from None
        if o is Outcome.DUPLICATE:
            raise WorkflowError("bad_outcome", "link a duplicate to its earlier case instead")
        note = _clean(note, MAX_REASON)
        if not note:
            raise WorkflowError("reason_required", "closing needs a written note")
        case.outcome = o.value
        case.policy_improvement = bool(policy_improvement)
        case.outcome_note = self._text(note, case)
        case.closed_day = self.clock.today()
        self._set_state(user, case, State.CLOSED)
        self._audit(user, "case.close", case, outcome=o.value)
        return case

    def reopen(self, user: User, case_id: int, reason: str) -> Case:
        case = self._case(case_id)
        check_transition(Action.REOPEN, case.state, user.role)
        reason = _clean(reason, MAX_REASON)
        if not reason:
            raise WorkflowError("reason_required", "reopening needs a written reason")
        self._event(user, case, "reopen", reason)
        case.outcome = None
        case.closed_day = None
        case.duplicate_of = None
        self._set_state(user, case, State.REVIEW)
        self._audit(user, "case.reopen", case)
        return case

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

    # -- thread: notes, questions, answers ----------------------------------------------------

    def _event(self, user: User, case: Case, kind: str, text: str) -> CaseEvent:
        ev = CaseEvent(case_id=case.id, kind=kind, actor=user.id, at=self._now(),
                       body={"case": case.id, "text": text})
        self.db.add(ev)
        self.db.flush()
        self.index.add(case.id, text)
        return ev

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
        text = _clean(text)
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
            reply = outbox.queue_reply(self.db, case.report_id, user.id, _clean(text, 10_000),
                                       kind="question", today=self.clock.today())
        except outbox.OutboxError as exc:
            raise WorkflowError("outbox", str(exc)) from None
        self.index.add(case.id, reply.text)
        self._audit(user, "case.question", case, reply=reply.id)
        return reply

    # -- duplicates ---------------------------------------------------------------------------

    def _flag_duplicates(self, case: Case, sk: list[int]) -> None:
        if not sk:
            return
        rows = self.db.execute(
            select(CaseSketch.case_id, func.count())
            .where(CaseSketch.h.in_(sk), CaseSketch.case_id != case.id)
            .group_by(CaseSketch.case_id)
            .having(func.count() >= min(duplicates.MIN_SHARED, len(sk)))
            .order_by(func.count().desc()).limit(20)).all()
        for other_id, _ in rows:
            theirs = self.db.scalars(
                select(CaseSketch.h).where(CaseSketch.case_id == other_id)).all()
            score = duplicates.similarity(sk, theirs)
            if score >= duplicates.THRESHOLD:
                other = self.db.get(Case, other_id)
                self._link(case, other, "duplicate", round(score * 100))

    def mark_duplicate(self, user: User, case_id: int, of_number: str) -> Case:
        """Handle a re-sent or copied complaint under the earlier case: linked, closed as a
        duplicate, never followed up twice."""
        case = self._case(case_id)
        check_transition(Action.MARK_DUPLICATE, case.state, user.role)
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

    # -- lists, search, deadlines -------------------------------------------------------------

    def list_cases(self, user: User, f: Filters) -> Page:
        """One page of cases, newest received first. Text search needs READ (it reveals
        content) and the vault key (the index is built from decrypted text)."""
        require(user.role, Permission.LIST)
        per_page = max(1, min(f.per_page, MAX_PAGE_SIZE))
        page = max(1, f.page)
        reader = allowed(user.role, Permission.READ) and self.dupe_key is not None
        matches = None
        if f.q.strip():
            require(user.role, Permission.READ)
            self._dupe_key()
            self.search.refresh(self.db, text=True)
            matches = self.search.index.search(f.q)
        else:
            self.search.refresh(self.db, text=False)
        today = self.clock.today()
        if f.deadline in ("overdue", "due_soon"):
            # Every clock (or the one asked for) in the database; the catalog knows only the
            # completion due day, and a 3-day clock is what needs acting on first.
            due = _deadlines.deadline_ids(self.db, self.calendar, today, f.deadline, f.clock)
            matches = due if matches is None else matches & due
        # Cases the member is excluded from (recused, or assigned to others) are not listed,
        # found by search or counted (workbench/cases/access.py).
        ids, total = self.search.catalog.select(
            state=f.state, category=f.category, channel=f.channel, matches=matches,
            offset=(page - 1) * per_page, limit=per_page,
            exclude=_access.excluded(self.db, user.id, user.role))
        # Readers see a summary per row: load the encrypted content with the page, not one
        # query per row; others never load it (and hold no key to decrypt it).
        opts = [undefer(Case.content)] if reader else []
        rows = {c.id: c for c in self.db.scalars(select(Case).options(*opts)
                                                 .where(Case.id.in_(ids)))} if ids else {}
        items = [rows[i] for i in ids if i in rows]
        result = Page(items, total, page, per_page)
        if reader:
            for c in items:
                result.summaries[c.id] = _summary(self._content(c))
        return result

    def case_clock(self, case: Case) -> dict[str, Any]:
        return self.case_clocks([case])[case.id]

    def case_clocks(self, cases: list[Case]) -> dict[int, dict[str, Any]]:
        """Every clock of each case (one query for their retaliation flags)."""
        flags: dict[int, list[RetaliationFlag]] = {}
        if cases:
            for flag in self.db.scalars(select(RetaliationFlag).where(
                    RetaliationFlag.case_id.in_([c.id for c in cases]))):
                flags.setdefault(flag.case_id, []).append(flag)
        today = self.clock.today()
        return {c.id: clock_of(c, self.calendar, today, flags.get(c.id, ())) for c in cases}

    def deadline_counts(self) -> dict[str, dict[str, int]]:
        """Open cases per clock and state (overdue, due_soon): the deadlines page and home."""
        return _deadlines.deadline_counts(self.db, self.calendar, self.clock.today())

    # -- physical files -----------------------------------------------------------------------

    def lend_file(self, user: User, case_id: int, borrower: str, purpose: str,
                  due_back: dt.date | None) -> FileLoan:
        require(user.role, Permission.WORK)
        case = self._case(case_id)
        borrower, purpose = _clean(borrower, 200), _clean(purpose, 200)
        if not borrower:
            raise WorkflowError("text_required", "who borrows the file?")
        out = self.db.scalars(select(FileLoan).where(FileLoan.case_id == case.id,
                                                     FileLoan.returned_day.is_(None))).first()
        if out is not None:
            raise WorkflowError("file_out", "the file is already lent and not back yet")
        today = self.clock.today()
        if due_back is not None and due_back < today:
            raise WorkflowError("bad_input", "the return day is in the past")
        loan = FileLoan(case_id=case.id, borrower=borrower, purpose=purpose, borrowed_day=today,
                        due_back_day=due_back, lent_by=user.id)
        self.db.add(loan)
        self.db.flush()
        self._audit(user, "case.file.lend", case, loan=loan.id)
        return loan

    def return_file(self, user: User, loan_id: int) -> FileLoan:
        require(user.role, Permission.WORK)
        loan = self.db.get(FileLoan, loan_id)
        if loan is None:
            raise WorkflowError("not_found", "no such loan")
        if loan.returned_day is not None:
            raise WorkflowError("bad_state", "the file was already returned")
        loan.returned_day = self.clock.today()
        loan.received_by = user.id
        self._audit(user, "case.file.return", self._case(loan.case_id), loan=loan.id)
        return loan

    def file_register(self, user: User, only_out: bool = False) -> list[tuple[FileLoan, Case]]:
        require(user.role, Permission.LIST)
        q = select(FileLoan, Case).join(Case, Case.id == FileLoan.case_id)
        if only_out:
            q = q.where(FileLoan.returned_day.is_(None))
        return [tuple(r) for r in self.db.execute(q.order_by(FileLoan.borrowed_day.desc(),
                                                              FileLoan.id.desc())).all()]


def _summary(content: Mapping[str, str]) -> str:
    text = content.get("summary") or content.get("what") or ""
    text = " ".join(text.split())
    return text[:140] + ("…" if len(text) > 140 else "")


def clock_of(case: Case, calendar: WorkingCalendar, today: dt.date,
             flags: Any = ()) -> dict[str, Any]:
    """Where a case stands against its clocks (policies.clocks): for each, the due day, its
    status and working days left (negative when overdue); ``next`` names the most urgent clock
    still running. The retaliation clock is there only when the case has a flag (the first one
    not handled yet, else the last handled)."""
    closed = case.state == State.CLOSED.value
    out: dict[str, Any] = {"elapsed": calendar.working_days_between(
        case.received_day, case.closed_day or today)}
    pending = sorted(flags, key=lambda f: (f.handled_day is not None, f.due_day))
    runs = [("acknowledge", case.due_acknowledge, case.acknowledged_day),
            ("verify", case.due_verify, case.verified_day),
            ("complete", case.due_complete, case.closed_day)]
    if pending:
        flag = pending[0]
        # A flag is the compliance officer's to handle: it runs on after the case closes.
        runs.append(("retaliation", flag.due_day, flag.handled_day))
    running = []
    for name, due, done in runs:
        state, left = _clocks.status(due, done, closed and name != "retaliation", today,
                                     calendar)
        out[name] = {"due": due, "status": state, "left": left}
        if left is not None:
            running.append((due, name))
    out["next"] = min(running)[1] if running else "complete"
    out["eu_acknowledge"] = {"due": case.eu_acknowledge}
    out["eu_feedback"] = {"due": case.eu_feedback}
    return out


def _bound(value: Any, case_id: int) -> dict[str, Any]:
    """An encrypted JSON value of case ``case_id``; refuses one copied from another case."""
    if not isinstance(value, dict) or value.get("case") != case_id:
        raise db.TamperedError(f"case {case_id}: a value belonging to another case")
    return {k: v for k, v in value.items() if k != "case"}


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
