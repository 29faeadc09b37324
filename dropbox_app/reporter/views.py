"""Reporter views: parse, call a service, render or redirect. Every page works without
JavaScript; every form carries the CSRF token; nothing a reporter typed is logged or kept
outside an envelope."""

from __future__ import annotations

import re
from typing import Any

from nacl.public import PublicKey
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response
from sqlalchemy import select

from crypto import codename as codenames
from crypto.errors import InvalidCodenameError

from .. import auditors, loginbudget, routing
from ..config import Config
from ..db import release
from ..forms import FormError, check_csrf
from ..ingest import Limits, StreamedForm, ingest
from ..loginbudget import LoginBudget
from ..models import Report, Reporter, new_id
from ..sessions import COOKIE, SessionData, SessionExpired, Sessions
from ..store import Store
from ..throttle import KdfGate, LoginThrottle, spend_token, token_spent
from . import authorship, compose, deposits, services
from .policy import conflict_pins, deadlines, escrow_terms, signed_policy
from .render import render
from .settings import ReporterSettings

HONEYPOT = "website"
REPORT_LIMITS = Limits(text_fields=frozenset({*services.REPORT_FIELDS, "form_token",
                                               compose.FIELD, HONEYPOT,
                                               *deposits.FORM_FIELDS}))
MESSAGE_LIMITS = Limits(text_fields=frozenset({"text", "in_reply_to", "form_token", "form_key",
                                               compose.FIELD, HONEYPOT, routing.FORM_FIELD}))


class NotReady(Exception):
    """No auditor card is enrolled: nothing can be accepted, since nothing could be sealed."""


# -- helpers ---------------------------------------------------------------------------------

def _cfg(request: Request) -> Any:
    return request.find_service(Config)


def _session(request: Request, *, reporter: bool = False) -> SessionData:
    """The live session, or SessionExpired (turned into a clear page) if there is none."""
    state = request.session_state
    if state.data is None:
        raise SessionExpired()
    if reporter and state.data.reporter_id is None:
        raise SessionExpired()
    return state.data


def _recipients(request: Request) -> list:
    keys = auditors.recipients(request.dbsession)
    if not keys:
        raise NotReady()
    return keys


def _group_keys(request: Request, group: str) -> list:
    keys = auditors.recipients(request.dbsession, group, conflict_pins(request))
    if not keys:  # the group's cards were all disabled: nothing may go to another group
        raise NotReady()
    return keys


def _report_group(request: Request, report: Report | None, fields: dict[str, str]) -> str:
    """The group a report's messages are sealed to. With the reporter's key in the session
    (their own report), the route sealed on the report's row says it; a form sent on a compose
    grant alone carries the group the page was rendered with (routing.FORM_FIELD). Nothing
    else decides it, and nothing defaults to the inspectorate but a report from before."""
    data = request.session_state.data
    if report is not None and data is not None and data.reporter_id == report.reporter_id:
        return routing.open_route(report.route, data.key)
    if report is not None and report.route is None:
        return routing.INSPECTORATE
    group = fields.get(routing.FORM_FIELD, "")
    if group not in routing.GROUPS:
        raise FormError("malformed")
    return group


def _message_chooser(request: Request, report: Report | None) -> Any:
    """Recipients for a streamed message: decided before the first file part, from the session
    (before the body) or the form's route field (read by then: it precedes the files)."""
    groups = auditors.recipient_groups(request.dbsession, conflict_pins(request))
    if report is not None:
        keys = groups[_report_group(request, report, {})]
        if not keys:
            raise NotReady()
        return keys

    def choose(fields: dict[str, str]) -> list:
        group = fields.get(routing.FORM_FIELD, "")
        if group not in routing.GROUPS or not groups[group]:
            raise FormError("malformed")
        return groups[group]

    return choose


def _form_token() -> str:
    return new_id()


def _grant_key(request: Request) -> bytes:
    return compose.grant_key(request.find_service(ReporterSettings).salt)


