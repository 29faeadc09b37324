"""One case: its page, and every POST on it (the action name picks the service method)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import select

from workbench import escrow, vault
from workbench.i18n import N_
from workbench.safecopy import redact

from . import access, forwarding, outgoing, preview, redactions, retaliation, safecopies
from .models import Agency, Forward
from .viewsupport import case_id as _case_id
from .viewsupport import case_service
from .viewsupport import clock as _clock
from .viewsupport import content_key as _key
from .viewsupport import date_param as _date
from .viewsupport import labels as _labels
from .viewsupport import user as _user
from .workflow import FOUR_W_ONE_H, Decision, Forbidden, Outcome, Permission, WorkflowError, allowed

# What the case page says after each action (the redirect names it: ?done=<action>), so an
# auditor sees that the step was taken; an unknown name shows nothing.
DONE_MESSAGES = {
    "start": N_("Review started."),
    "review": N_("Review saved."),
    "decide": N_("Decision recorded."),
    "ask": N_("Question queued: it leaves with the next reply bundle."),
    "escrow": N_("Request to open the identity queued: it leaves with the next reply bundle."),
    "note": N_("Note added."),
    "verified": N_("Verification finding recorded."),
    "close": N_("Case closed."),
    "duplicate": N_("Marked as a duplicate."),
    "reopen": N_("Case reopened."),
    "acknowledge": N_("Acknowledgment recorded."),
    "assign": N_("Assignment saved."),
    "lend": N_("File loan recorded."),
}


def case_view(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    detail = svc.detail(_user(request), _case_id(request))
    forwards = request.dbsession.execute(
        select(Forward, Agency).join(Agency, Agency.id == Forward.agency_id)
        .where(Forward.case_id == detail.case.id).order_by(Forward.id)).all()
    agencies = request.dbsession.scalars(select(Agency).order_by(Agency.name)).all()
    user, today = _user(request), _clock(request).today()
    flags = retaliation.flags(request.dbsession, user.role, today, detail.case.id)
    red = redactions.load(request.registry.settings["workbench.vault"], detail.case.id,
                          vault.vault_box_key(_key(request)))
    reasons = (retaliation.reasons(request.dbsession, user.role, vault.vault_box_key(_key(request)),
                                   detail.case.id)
               if allowed(user.role, Permission.DECIDE) and flags else {})
    return {**_labels(request), "d": detail, "c": detail.case, "clock": svc.case_clock(detail.case),
            "flags": flags, "flag_reasons": reasons,
            "four_w": FOUR_W_ONE_H, "decisions": list(Decision),
            "outcomes": [o for o in Outcome if o is not Outcome.DUPLICATE],
            "forwards": forwards, "agencies": agencies, "previewable": preview.PREVIEWABLE,
            "has_safe_copy": lambda sid: safecopies.exists(
                request.registry.settings["workbench.vault"], sid),
            "original_kind": outgoing.original_kind,
            "redacted_regions": lambda sid: len(red.of(sid)),
            "forward_fields": forwarding.FORWARD_FIELDS,
            "redaction_phrases": red.phrases,
            "blackout": lambda text: redact.redact_text(text, red.phrases),
            "escrow_deposits": escrow.deposits(request.dbsession, detail.case.report_id),
            "access": access.people(request.dbsession, detail.case),
            "done_message": DONE_MESSAGES.get(request.GET.get("done", ""))}


def case_action(request: Any) -> Any:
    """Every POST on a case: the action name picks the service method."""
    svc = case_service(request)
    user, cid, p = _user(request), _case_id(request), request.form.as_dict()
    action = request.matchdict["action"]
    if action == "start":
        svc.start_review(user, cid)
    elif action == "review":
        review = {"complete": {k: p.get(f"complete_{k}") == "1" for k in FOUR_W_ONE_H},
                  "darwas": {"1": True, "0": False}.get(p.get("darwas", "")),
                  "category": p.get("category", ""), "core_issue": p.get("core_issue", ""),
                  "rule": p.get("rule", ""), "notes": p.get("notes", ""),
                  "related": p.get("related", "").replace(",", " ").split()}
        svc.save_review(user, cid, review, submit=p.get("submit") == "1")
    elif action == "decide":
        svc.decide(user, cid, p.get("decision", ""), p.get("reason", ""))
    elif action == "ask":
        svc.ask(user, cid, p.get("text", ""))
    elif action == "escrow":
        svc.request_identity(user, cid, p.get("deposit", ""), p.get("reason", ""))
    elif action == "note":
        svc.add_note(user, cid, p.get("text", ""), kind=p.get("kind", "note"))
    elif action == "verified":
        svc.verification_done(user, cid, p.get("finding", ""))
    elif action == "close":
        svc.close(user, cid, p.get("outcome", ""), p.get("note", ""),
                  policy_improvement=p.get("policy_improvement") == "1")
    elif action == "duplicate":
        svc.mark_duplicate(user, cid, p.get("of", ""))
    elif action == "reopen":
        svc.reopen(user, cid, p.get("reason", ""))
    elif action == "acknowledge":
        svc.acknowledge(user, cid)
    elif action == "assign":
        access.assign(request.dbsession, user, svc.get_case(user, cid),
                      request.POST.getall("member"), _clock(request).today())
    elif action == "recuse":
        if p.get("confirm") != "1":
            raise WorkflowError("bad_input", "confirm the declaration")
        access.recuse(request.dbsession, user, svc.get_case(user, cid),
                      _clock(request).today())
        return HTTPSeeOther(request.route_url("case.list"))
    elif action == "lend":
        svc.lend_file(user, cid, p.get("borrower", ""), p.get("purpose", ""),
                      _date(p.get("due_back"), required=False))
    else:
        raise HTTPNotFound()
    return HTTPSeeOther(request.route_url("case.view", id=cid, _query={"done": action}))
