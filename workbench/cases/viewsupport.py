"""What every case page needs from a request: the signed-in user, their content key, the case
service, the labels templates show, and the case or attachment a URL names.

Kept apart from ``views`` so that page modules beside it (``redaction_views``) use the same
helpers without importing ``views``, which registers them (no import cycle)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.httpexceptions import HTTPNotFound

from peluit.ground.clock import Clock
from policies import clocks
from workbench import db
from workbench.i18n import N_

from .models import Case
from .search import CaseSearch
from .service import CaseService, User, sketch_key
from .settings import CaseSettings
from .workflow import WorkflowError, allowed

RETALIATION_LABELS = {
    "open": N_("open"), "overdue": N_("overdue"), "met": N_("handled in time"),
    "late": N_("handled late"),
}

STATE_LABELS = {
    "intake": N_("intake"), "review": N_("review"), "decision": N_("waiting for the lead"),
    "verification": N_("verification"), "forwarded": N_("forwarded"),
    "investigation": N_("investigation"), "closed": N_("closed"),
}
CHANNEL_LABELS = {
    "web": N_("web"), "letter": N_("letter"), "copy": N_("copy of a letter (tembusan)"),
    "email": N_("email"), "walk_in": N_("walk-in"), "phone": N_("phone / SMS"),
    "lapor": N_("SP4N-LAPOR!"), "social_media": N_("social media"),
}
DECISION_LABELS = {
    "clarify": N_("Clarify with the reporter (verification)"),
    "not_processed": N_("Not processed"),
    "archived": N_("Archived for lack of evidence"),
    "forward": N_("Outside our authority: forward to a unit or an agency"),
    "adtt": N_("Audit with a specific purpose (ADTT)"),
    "investigation": N_("Investigative audit"),
}
OUTCOME_LABELS = {
    "substantiated": N_("substantiated"), "not_substantiated": N_("not substantiated"),
    "archived": N_("archived"), "not_processed": N_("not processed"),
    "forwarded": N_("forwarded"), "duplicate": N_("duplicate"),
}
FIELD_LABELS = {
    "summary": N_("Summary"), "what": N_("What happened"), "who_name": N_("Who (name)"),
    "who_position": N_("Who (position)"), "who_unit": N_("Who (unit)"), "where": N_("Where"),
    "when": N_("When"), "how": N_("How"), "evidence": N_("Evidence"),
    "sender": N_("Sender (off-line complaints; never forwarded)"),
    "reference": N_("Letter number or reference"),
    "core_issue": N_("Core issue"), "rule": N_("Rule concerned"), "grounds": N_("Grounds"),
}
CLOCK_LABELS = {
    "running": N_("running"), "due_soon": N_("due soon"), "overdue": N_("overdue"),
    "met": N_("met"), "late": N_("met late"), "not_applicable": N_("not applicable"),
}
AGENCY_LABELS = {"kpk": "KPK", "ombudsman": "Ombudsman RI", "lpsk": "LPSK",
                 "police": N_("police"), "apip": N_("another APIP"), "unit": N_("a unit")}


def user(request: Any) -> User:
    ident = request.identity
    return User(ident.key_id, ident.name, ident.role)


def content_key(request: Any) -> bytes | None:
    ident = request.identity
    return ident.vault_key if ident is not None and ident.can_read_content else None


def case_settings(request: Any) -> CaseSettings:
    return request.find_service(CaseSettings)


def clock(request: Any) -> Clock:
    """The workbench's clock (the deployment's time zone): what "today" is for every case."""
    return request.find_service(Clock)


def case_search(request: Any) -> CaseSearch:
    return request.find_service(CaseSearch)


def case_service(request: Any) -> CaseService:
    key = content_key(request)
    cs = case_settings(request)
    return CaseService(request.dbsession, case_search(request), cs.calendar, clock(request),
                       sketch_key(key) if key else None, cs.policy, cs.categories)


def labels(request: Any) -> dict[str, Any]:
    return {"state_labels": STATE_LABELS, "channel_labels": CHANNEL_LABELS,
            "decision_labels": DECISION_LABELS, "outcome_labels": OUTCOME_LABELS,
            "field_labels": FIELD_LABELS, "clock_labels": CLOCK_LABELS,
            "agency_labels": AGENCY_LABELS, "retaliation_labels": RETALIATION_LABELS,
            "categories": case_settings(request).categories,
            "clock_defs": clocks.CLOCKS, "policy": case_settings(request).policy,
            "service_targets": clocks.SERVICE_TARGETS,
            "due_soon_days": clocks.DUE_SOON_DAYS,
            "csrf_token": request.session_csrf_token,
            "can": lambda p: allowed(request.identity.role, p)}


def int_param(value: Any, default: int = 1) -> int:
    try:
        return max(1, min(int(value), 10**9))
    except (TypeError, ValueError):
        return default


def date_param(value: str | None, required: bool = True) -> dt.date | None:
    value = (value or "").strip()
    if not value and not required:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise WorkflowError("bad_date", "bad date") from None


def case_id(request: Any) -> int:
    try:
        return int(request.matchdict["id"])
    except (KeyError, ValueError):
        raise HTTPNotFound() from None


def submission_of_case(request: Any) -> tuple[Case, db.Submission]:
    case = request.dbsession.get(Case, case_id(request))
    sub = request.dbsession.get(db.Submission, request.matchdict["submission_id"])
    if case is None or sub is None or sub.kind != "file" or sub.report_id != case.report_id \
            or not sub.file_path:
        raise HTTPNotFound()
    return case, sub
