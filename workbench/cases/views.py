"""Case management pages. Thin: parse the form, call the service, redirect or render.

Pyramid permissions gate each page coarsely (workbench.web.security); the service checks the
finer rule again (only a lead decides, a compliance officer never opens content), so a view
that forgot a check still cannot do what the role may not."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import select

from peluit.ground.forms import UploadedFile
from policies import clocks
from workbench import db, escrow, filestore, safecopy, vault
from workbench.i18n import N_
from workbench.safecopy import redact
from workbench.web.security import Permission as WebPermission

from . import (
    access,
    export,
    forwarding,
    inbox,
    outgoing,
    preview,
    redaction_views,
    redactions,
    retaliation,
    safecopies,
    scrub,
)
from . import retention as case_retention
from .models import Agency, Case, Forward
from .search import CaseSearch
from .service import CONTENT_FIELDS, CaseService, Filters
from .viewsupport import case_id as _case_id
from .viewsupport import case_service
from .viewsupport import content_key as _key
from .viewsupport import date_param as _date
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels
from .viewsupport import submission_of_case as _submission_of_case
from .viewsupport import user as _user
from .workflow import (
    DEFAULT_CATEGORIES,
    FOUR_W_ONE_H,
    OFFLINE_CHANNELS,
    Channel,
    Decision,
    Forbidden,
    Outcome,
    Permission,
    State,
    WorkflowError,
    allowed,
    require,
)

# Stable error codes → msgids; the English text of WorkflowError is for logs and tests.
MESSAGES = {
    "forbidden": N_("Your role does not allow this step."),
    "excluded": N_("You are not among the people who may open this case: you declared a "
                   "conflict of interest on it, or a lead assigned it to others."),
    "recused": N_("A member who declared a conflict of interest on this case cannot be "
                  "assigned to it."),
    "bad_state": N_("The case is not at a step where this can be done."),
    "not_found": N_("Not found."),
    "bad_input": N_("Some of the input is not valid."),
    "bad_date": N_("Give dates as YYYY-MM-DD."),
    "too_long": N_("A text is too long."),
    "what_required": N_("Say what happened."),
    "bad_category": N_("Unknown category."),
    "bad_channel": N_("Choose the channel the complaint came through."),
    "future_day": N_("The day received is in the future."),
    "bad_related": N_("No case with that number (or it is this case)."),
    "review_incomplete": N_("Submitting the review needs a category and darwas / non-darwas."),
    "bad_decision": N_("Unknown decision."),
    "retaliation_unanswered": N_("Answer the reporter first (a message or question on the "
                                 "case page): the policy promises a response through the "
                                 "follow-up page."),
    "confirm_disposal": N_("Tick the box that confirms the disposal: it cannot be undone."),
    "retention": N_("The case is still within its retention period."),
    "archive_unverified": N_("A report is archived for lack of evidence only after the "
                             "reporter was asked for more: decide on clarification first, "
                             "and archive after the verification's finding."),
    "reason_required": N_("Write the reason down."),
    "bad_outcome": N_("Choose an outcome."),
    "no_channel": N_("This complaint came off-line: there is no channel to the reporter. "
                     "Record the contact as a note."),
    "text_required": N_("The text is empty."),
    "outbox": N_("The question could not be queued."),
    "escrow": N_("The request to open the identity could not be made: choose a deposit of this "
                 "case and write the reason (at least 10 characters)."),
    "file_out": N_("The file is already lent and not back yet."),
    "locked": N_("This needs the vault key, which your session does not hold."),
    "forward_state": N_("Only a case the lead decided to forward can be forwarded."),
    "no_agency": N_("Choose an enrolled agency."),
    "gpg": N_("GnuPG could not encrypt to that key."),
    "bad_key": N_("The key file must hold exactly one OpenPGP public key."),
    "duplicate_key": N_("That key is already enrolled."),
    "preview": N_("This file cannot be previewed. Export it and open it on a safe machine."),
    "safecopy": N_("No safe copy could be made of this file: it is not a PDF, Office document, "
                   "image or text file, or it is damaged, hostile or beyond the sandbox's "
                   "limits. Do not open it on this machine."),
    "scrub": N_("A ticked file could not be cleaned of its hidden data (damaged, encrypted or "
                "too large), so nothing was forwarded. Untick it, or forward a cleaned copy."),
    "safecopy_forward": N_("No safe copy could be made of a ticked file (it is not a PDF, Office "
                           "document, image or text file, or it is damaged, hostile or beyond "
                           "the sandbox's limits), so nothing was forwarded. Untick it, or "
                           "choose to send its original."),
    "no_safe_copy": N_("Make a safe copy of this file first: redaction works on the safe copy."),
    "bad_region": N_("That region is not on the page. Give the edges in percent, 0 to 100."),
}
def _fresh(request: Any, svc: CaseService) -> None:
    """Open cases for newly imported reports (key holders only: it decrypts them)."""
    key = _key(request)
    if key is not None:
        retaliation.remember_box_key(request.dbsession, key)
        svc.sync_reports(_user(request))
        request.registry.case_search.warm_up(request.registry.workbench_sessionmaker, key)


# -- lists ---------------------------------------------------------------------------------------

def case_list(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    _fresh(request, svc)
    g = request.GET
    f = Filters(q=g.get("q", "")[:200], state=g.get("state", ""), category=g.get("category", ""),
                channel=g.get("channel", ""), deadline=g.get("deadline", ""),
                clock=g.get("clock", "") if g.get("clock", "") in clocks.BY_NAME else "",
                page=_int(g.get("page")))
    page = svc.list_cases(_user(request), f)
    params = {k: v for k, v in (("q", f.q), ("state", f.state), ("category", f.category),
                                ("channel", f.channel), ("deadline", f.deadline),
                                ("clock", f.clock)) if v}
    return {**_labels(request), "page": page, "filters": f, "query": urlencode(params),
            "clocks": svc.case_clocks(page.items),
            "channels": list(Channel), "states": list(State)}


def deadlines(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    user = _user(request)
    g = request.GET
    clock = g.get("clock", "") if g.get("clock", "") in clocks.BY_NAME else ""
    # The first 50 of each; the full lists are one click away (the list's deadline filter).
    overdue = svc.list_cases(user, Filters(deadline="overdue", clock=clock))
    soon = svc.list_cases(user, Filters(deadline="due_soon", clock=clock))
    return {**_labels(request), "overdue": overdue, "soon": soon, "clock": clock,
            "clocks": svc.case_clocks(overdue.items + soon.items),
            "counts": svc.deadline_counts()}


def home(request: Any) -> dict[str, Any]:
    """The home page's inbox (workbench/web/views/auth.py renders it)."""
    svc = case_service(request)
    _fresh(request, svc)
    reg = request.registry
    box = inbox.build(request.dbsession, reg.case_calendar, reg.case_clock.today(),
                      reg.case_policy.carry_days)
    if request.identity is not None:  # the numbers of cases the member may not open go too
        out = access.excluded(request.dbsession, request.identity.key_id, request.identity.role)
        box.new = [c for c in box.new if c.id not in out]
        box.unread = [(c, n) for c, n in box.unread if c.id not in out]
        box.due_cases = [c for c in box.due_cases if c.id not in out]
        box.closed_new = [(c, n) for c, n in box.closed_new if c.id not in out]
    return {**_labels(request), **inbox.as_context(box)}