def _issue_grant(request: Request, purpose: str, subject: str) -> tuple[str, str]:
    """A fresh form token and the compose grant bound to it (see compose.py)."""
    token = _form_token()
    return token, compose.issue(_grant_key(request), request.clock.hour(), purpose, subject,
                                token)


def _check_grant(request: Request, fields: dict[str, str], purpose: str
                 ) -> compose.Grant | None:
    return compose.check(_grant_key(request), request.clock.hour(),
                         fields.get(compose.FIELD, ""), purpose, fields.get("form_token", ""))


def _undo_on_abort(request: Request, pendings: list) -> None:
    """Once the transaction commits, the envelopes' slots are let go (their rows are visible)
    and the store's times are covered; if it does not commit, the slots are emptied again."""
    request.find_service(Store).settle(request.dbsession,
                                            [pending for _sub, pending in pendings])


def _stream(request: Request, report_id: str, limits: Limits, recipients: Any) -> StreamedForm:
    """Read a multipart body into envelopes (security.check_body has capped its size).

    The request's database transaction ends first: an upload over Tor may take an hour, and a
    connection held for it is one the landing page does not get (the pool holds a handful).
    The session and the recipients were read before; the final record is a short transaction
    of its own after the body is in."""
    release(request)
    return ingest(request.body_file_raw, request.headers.get("Content-Type", ""),
                  request.content_length or 0, request.find_service(Store),
                  recipients, report_id, limits, lambda token: check_csrf(request, token))


def _set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")


def _housekeeping(request: Request, throttle: LoginThrottle) -> None:
    """Sweep ended sessions, old throttle windows and spent form tokens: cheap deletes, done
    where a write happens anyway, so that no background job is needed."""
    throttle.purge()
    Sessions(request.dbsession, request.clock).purge()
    services.purge_unused_reporters(request.dbsession, request.clock)


# -- landing ---------------------------------------------------------------------------------

def landing(request: Request) -> Response:
    ready = auditors.any_active(request.dbsession)
    conflict = auditors.conflict_group_ready(request.dbsession, conflict_pins(request))
    policy = signed_policy(request)
    dl = deadlines(request)
    key = (ready, conflict, getattr(policy, "footer", None) if policy else None, dl)
    return render(request, "landing.jinja2", cache_key=key, policy=policy, ready=ready,
                  conflict_group=conflict, deadlines=dl,
                  word_languages=services.word_languages())