# -- intake --------------------------------------------------------------------------------------

def new_form(request: Any, error: str | None = None, values: Any = None) -> dict[str, Any]:
    return {**_labels(request), "error": error, "values": values or {},
            "channels": OFFLINE_CHANNELS, "fields": CONTENT_FIELDS,
            "today": request.registry.case_clock.today().isoformat()}


def new_submit(request: Any) -> Any:
    svc = case_service(request)
    p = request.form.as_dict()
    try:
        case = svc.intake_offline(_user(request), p.get("channel", ""), _date(p.get("received")),
                                  {k: p.get(k, "") for k in (*CONTENT_FIELDS, "category")})
    except Forbidden:
        raise
    except WorkflowError as exc:
        request.response.status_int = 400
        return new_form(request, request.gettext(MESSAGES.get(exc.code, MESSAGES["bad_input"])),
                        p)
    return HTTPSeeOther(request.route_url("case.view", id=case.id))


# -- one case ------------------------------------------------------------------------------------

def case_view(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    detail = svc.detail(_user(request), _case_id(request))
    forwards = request.dbsession.execute(
        select(Forward, Agency).join(Agency, Agency.id == Forward.agency_id)
        .where(Forward.case_id == detail.case.id).order_by(Forward.id)).all()
    agencies = request.dbsession.scalars(select(Agency).order_by(Agency.name)).all()
    user, today = _user(request), request.registry.case_clock.today()
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
            "access": access.people(request.dbsession, detail.case)}


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
                      request.POST.getall("member"), request.registry.case_clock.today())
    elif action == "recuse":
        if p.get("confirm") != "1":
            raise WorkflowError("bad_input", "confirm the declaration")
        access.recuse(request.dbsession, user, svc.get_case(user, cid),
                      request.registry.case_clock.today())
        return HTTPSeeOther(request.route_url("case.list"))
    elif action == "lend":
        svc.lend_file(user, cid, p.get("borrower", ""), p.get("purpose", ""),
                      _date(p.get("due_back"), required=False))
    else:
        raise HTTPNotFound()
    return HTTPSeeOther(request.route_url("case.view", id=cid))