def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on their own: an explicit "none" (204) rather than a 404,
    and no image to serve, parse or fingerprint."""
    return Response(status=204)


# -- codename --------------------------------------------------------------------------------

def codename_new(request: Request) -> Response:
    form = request.form
    if form.get(HONEYPOT):
        raise FormError("honeypot")
    _recipients(request)  # no codename for a channel that cannot accept a report
    release(request)  # no pool connection held while waiting for an argon2 slot
    words = form.get("words", request.language)
    gate = request.find_service(KdfGate)
    for _ in range(3):  # a collision with an existing reporter is astronomically unlikely
        codename = services.new_codename(words)
        with gate.slot():
            keys = services.derive(codename, request.find_service(ReporterSettings).salt,
                                   request.find_service(ReporterSettings).argon2)
        if services.find_reporter(request.dbsession, keys.lookup_id) is None:
            break
    services.register_codename(request.dbsession, request.clock, keys.lookup_id,
                               keys.public_key)
    request.session_state.replace(keys.private_key, keys.lookup_id, None, False)
    response = render(request, "codename.jinja2", codename=str(codename),
                      words=list(codename.words), words_language=codename.language)
    _set_session_cookie(response, request.session_state.token)
    return response


def codename_confirm(request: Request) -> Response:
    form = request.form
    data = _session(request)
    if form.get("written_down") != "yes":
        return render(request, "codename_unconfirmed.jinja2", status=400)
    data.confirmed = True
    return HTTPSeeOther(request.route_path("report.new"))


# -- report ----------------------------------------------------------------------------------

def report_form(request: Request) -> Response:
    data = _session(request)
    if data.reporter_id is not None:
        return HTTPSeeOther(request.route_path("followup"))
    if not data.confirmed:
        raise SessionExpired()
    reporter = services.find_reporter(request.dbsession, data.lookup_id)
    if reporter is None:  # a session opened before codenames were registered at issue
        reporter = services.register_codename(request.dbsession, request.clock,
                                                  data.lookup_id, data.key.public_key)
        request.dbsession.flush()
    return _report_page(request, reporter.id)


def _report_page(request: Request, reporter_id: str, fields: dict | None = None,
                 error: str | None = None, status: int = 200) -> Response:
    if not auditors.recipients(request.dbsession):
        raise NotReady()
    token, grant = _issue_grant(request, "report", reporter_id)
    return render(request, "report.jinja2", status=status, fields=fields or {}, error=error,
                  conflict_group=auditors.conflict_group_ready(request.dbsession,
                                                               conflict_pins(request)),
                  lang_form="report-form", lang_action=request.route_path("report.relang"),
                  categories=_cfg(request).categories, form_token=token, compose=grant,
                  compose_hours=compose.COMPOSE_HOURS,
                  max_upload=_cfg(request).max_upload_bytes, min_what=services.MIN_WHAT,
                  escrow=escrow_terms(request) is not None)


def report_relang(request: Request) -> Response:
    """The report form in the other language, with everything typed in it. The language
    switch on the form's page is a submit button of the form itself (sent urlencoded, without
    the files), so switching needs no JavaScript and loses nothing; the text only travels back
    in this response."""
    form = request.form  # CSRF checked by the view deriver; "files" is only a count
    data = request.session_state.data
    subject = None
    if data is not None and data.confirmed and data.reporter_id is None:
        reporter = services.find_reporter(request.dbsession, data.lookup_id)
        subject = reporter.id if reporter is not None else None
    if subject is None:
        grant = _check_grant(request, form, "report")
        subject = grant.subject if grant is not None else None
    if subject is None:
        raise SessionExpired()
    keep = {k: form[k] for k in (*services.REPORT_FIELDS, *deposits.FORM_FIELDS) if k in form}
    chosen = form.get("files", "0") not in ("", "0")
    return _report_page(request, subject, keep, error="files_again" if chosen else None)


def report_submit(request: Request) -> Response:
    data = request.session_state.data
    if data is not None and data.reporter_id is not None:
        # The report form is only offered before the first report: this is the same form
        # sent again (the back button, a double click). Nothing of it is read or stored.
        return render(request, "duplicate.jinja2", status=409)
    # Without a live, confirmed session the form's compose grant decides, once the body is
    # read: a report typed for hours is accepted after the session timed out.
    live = data is not None and data.confirmed
    _recipients(request)
    groups = auditors.recipient_groups(request.dbsession, conflict_pins(request))

    def choose(fields: dict[str, str]) -> list:
        """The report form asks whether the report concerns the inspectorate itself before
        its files: a file part before the answer, or an answer naming a group without cards,
        is refused, never sealed to the auditors by default."""
        answer = fields.get(routing.CONCERNS_FIELD)
        if answer is None and not groups[routing.CONFLICT]:
            answer = "no"   # the question is not asked when there is no conflict group
        group = routing.group_of_answer(answer or "")
        if group is None or not groups[group]:
            raise FormError("malformed")
        return groups[group]

    report_id = new_id()
    form = _stream(request, report_id, REPORT_LIMITS, choose)
    try:
        fields = form.fields
        recipients = choose(fields)
        group = routing.group_of_answer(fields.get(routing.CONCERNS_FIELD) or "no")
        # sealed in the report's body, so the workbench sees what was answered
        fields[routing.CONCERNS_FIELD] = "inspectorate" if group == routing.CONFLICT else "no"
        if fields.get(HONEYPOT):
            raise FormError("honeypot")
        category = fields.get("category", "")
        if category and category not in _cfg(request).categories:
            raise FormError("malformed")
        token = fields.get("form_token", "")
        if live:
            reporter = services.find_reporter(request.dbsession, data.lookup_id)
            public_key, lookup_id = data.key.public_key, data.lookup_id
        else:
            grant = _check_grant(request, fields, "report")
            reporter = request.dbsession.get(Reporter, grant.subject) if grant else None
            if reporter is None:
                raise SessionExpired()
            public_key, lookup_id = PublicKey(reporter.public_key), reporter.lookup_id
        if not token or token_spent(request.dbsession, token) or (
                reporter is not None and services.has_report(request.dbsession, reporter.id)):
            form.discard()
            # Nothing of a refused copy is written, the session included: saved now, its stale
            # state (no report yet) would overwrite what the copy that filed the report saved.
            request.tm.doom()
            return render(request, "duplicate.jinja2", status=409)
        try:
            identity = deposits.identity_from(fields)
            error = None
        except FormError as exc:  # the report comes back with what was typed, not lost
            identity, error = None, exc.reason
        if len(fields.get("what", "").strip()) < services.MIN_WHAT:
            error = "what_short"
        if error is not None:
            form.discard()
            keep = {k: v for k, v in fields.items()
                    if k in services.REPORT_FIELDS or k in deposits.FORM_FIELDS}
            if reporter is None:
                reporter = services.register_codename(request.dbsession, request.clock,
                                                  data.lookup_id, data.key.public_key)
                request.dbsession.flush()
            return _report_page(request, reporter.id, keep, error=error, status=400)
        if not spend_token(request.dbsession, request.clock, token):
            form.discard()
            request.tm.doom()
            return render(request, "duplicate.jinja2", status=409)
        terms = escrow_terms(request) if identity is not None else None
        filed = services.file_report(
            request.dbsession, request.find_service(Store), request.clock, recipients,
            public_key, lookup_id, reporter.id if reporter else None, report_id, form,
            request.language,
            authorship.public_author_key(data.key, report_id) if live else None, group)
        # The deposit needs the codename's key (for the reporter's release): a report sent on
        # the compose grant alone, after the session ended, goes without it, and says so.
        deposited = identity is not None and terms is not None and live
        if deposited:
            filed.pendings.append(deposits.seal(
                request.dbsession, request.find_service(Store), request.clock, recipients,
                filed.report, data.key, identity, terms))
    except services.AlreadyFiled:
        # Another copy of this form, sent at the same moment, filed the report.
        form.discard()
        request.tm.doom()
        return render(request, "duplicate.jinja2", status=409)
    except BaseException:
        form.discard()
        raise
    _undo_on_abort(request, filed.pendings)
    request.dbsession.flush()
    # The acknowledgment is this response, not a redirect: it lists the files received, whose
    # names exist only in this process's memory and inside the envelopes.
    response = render(request, "received.jinja2", deadlines=deadlines(request), session=live,
                      files_received=form.files, deposited=deposited,
                      not_deposited=identity is not None and not deposited)
    if live:
        data.reporter_id = filed.report.reporter_id
    else:
        # Sent on the grant alone: the session had ended; its row and cookie go too.
        request.session_state.end()
        response.delete_cookie(COOKIE, path="/")
    return response


def report_received(request: Request) -> Response:
    _session(request, reporter=True)
    return render(request, "received.jinja2", deadlines=deadlines(request), session=True)


# -- returning with the codename -------------------------------------------------------------

def login(request: Request) -> Response:
    form = request.form
    if form.get(HONEYPOT):
        raise FormError("honeypot")
    throttle = LoginThrottle(request.dbsession, request.clock,
                             *request.find_service(ReporterSettings).login_limits,
                             key=request.find_service(ReporterSettings).throttle_key)
    throttle.check()
    try:
        codename = codenames.normalise(form.get("codename", ""))
    except InvalidCodenameError:
        return render(request, "login_failed.jinja2", status=400, reason="invalid")
    release(request)  # no pool connection held while waiting for an argon2 slot
    # While the global budget for failed logins is spent, logins take turns (loginbudget.py):
    # before the KDF slot and before any database access, so a waiting login holds neither.
    budget = request.find_service(LoginBudget)
    budget.wait_turn()
    with request.find_service(KdfGate).slot():
        keys = services.derive(codename, request.find_service(ReporterSettings).salt,
                               request.find_service(ReporterSettings).argon2)
    throttle.check(keys.lookup_id)
    # Writes only after the derivation: with SQLite, the first write takes the database's write
    # lock until the commit, and holding it through argon2 would serialise every login.
    _housekeeping(request, throttle)
    reporter = services.find_reporter(request.dbsession, keys.lookup_id)
    if reporter is None:
        throttle.failed(keys.lookup_id)
        budget.failed()
        loginbudget.count_failure(request.dbsession, request.clock.day())
        loginbudget.close_past_days(request.dbsession, request.clock.today())
        return render(request, "login_failed.jinja2", status=400, reason="unknown")
    if not services.has_report(request.dbsession, reporter.id):
        # A codename issued and written down, whose session ended before the report was sent:
        # carry on to the report form with it.
        request.session_state.replace(keys.private_key, keys.lookup_id, None, True)
        response = HTTPSeeOther(request.route_path("report.new"))
        _set_session_cookie(response, request.session_state.token)
        return response
    request.session_state.replace(keys.private_key, keys.lookup_id, reporter.id, True)
    response = HTTPSeeOther(request.route_path("followup"))
    _set_session_cookie(response, request.session_state.token)
    return response


def _own_report(request: Request, data: SessionData, report_id: str) -> Report:
    report = request.dbsession.get(Report, report_id)
    if report is None or report.reporter_id != data.reporter_id:
        raise HTTPNotFound()
    return report


def _own_reply(request: Request, data: SessionData) -> tuple[services.ShownReply, Report]:
    """The question or message the URL names, opened, and its report: the signed-in
    reporter's (else 404). Ids are inside the sealed entries: the reporter's entries are
    opened to find it."""
    reports = request.dbsession.scalars(select(Report).where(
        Report.reporter_id == data.reporter_id)).all()
    found = services.find_reply(request.dbsession, request.find_service(Store), request.clock,
                                reports, data.key, request.matchdict["reply"])
    if found is None:
        raise HTTPNotFound()
    return found


def followup_relang(request: Request) -> Response:
    """The follow-up page in the other language, with the text of the form whose language
    button was pressed (each compose form has one: a submit button of that form, sent
    urlencoded without its files). The text only travels back in this response."""
    form = request.form
    target = form.get("form_key", "")
    if not re.fullmatch(r"(answer-[0-9a-f]{32}|message|retaliation)", target):
        raise FormError("malformed")
    return followup(request, keep={"target": target, "text": form.get("text", "")})


def followup(request: Request, keep: dict | None = None) -> Response:
    data = _session(request, reporter=True)
    db = request.dbsession
    store = request.find_service(Store)
    reports = db.scalars(select(Report).where(Report.reporter_id == data.reporter_id)
                         .order_by(Report.created_day, Report.id)).all()
    shown = []
    # Rendered into the compose forms, for one sent after the session ended (_report_group).
    routes = {r.id: routing.open_route(r.route, data.key) for r in reports}
    for r in reports:
        thread = services.read_thread(db, store, request.clock, r, data.key)
        shown.append({"report": r, "replies": thread.replies, "status": thread.status,
                      "sent": services.sent_summary(db, r),
                      "thread": services.conversation(thread.replies,
                                                      services.sent_days(db, r))})
    return render(request, "followup.jinja2", reports=shown, done=request.GET.get("done"),
                  escrow=escrow_terms(request) is not None, deadlines=deadlines(request),
                  keep=keep or {"target": "", "text": ""},
                  form_grant=lambda rid: _issue_grant(request, "message", rid),
                  route_of=lambda rid: routes[rid],
                  compose_hours=compose.COMPOSE_HOURS,
                  max_upload=_cfg(request).max_upload_bytes,
                  ready=bool(auditors.recipients(db)))


def _message_report(request: Request, fields: dict[str, str] | None) -> Report | None:
    """The report a message form writes to: the session's own, or, when the session has ended,
    the one the form's compose grant names (None: neither; with ``fields`` None, before the
    body is read, None means "decide on the grant once it is read")."""
    data = request.session_state.data
    if data is not None and data.reporter_id is not None:
        return _own_report(request, data, request.matchdict["report"])
    if fields is None:
        return None
    grant = _check_grant(request, fields, "message")
    if grant is None or grant.subject != request.matchdict["report"]:
        raise SessionExpired()
    report = request.dbsession.get(Report, grant.subject)
    if report is None:
        raise SessionExpired()
    return report


def _sent(request: Request, live: bool, files: list | None = None) -> Response:
    """The acknowledgment of a message (and the names of its files, shown only here)."""
    response = render(request, "sent.jinja2", session=live, files_received=files or [])
    if not live:
        request.session_state.end()
        response.delete_cookie(COOKIE, path="/")
    return response


def message_submit(request: Request) -> Response:
    report = _message_report(request, None)
    live = report is not None
    report_id = report.id if report is not None else request.matchdict["report"]
    _recipients(request)
    form = _stream(request, report_id, MESSAGE_LIMITS, _message_chooser(request, report))
    try:
        fields = form.fields
        if fields.get(HONEYPOT):
            raise FormError("honeypot")
        if report is None:
            report = _message_report(request, fields)
        recipients = _group_keys(request, _report_group(request, report, fields))
        in_reply_to = fields.get("in_reply_to", "")
        if in_reply_to:
            # The question's id is sealed in an entry: checked when the session holds the key
            # to open them; on a compose grant alone only its form (the workbench threads the
            # answer under its own question, or leaves it unthreaded).
            data = request.session_state.data
            if not re.fullmatch(r"[0-9a-f]{32}", in_reply_to) or (
                    live and data is not None and services.find_reply(
                        request.dbsession, request.find_service(Store), request.clock,
                        [report], data.key, in_reply_to) is None):
                raise FormError("malformed")
        if not fields.get("text", "").strip() and not form.files:
            form.discard()
            return render(request, "error.jinja2", status=400, reason="empty")
        token = fields.get("form_token", "")
        if not token or not spend_token(request.dbsession, request.clock, token):
            form.discard()
            request.tm.doom()
            return render(request, "duplicate.jinja2", status=409)
        data = request.session_state.data
        author = authorship.public_author_key(data.key, report.id) \
            if live and data is not None else None
        pendings = services.add_message(request.dbsession, request.find_service(Store),
                                        request.clock, recipients, report, form,
                                        author_key=author)
        if in_reply_to and live and data is not None:
            # Sent on a compose grant alone there is no key to make the receipt with: the
            # question then stays unmarked, and the answer arrives all the same.
            services.mark_answered(request.dbsession, data.key, in_reply_to)
    except BaseException:
        form.discard()
        raise
    _undo_on_abort(request, pendings)
    return _sent(request, live, form.files)


def retaliation_submit(request: Request) -> Response:
    form = request.form
    report = _message_report(request, form)
    _recipients(request)
    recipients = _group_keys(request, _report_group(request, report, form))
    if form.get(HONEYPOT):
        raise FormError("honeypot")
    text = form.get("text", "").strip()
    if not text:
        return render(request, "error.jinja2", status=400, reason="empty")
    if len(text.encode("utf-8")) > MESSAGE_LIMITS.max_text_bytes:
        raise FormError("text_too_long", 413)
    token = form.get("form_token", "")
    if not token or not spend_token(request.dbsession, request.clock, token):
        request.tm.doom()
        return render(request, "duplicate.jinja2", status=409)
    pendings = services.add_message(request.dbsession, request.find_service(Store),
                                    request.clock, recipients, report,
                                    StreamedForm(fields={"text": text}), kind="retaliation")
    _undo_on_abort(request, pendings)
    data = request.session_state.data
    if data is None or data.reporter_id is None:
        return _sent(request, False)
    return HTTPSeeOther(request.route_path("followup", _query={"done": "retaliation"}))


def deposit_submit(request: Request) -> Response:
    """A deposit made later, from the follow-up page: needs the live session (its codename key
    makes the reporter's part of the deposit's key) and a signed policy naming custodians."""
    data = _session(request, reporter=True)
    report = _own_report(request, data, request.matchdict["report"])
    form = request.form
    if form.get(HONEYPOT):
        raise FormError("honeypot")
    terms = escrow_terms(request)
    if terms is None:
        raise FormError("deposit_closed")
    identity = deposits.identity_from(form)
    if identity is None:
        raise FormError("deposit_name")
    recipients = _group_keys(request, _report_group(request, report, {}))
    token = form.get("form_token", "")
    if not token or not spend_token(request.dbsession, request.clock, token):
        request.tm.doom()
        return render(request, "duplicate.jinja2", status=409)
    done = deposits.seal(request.dbsession, request.find_service(Store), request.clock,
                         recipients, report, data.key, identity, terms)
    _undo_on_abort(request, [done])
    return HTTPSeeOther(request.route_path("followup", _query={"done": "deposit"}))


def escrow_answer(request: Request) -> Response:
    """The reporter's consent to, or refusal of, a lead's request to open their deposit."""
    data = _session(request, reporter=True)
    shown, report = _own_reply(request, data)
    decision = request.form.get("decision", "")
    if decision not in deposits.DECISIONS:
        raise FormError("malformed")
    if shown.escrow is None:
        raise FormError("malformed")
    if shown.escrow_answer is not None:  # answered already: the first answer stands
        return HTTPSeeOther(request.route_path("followup", _query={"done": "escrow"}))
    done = deposits.answer(request.dbsession, request.find_service(Store), request.clock,
                           _group_keys(request, _report_group(request, report, {})), report,
                           data.key, shown.id, shown.escrow,
                           decision)
    _undo_on_abort(request, [done])
    return HTTPSeeOther(request.route_path("followup", _query={"done": "escrow"}))


def reply_delete(request: Request) -> Response:
    data = _session(request, reporter=True)
    shown, report = _own_reply(request, data)
    if not shown.was_read:  # only what the reporter has seen may go
        return render(request, "error.jinja2", status=400, reason="unread")
    if request.form.get("confirm") != "yes":
        # Two steps, without JavaScript: the first press asks, the second deletes.
        return render(request, "delete_confirm.jinja2", reply=shown, reply_id=shown.id)
    services.forget_answered(request.dbsession, data.key, shown.id)
    # Every entry of the report sealed again (services.delete_reply: the server must not see
    # which was real); the old copies wiped in place once that has committed.
    services.delete_reply(request.dbsession, request.find_service(Store), report, data.key,
                          shown)
    return HTTPSeeOther(request.route_path("followup", _query={"done": "deleted"}))


def authorship_statement(request: Request) -> Response:
    """The proof of authorship: the workbench's attestation signed with this codename's
    authorship key and the purpose line typed here, as a printable page (or, with
    ``download``, as the text file ``peluit verify-authorship`` reads). Nothing is stored."""
    data = _session(request, reporter=True)
    report = _own_report(request, data, request.matchdict["report"])
    form = request.form
    att = services.attestation_of(request.dbsession, request.find_service(Store),
                                  request.clock, report, data.key, form.get("reply", ""))
    if att is None:
        raise HTTPNotFound()
    purpose = authorship.clean_purpose(form.get("purpose", ""))
    if purpose is None:
        return render(request, "error.jinja2", status=400, reason="purpose")
    statement = authorship.sign(att, data.key, purpose)
    text = statement.armor()
    if form.get("download"):
        response = Response(text, content_type="text/plain", charset="utf-8")
        response.content_disposition = f'attachment; filename="authorship-{att.report[:8]}.txt"'
        return response
    return render(request, "authorship_statement.jinja2", statement=statement, text=text,
                  qr=authorship.qr_svg(text), reply_id=form.get("reply", ""), report=report)


def logout(request: Request) -> Response:
    request.session_state.end()
    response = render(request, "logged_out.jinja2")
    response.delete_cookie(COOKIE, path="/")
    return response