def loan_return(request: Any) -> Any:
    svc = case_service(request)
    svc.return_file(_user(request), _int(request.matchdict["loan"], 0))
    return HTTPSeeOther(request.route_url("case.register"))


def register(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    only_out = request.GET.get("out") == "1"
    return {**_labels(request), "loans": svc.file_register(_user(request), only_out),
            "only_out": only_out, "today": request.registry.case_clock.today()}


# -- retention and disposal ----------------------------------------------------------------------

def retention_list(request: Any) -> dict[str, Any]:
    """Closed cases past the retention period (plain metadata only), for a lead to dispose of."""
    reg = request.registry
    today = reg.case_clock.today()
    return {**_labels(request), "due": case_retention.due(request.dbsession, today,
                                                          reg.case_retention_years),
            "years": reg.case_retention_years, "today": today,
            "can_dispose": allowed(request.identity.role, Permission.DECIDE)
            and _key(request) is not None}


def retention_dispose(request: Any) -> Any:
    """Dispose of the ticked cases (a lead with the vault key); each is logged."""
    from workbench.vault import VaultError

    reg = request.registry
    user = _user(request)
    require(user.role, Permission.DECIDE)
    if _key(request) is None:
        raise WorkflowError("locked", "disposal needs the vault key")
    if request.POST.get("confirm") != "1":
        raise WorkflowError("confirm_disposal", "tick the confirmation")
    wanted = {_int(v, 0) for v in request.POST.getall("case")}
    today = reg.case_clock.today()
    svc = case_service(request)
    try:
        for d in case_retention.due(request.dbsession, today, reg.case_retention_years):
            if d.case.id in wanted:
                case_retention.dispose(request.dbsession, user, d.case, reg.settings[
                    "workbench.vault"], today, reg.case_retention_years, svc._at(),
                    reg.case_search)
    except (OSError, VaultError):
        raise WorkflowError("bad_input", "disposal failed") from None
    return HTTPSeeOther(request.route_url("case.retention"))


# -- retaliation ---------------------------------------------------------------------------------

def retaliation_list(request: Any) -> dict[str, Any]:
    """Every retaliation flag: case number, day flagged, due day, status. No content, so the
    compliance officer sees it too; new flags are picked up here (plain columns only)."""
    reg = request.registry
    retaliation.sync(request.dbsession, reg.case_calendar, reg.case_policy)
    rows = retaliation.flags(request.dbsession, request.identity.role, reg.case_clock.today())
    return {**_labels(request), "rows": rows}


def retaliation_handle(request: Any) -> Any:
    clock = request.registry.case_clock
    flag = retaliation.handle(request.dbsession, request.identity.role, request.identity.key_id,
                              _int(request.matchdict["flag"], 0), request.form.text("reason"),
                              clock.today(),
                              at=clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"))
    back = request.form.text("back") == "case"
    return HTTPSeeOther(request.route_url("case.view", id=flag.case_id) if back
                        else request.route_url("case.retaliation"))


# -- attachments ---------------------------------------------------------------------------------

def _file_bytes(request: Any, sub: db.Submission, limit: int) -> bytes:
    key = vault.vault_box_key(request.identity.require_content())
    out = bytearray()
    for chunk in filestore.iter_plaintext(request.registry.settings["workbench.vault"],
                                          sub, key):
        out += chunk
        if len(out) > limit:
            raise preview.PreviewError("too large")
    return bytes(out)


def file_preview(request: Any) -> Response:
    """A re-encoded PNG of an image attachment (made in the sandboxed child process)."""
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    _case, sub = _submission_of_case(request)
    if (sub.content_type or "") not in preview.PREVIEWABLE:
        raise WorkflowError("preview", "not an image")
    try:
        png = preview.render(_file_bytes(request, sub, preview.MAX_INPUT))
    except preview.PreviewError:
        raise WorkflowError("preview", "no preview") from None
    response = Response(body=png, content_type="image/png")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _make_safe_copy(request: Any, case: Case, sub: db.Submission) -> bytes:
    """Render the attachment in the sandbox (workbench.safecopy), keep the pixels-only PDF in
    the vault, encrypted, and its OCR words in the case's thread; return the PDF."""
    key = vault.vault_box_key(request.identity.require_content())
    try:
        copy = safecopy.make(_file_bytes(request, sub, safecopy.MAX_INPUT), ocr=True)
    except (preview.PreviewError, safecopy.SafeCopyError, safecopy.SandboxUnavailable):
        raise WorkflowError("safecopy", "no safe copy") from None
    safecopies.store(request.registry.settings["workbench.vault"], sub.id, copy.pdf, key)
    svc, user = case_service(request), _user(request)
    svc.add_ocr_text(user, case, filestore.download_name(sub.file_name, "file"),
                     " ".join(copy.text))
    svc.audit(user, "case.safe_copy", case, submission=sub.id, pages=copy.pages)
    return copy.pdf


def file_safe_copy_make(request: Any) -> Any:
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    case, sub = _submission_of_case(request)
    _make_safe_copy(request, case, sub)
    return HTTPSeeOther(request.route_url("case.view", id=case.id, _anchor=f"file-{sub.id}"))


def file_safe_copy(request: Any) -> Response:
    """The stored safe copy, decrypted on the way out, as a download."""
    key = _key(request)
    if key is None:
        raise Forbidden(Permission.READ)
    _case, sub = _submission_of_case(request)
    pdf = safecopies.load(request.registry.settings["workbench.vault"], sub.id,
                          vault.vault_box_key(key))
    if pdf is None:
        raise HTTPNotFound()
    name = filestore.download_name(sub.file_name, "file").rsplit(".", 1)[0] + "-safe.pdf"
    response = Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- forwarding ----------------------------------------------------------------------------------

def forward_submit(request: Any) -> Any:
    """Seal the package: each ticked file as its redacted safe copy (made now if nobody made
    one), or as its original when the auditor chose that for it (outgoing.py); then a note in
    the case's thread says what left and what was taken out of each file."""
    svc = case_service(request)
    user = _user(request)
    detail = svc.detail(user, _case_id(request))
    p = request.form
    vault_path = request.registry.settings["workbench.vault"]
    box = vault.vault_box_key(_key(request))
    red = redactions.load(vault_path, detail.case.id, box)
    prepared, names = [], []
    for sub_id in p.getall("file"):
        if not isinstance(sub_id, str):
            raise WorkflowError("bad_input", "a file part where a submission id belongs")
        sub = request.dbsession.get(db.Submission, sub_id)
        if sub is None or sub.kind != "file" or sub.report_id != detail.case.report_id:
            raise WorkflowError("bad_input", "not a file of this case")
        choice = p.text(f"as_{sub.id}", outgoing.SAFE)
        if choice not in (outgoing.SAFE, outgoing.ORIGINAL):
            raise WorkflowError("bad_input", "unknown form of a file")
        try:
            if choice == outgoing.SAFE:
                pdf = safecopies.load(vault_path, sub.id, box)
                if pdf is None:
                    try:
                        pdf = _make_safe_copy(request, detail.case, sub)
                    except WorkflowError:
                        raise WorkflowError("safecopy_forward", f"{sub.id}: no safe copy") \
                            from None
                prepared.append(outgoing.safe_copy(pdf, red.of(sub.id), red.phrases))
            else:
                prepared.append(outgoing.original(_file_bytes(request, sub, 64 * 1024 * 1024),
                                                  sub.file_name, sub.content_type))
        except (preview.PreviewError, scrub.ScrubError):
            raise WorkflowError("scrub", f"{sub.id} could not be cleaned") from None
        names.append(filestore.download_name(sub.file_name, "file"))
    fields = {k: redact.redact_text(p.text(k), red.phrases) for k in forwarding.FORWARD_FIELDS}
    clock = request.registry.case_clock
    record, _path = forwarding.forward(
        request.dbsession, forwarding.keyring(vault_path), vault_path, user.role, user.id,
        detail.case, _int(p.text("agency"), 0), fields, request.registry.case_categories,
        clock.today(), clock.now(), [f.file for f in prepared], [f.form for f in prepared])
    svc.add_note(user, detail.case.id, _forward_report(request, record.reference, names,
                                                        prepared))
    svc.audit(user, "case.forward", detail.case, reference=record.reference,
              agency=record.agency_id, files=len(prepared),
              originals=sum(f.form != "safe-copy" for f in prepared))
    return HTTPSeeOther(request.route_url("case.forward.file", id=detail.case.id,
                                          reference=record.reference))


def _forward_report(request: Any, reference: str, names: list[str],
                    prepared: list[outgoing.Prepared]) -> str:
    """The thread's note on a forward: per file, the form it left in and what was removed (names
    of metadata, never values), in the auditor's language."""
    _ = request.gettext
    lines = [_("Forwarded, reference %(ref)s.") % {"ref": reference}]
    for i, (name, f) in enumerate(zip(names, prepared, strict=True)):
        sent = f"lampiran-{i + 1}.{f.file.extension}"
        if f.form == "safe-copy":
            lines.append(_("%(sent)s: safe copy of %(name)s (page pixels and the words read from "
                           "them). Removed: metadata (author, software, times), scripts and "
                           "actions, links and forms, attached files, fonts and the original "
                           "text layer (re-made by OCR), earlier versions. Blacked out: "
                           "%(regions)s regions, %(words)s words.")
                         % {"sent": sent, "name": name, "regions": f.regions, "words": f.words})
        elif f.form == "original-as-is":
            lines.append(_("%(sent)s: the ORIGINAL %(name)s, sent as it is: nothing was removed "
                           "and no redaction applies.") % {"sent": sent, "name": name})
        else:
            lines.append(_("%(sent)s: the ORIGINAL %(name)s; no redaction applies. Removed: "
                           "%(removed)s. Anything else in it (comments, tracked changes, hidden "
                           "content) went with it.")
                         % {"sent": sent, "name": name,
                            "removed": ", ".join(f.removed) or _("nothing found")})
    return "\n".join(lines)


def forward_file(request: Any) -> Response:
    """Download the encrypted package (it is ciphertext to the agency's key)."""
    rec = request.dbsession.scalars(select(Forward).where(
        Forward.reference == request.matchdict["reference"],
        Forward.case_id == _case_id(request))).first()
    if rec is None:
        raise HTTPNotFound()
    path = forwarding.Path(request.registry.settings["workbench.vault"]) / forwarding.OUT_DIR \
        / rec.file_name
    if not path.is_file():
        raise HTTPNotFound()
    response = Response(body=path.read_bytes(), content_type="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{rec.file_name}"'
    return response


def agencies(request: Any, error: str | None = None) -> dict[str, Any]:
    ring = forwarding.keyring(request.registry.settings["workbench.vault"])
    rows = request.dbsession.scalars(select(Agency).order_by(Agency.name)).all()
    keys = {}
    for a in rows:
        try:
            keys[a.id] = ring.get(a.fingerprint)
        except Exception:  # a key removed from the keyring by hand: show the row without it
            keys[a.id] = None
    return {**_labels(request), "agencies": rows, "keys": keys, "error": error,
            "kinds": forwarding.AGENCY_KINDS}


def agency_add(request: Any) -> Any:
    p = request.form
    ring = forwarding.keyring(request.registry.settings["workbench.vault"])
    armored = p.text("key")
    upload = p.get("key_file")
    if isinstance(upload, UploadedFile) and upload.data:
        armored = upload.data[:1024 * 1024 + 1].decode("utf-8", "replace")
    try:
        agency = forwarding.add_agency(request.dbsession, ring, request.identity.role,
                                       p.text("name"), p.text("kind"), armored)
    except Forbidden:
        raise
    except WorkflowError as exc:
        request.response.status_int = 400
        return agencies(request, request.gettext(MESSAGES.get(exc.code, MESSAGES["bad_input"])))
    case_service(request).audit(_user(request), "agency.add", None,
                                 agency=agency.id, fingerprint=agency.fingerprint)
    return HTTPSeeOther(request.route_url("case.agencies"))


# -- statistics export ---------------------------------------------------------------------------

def stats_export(request: Any) -> Response:
    reg = request.registry
    data = export.export(request.dbsession, request.identity.role, reg.case_calendar,
                         reg.case_clock.today())
    response = Response(body=json.dumps(data, ensure_ascii=False, sort_keys=True).encode(),
                        content_type="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="peluit-stats-export.json"'
    return response


# -- locking -------------------------------------------------------------------------------------

def drop_index_when_locked(event: Any) -> None:
    """The search index is decrypted content: when no session holds the vault key any more
    (everyone logged out or idled out), forget it; the next unlock builds it again."""
    reg = event.request.registry
    search = getattr(reg, "case_search", None)
    if search is None or search.index.empty:
        return
    store = getattr(reg, "workbench_sessions", None)
    sessions = list(getattr(store, "_sessions", {}).values())  # the vault's session store
    idle = getattr(store, "idle_seconds", 0)
    now = getattr(store, "_clock", None)
    live = [s for s in sessions if s.vault_key is not None
            and (now is None or now() - s.last_seen <= idle)]
    if not live and not search.warming:
        search.clear()


# -- errors --------------------------------------------------------------------------------------

def workflow_error(exc: WorkflowError, request: Any) -> dict[str, Any]:
    request.response.status_int = 403 if isinstance(exc, (Forbidden, access.Excluded)) else (
        404 if exc.code == "not_found" else 400)
    back = None
    if isinstance(exc, access.Excluded):
        back = None  # no way "back to the case": the member may not open it
    elif "id" in (request.matchdict or {}):
        back = request.route_url("case.view", id=request.matchdict["id"])
    return {"message": request.gettext(MESSAGES.get(exc.code, MESSAGES["bad_input"])),
            "back": back}


def includeme(config: Any) -> None:
    r = config.add_route
    r("case.list", "/cases")
    r("case.deadlines", "/cases/deadlines")
    r("case.new", "/cases/new")
    r("case.register", "/cases/register")
    r("case.agencies", "/cases/agencies")
    r("case.export", "/cases/export.json")
    r("case.retaliation", "/cases/retaliation")
    r("case.retention", "/cases/retention")
    r("case.retaliation.handle", "/cases/retaliation/{flag:\\d+}/handled")
    r("case.loan.return", "/cases/loans/{loan:\\d+}/return")
    r("case.view", "/cases/{id:\\d+}")
    r("case.preview", "/cases/{id:\\d+}/files/{submission_id:[0-9a-f]{32}}/preview")
    r("case.safecopy", "/cases/{id:\\d+}/files/{submission_id:[0-9a-f]{32}}/safe-copy")
    redaction_views.routes(config)
    r("case.forward", "/cases/{id:\\d+}/forward")
    r("case.forward.file", "/cases/{id:\\d+}/forward/{reference:[0-9a-f]{16}}")
    r("case.action", "/cases/{id:\\d+}/{action:[a-z]+}")

    tpl = "workbench.cases:templates/"
    v = config.add_view
    stats, content, decide = (WebPermission.VIEW_STATS, WebPermission.VIEW_CONTENT,
                              WebPermission.DECIDE)
    v(case_list, route_name="case.list", request_method="GET", renderer=tpl + "list.jinja2",
      permission=stats)
    v(deadlines, route_name="case.deadlines", request_method="GET",
      renderer=tpl + "deadlines.jinja2", permission=stats)
    v(new_form, route_name="case.new", request_method="GET", renderer=tpl + "new.jinja2",
      permission=content)
    v(new_submit, route_name="case.new", request_method="POST", renderer=tpl + "new.jinja2",
      permission=content)
    v(case_view, route_name="case.view", request_method="GET", renderer=tpl + "case.jinja2",
      permission=content)
    v(case_action, route_name="case.action", request_method="POST", permission=content)
    v(loan_return, route_name="case.loan.return", request_method="POST", permission=content)
    v(register, route_name="case.register", request_method="GET",
      renderer=tpl + "register.jinja2", permission=stats)
    v(file_preview, route_name="case.preview", request_method="GET", permission=content)
    v(file_safe_copy_make, route_name="case.safecopy", request_method="POST", permission=content)
    v(file_safe_copy, route_name="case.safecopy", request_method="GET", permission=content)
    redaction_views.views(config)
    v(forward_submit, route_name="case.forward", request_method="POST", permission=content)
    v(forward_file, route_name="case.forward.file", request_method="GET", permission=content)
    v(agencies, route_name="case.agencies", request_method="GET",
      renderer=tpl + "agencies.jinja2", permission=content)
    v(agency_add, route_name="case.agencies", request_method="POST",
      renderer=tpl + "agencies.jinja2", permission=decide)
    v(stats_export, route_name="case.export", request_method="GET", permission=stats)
    v(retention_list, route_name="case.retention", request_method="GET",
      renderer=tpl + "retention.jinja2", permission=stats)
    v(retention_dispose, route_name="case.retention", request_method="POST", permission=decide)
    v(retaliation_list, route_name="case.retaliation", request_method="GET",
      renderer=tpl + "retaliation.jinja2", permission=stats)
    v(retaliation_handle, route_name="case.retaliation.handle", request_method="POST",
      permission=stats)
    from pyramid.events import ContextFound

    config.add_subscriber(access.guard, ContextFound)
    config.add_exception_view(workflow_error, context=WorkflowError,
                              renderer=tpl + "error.jinja2")
    config.add_workbench_nav("case.list", N_("Cases"), stats, order=5)
    config.add_workbench_nav("case.deadlines", N_("Deadlines"), stats, order=6)
    config.add_workbench_nav("case.retaliation", N_("Retaliation"), stats, order=6)
    config.add_workbench_nav("case.new", N_("New complaint"), content, order=7)
    config.add_workbench_nav("case.register", N_("File register"), stats, order=8)
    config.add_workbench_nav("case.retention", N_("Retention"), stats, order=8)
    config.add_workbench_nav("case.agencies", N_("Agencies"), content, order=9)


def configure(config: Any) -> None:
    """Registry-wide pieces: the search index and list catalog of this process, the working-day
    calendar and deadlines (``VAULT/cases.toml``, or the ``workbench.cases.policy_file``
    setting: a ``[calendar]`` table as policies/calendar.py reads it and an optional
    ``[cases] categories`` table of token = label), the clock. Open cases' due dates are
    recomputed at start, so an amended holiday decree moves them."""
    from pathlib import Path

    from sqlalchemy.orm import Session

    from peluit.ground.clock import Clock
    from policies.calendar import DeadlinePolicy, WorkingCalendar, load_config

    from .deadlines import load_categories, recompute_deadlines

    settings = config.registry.settings
    default = Path(settings["workbench.vault"]) / "cases.toml"
    policy_file = settings.get("workbench.cases.policy_file") or (
        str(default) if default.is_file() else None)
    policy, overrides = load_config(policy_file) if policy_file else (DeadlinePolicy(), ())
    calendar = WorkingCalendar(overrides)
    config.registry.case_search = CaseSearch()
    config.registry.workbench_home = home
    config.registry.case_calendar = calendar
    config.registry.case_policy = policy
    config.registry.case_clock = Clock(settings.get("workbench.cases.zone", "Asia/Jakarta"))
    config.registry.case_categories = (load_categories(policy_file) if policy_file
                                       else dict(DEFAULT_CATEGORIES))
    config.registry.case_retention_years = case_retention.load_years(policy_file)
    from workbench import db as _db

    engine = _db.make_engine(settings["workbench.vault"])
    try:
        _db.create_schema(engine)
        with Session(engine) as session, session.begin():
            recompute_deadlines(session, calendar, policy)
            # Retaliation reports imported while the workbench was stopped are flagged now.
            from .retaliation import sync as sync_retaliation

            sync_retaliation(session, calendar, policy)
    finally:
        engine.dispose()
