"""Gateway views: thin; the work is in accounts, sessions, downloads, replies and serverkey."""

from __future__ import annotations

import datetime as dt

from pyramid.csrf import new_csrf_token
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from peluit.ground.i18n import N_

from .. import auditors, loginbudget, routing
from ..config import Config
from ..db import release
from ..store import Store
from ..throttle import KdfGate
from . import (
    accounts,
    adminlog,
    downloads,
    inbox,
    replies,
    retention,
    serverkey,
    sessions,
    upload,
)
from .auth import Permission, require
from .passphrase import PassphraseHasher
from .policy import SessionPolicy
from .ready import ReadyBundles
from .render import render
from .totpseal import TotpKey

MAX_BUNDLE_UPLOAD = 1024 ** 3  # replies are text; a bundle of thousands fits
ADMIN_LOG_SHOWN = 50  # the newest entries on the admin page; the workbench keeps them all
BAD_CARD = N_("This is not an auditor card that can be enrolled.")
NOT_COMPARED = N_("Compare the fingerprint with the auditor before enrolling the card.")
NO_SUCH_GROUP = N_("Choose one of the two recipient groups: the inspectorate or the conflict "
                   "group.")
NOT_CONFIRMED = N_("Nothing was changed: tick the box beside the button to confirm this action.")


def _cfg(request: Request):
    return request.find_service(Config)


def _today(request: Request) -> dt.date:
    return request.clock.today()


def _actor(request: Request) -> str:
    """Who the admin log names for this request's action: the signed-in gateway user."""
    return request.gw_session.user.username


def _redirect(request: Request, route: str, **kw: str) -> HTTPSeeOther:
    return HTTPSeeOther(location=request.route_path(route, **kw))


# --- login, re-authentication, logout -------------------------------------------------------

def login_form(request: Request) -> Response:
    if request.gw_session is not None:
        return _redirect(request, "home")
    return render(request, "login.jinja2")


def login(request: Request) -> Response:
    form = request.form
    db = request.dbsession
    with request.find_service(KdfGate).slot():
        result = accounts.check_credentials(db, request.find_service(PassphraseHasher),
                                            form.get("username", ""), form.get("passphrase", ""),
                                            form.get("code", ""), request.clock.timestamp(),
                                            totp_key=request.find_service(TotpKey).key)
    if not result.ok:
        # One message for every reason: which part was wrong is not the visitor's business.
        # Except a used code after the right passphrase: the user needs to know to wait.
        return render(request, "login.jinja2", status=403, failed=True,
                      code_reused=result.reason == "code_reused")
    # Sessions that ran out without a logout go now: no row outlives its expiry for long.
    sessions.purge(db, request.clock.timestamp(), request.find_service(SessionPolicy))
    token = sessions.start(db, result.user, request.clock.timestamp())
    response = _redirect(request, "home")
    response.set_cookie(sessions.COOKIE, token, httponly=True, samesite="Strict", path="/")
    new_csrf_token(request)
    return response


def reauth_form(request: Request) -> Response:
    require(request, Permission.TRANSFER)
    return render(request, "reauth.jinja2")


def reauth(request: Request) -> Response:
    session = require(request, Permission.TRANSFER)
    form = request.form
    with request.find_service(KdfGate).slot():
        result = accounts.check_credentials(
            request.dbsession, request.find_service(PassphraseHasher), session.user.username,
            form.get("passphrase", ""), form.get("code", ""), request.clock.timestamp(),
            totp_key=request.find_service(TotpKey).key)
    if not result.ok:
        return render(request, "reauth.jinja2", status=403, failed=True,
                      code_reused=result.reason == "code_reused")
    sessions.reauthenticated(session.row, request.clock.timestamp())
    return _redirect(request, "admin")


def logout(request: Request) -> Response:
    sessions.end(request.dbsession, request.cookies.get(sessions.COOKIE))
    response = _redirect(request, "login")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


# --- transfers ------------------------------------------------------------------------------

def home(request: Request) -> Response:
    if request.gw_session is None:
        return _redirect(request, "login")
    require(request, Permission.TRANSFER)
    status = downloads.status(request.dbsession, _cfg(request).server_key_file)
    return render(request, "home.jinja2", inbox=status)


def _prepare_inbox(request: Request
                   ) -> tuple[downloads.InboxStatus, downloads.PreparedDownload | Response]:
    """The inbox's status and its bundle prepared, or (status, the "nothing new" page)."""
    require(request, Permission.TRANSFER)
    cfg = _cfg(request)
    db = request.dbsession
    st = downloads.status(db, cfg.server_key_file)
    if st.submissions == 0 and not st.rotation_pending:
        return st, render(request, "home.jinja2", inbox=st, nothing_new=True)
    return st, downloads.prepare(db, cfg.server_key_file, cfg.deployment_id, _today(request),
                                 actor=_actor(request))


def inbox_download(request: Request) -> Response:
    """The bundle at once, as an attachment (scripts and the CLI)."""
    _st, prepared = _prepare_inbox(request)
    if isinstance(prepared, Response):
        return prepared
    return _bundle_response(request, prepared)


def inbox_prepare(request: Request) -> Response:
    """The Transfers page's button: prepare the bundle and show it, with a one-time link to
    fetch it (dropbox_app/gateway/ready.py says why)."""
    st, prepared = _prepare_inbox(request)
    if isinstance(prepared, Response):
        return prepared
    token = request.find_service(ReadyBundles).put(
        request.gw_session.user.id, prepared, request.clock.timestamp())
    ready = {"seq": prepared.manifest.seq, "submissions": st.submissions,
             "size": inbox.bundle_length(prepared.manifest),
             "url": request.route_path("inbox.bundle", token=token)}
    return render(request, "home.jinja2", inbox=downloads.status(request.dbsession,
                                                                 _cfg(request).server_key_file),
                  ready=ready)


def inbox_bundle(request: Request) -> Response:
    require(request, Permission.TRANSFER)
    prepared = request.find_service(ReadyBundles).take(
        request.matchdict["token"], request.gw_session.user.id, request.clock.timestamp())
    if prepared is None:
        return render(request, "home.jinja2", status=410,
                      inbox=downloads.status(request.dbsession, _cfg(request).server_key_file),
                      link_gone=True)
    return _bundle_response(request, prepared)


def _bundle_response(request: Request, prepared: downloads.PreparedDownload) -> Response:
    cfg = _cfg(request)
    store = request.find_service(Store)
    # While a rotation waits, the bundle is signed by the old key and announces the new one;
    # the new key takes over only once a reply bundle confirms it (replies_upload).
    body = inbox.StreamedBundle(prepared.manifest, prepared.signer, store.open)
    name = inbox.bundle_name(cfg.deployment_id, prepared.signer, prepared.manifest.seq)
    response = Response(app_iter=body, content_type="application/octet-stream")
    response.content_length = inbox.bundle_length(prepared.manifest)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _rotation_confirmer(request: Request, key_id: str, signer: str):
    """The key swap runs once the reply bundle's transaction has committed (so a refused or
    rolled-back upload never swaps keys), in a transaction of its own."""
    factory = request.registry["dbsession_factory"]
    key_file = _cfg(request).server_key_file
    day = request.clock.day()

    def confirm(committed: bool) -> None:
        if not committed:
            return
        with factory() as db, db.begin():
            serverkey.confirm(db, key_file, key_id, day, confirmed_by=signer)

    return confirm


def replies_upload(request: Request) -> Response:
    require(request, Permission.TRANSFER)
    actor = _actor(request)
    cfg = _cfg(request)
    store = request.find_service(Store)
    # No database connection held while the bundle (up to 1 GiB) streams in: the session was
    # checked above; what follows is a transaction of its own (see dropbox_app/db.release).
    release(request)
    spool = upload.receive_bundle(request, store, MAX_BUNDLE_UPLOAD)
    try:
        with store.open(spool.member) as f:
            outcome = replies.accept(request.dbsession, store, f, cfg.deployment_id,
                                     request.clock.day(), actor=actor,
                                     pinned=_conflict_pins(request))
    except replies.ReplyRejected as exc:
        request.tm.doom()  # nothing of a refused bundle may be committed
        return render(request, "replies_result.jinja2", status=422, error=exc.message,
                      detail=exc.detail)
    finally:
        spool.discard()  # the slot is emptied (the bundle held only ciphertext and ids)
    confirms = outcome.server_key is not None and \
        outcome.server_key == getattr(serverkey.pending(cfg.server_key_file), "key_id", None)
    if confirms:
        request.tm.get().addAfterCommitHook(
            _rotation_confirmer(request, outcome.server_key, outcome.signer_key))
    # Opportunistic retention: what was acknowledged long enough ago goes now.
    deleted = retention.run(request.dbsession, store.path, _today(request), cfg.retention_days,
                            actor=adminlog.GATEWAY)
    return render(request, "replies_result.jinja2", outcome=outcome, deleted=deleted,
                  key_confirmed=confirms)


# --- administration -------------------------------------------------------------------------

def admin(request: Request) -> Response:
    require(request, Permission.ADMIN)
    from sqlalchemy import select

    from ..models import AuditorCard

    db = request.dbsession
    cards = list(db.scalars(select(AuditorCard).order_by(AuditorCard.name)))
    # Finished days' counts of failed codename logins go to the admin log before it is shown.
    loginbudget.close_past_days(db, _today(request))
    key = serverkey.load(_cfg(request).server_key_file)
    pinned = _conflict_pins(request)
    unpinned = [c for c in cards if c.active and c.recipient_group == routing.CONFLICT
                and c.key_id not in (pinned or ())]
    return render(request, "admin.jinja2", users=accounts.all_users(db), cards=cards,
                  group_counts=auditors.active_counts(db), max_group=auditors.MAX_GROUP,
                  # the reporter app's own test for offering the question (reporter/views.py):
                  # an active conflict card that the signed policy names
                  conflict_ready=auditors.conflict_group_ready(db, pinned), groups=routing.GROUPS,
                  pinned=pinned or frozenset(),
                  unpinned=unpinned,
                  server_card=key.card(), pending=serverkey.pending(_cfg(request).server_key_file),
                  keys=serverkey.history(db),
                  admin_log=adminlog.newest(db, ADMIN_LOG_SHOWN)[::-1],
                  me=request.gw_session.user.username,
                  login_failures=loginbudget.recent(db, _today(request)))


def _conflict_pins(request: Request) -> frozenset[str] | None:
    """The conflict-group members named by the deployment's signed policy in force, as the
    reporter app reads them (policies.documents.LandingPolicy.conflict): the admin page shows
    which enrolled conflict cards they are, since only those read reports about the
    inspectorate."""
    from policies.documents import LandingPolicy

    cfg = _cfg(request)
    return LandingPolicy.for_deployment(cfg.base_dir, cfg.raw).conflict(_today(request))


def _confirmed(request: Request) -> bool:
    """A destructive action (disable, new credentials, key rotation) needs the box beside its
    button ticked: the confirmation step works without JavaScript, and a stray click or a
    replayed form without it changes nothing."""
    return request.form.get("confirm") == "yes"


def user_add(request: Request) -> Response:
    require(request, Permission.ADMIN, fresh=True)
    form = request.form
    try:
        new = accounts.create(request.dbsession, request.find_service(PassphraseHasher),
                              form.get("username", ""), form.get("role", ""),
                              request.clock.day(), _cfg(request).default_language,
                              actor=_actor(request),
                              totp_key=request.find_service(TotpKey).key)
    except accounts.AccountError as exc:
        return render(request, "admin_error.jinja2", status=400, error=str(exc))
    return render(request, "account_created.jinja2", account=new)


def user_change(request: Request) -> Response:
    require(request, Permission.ADMIN, fresh=True)
    db = request.dbsession
    name = request.matchdict["username"]
    action = request.matchdict["action"]
    me = request.gw_session.user
    who = {"actor": me.username, "day": request.clock.day()}
    try:
        if action in ("disable", "reset") and accounts.check_username(name) == me.username:
            raise accounts.AccountError(accounts.OWN_ACCOUNT)
        if action in ("disable", "reset") and not _confirmed(request):
            return render(request, "admin_error.jinja2", status=400, error=NOT_CONFIRMED)
        if action == "disable":
            user = accounts.set_active(db, name, False, **who)
            sessions.end_all_for(db, user.id)
        elif action == "enable":
            accounts.set_active(db, name, True, **who)
        elif action == "unlock":
            accounts.unlock(db, name, **who)
        else:  # reset
            new = accounts.reset_credentials(db, request.find_service(PassphraseHasher), name,
                                             _cfg(request).default_language, **who,
                                             totp_key=request.find_service(TotpKey).key)
            user = accounts.find(db, name)
            sessions.end_all_for(db, user.id)
            return render(request, "account_created.jinja2", account=new)
    except accounts.AccountError as exc:
        return render(request, "admin_error.jinja2", status=400, error=str(exc))
    return _redirect(request, "admin")


def card_check(request: Request) -> Response:
    """First step of enrolment: show the card's name and fingerprint, to be compared with the
    auditor out of band (by phone, in person) before it is trusted."""
    require(request, Permission.ADMIN, fresh=True)
    text = request.form.get("card", "")
    group = _group(request)
    if group is None:
        return render(request, "admin_error.jinja2", status=400, error=NO_SUCH_GROUP)
    try:
        card = auditors.parse_card(text.encode("utf-8"))
    except auditors.EnrollError as exc:
        return render(request, "admin_error.jinja2", status=400, error=BAD_CARD, detail=str(exc))
    return render(request, "card_check.jinja2", card=card, card_text=text, group=group)


def _group(request: Request) -> str | None:
    """The recipient group a card is enrolled in (``peluit auditor enroll --group``); a form
    without the field means the inspectorate, as before groups existed; anything else is None."""
    group = request.form.get("group", routing.INSPECTORATE)
    return group if group in routing.GROUPS else None


def card_enroll(request: Request) -> Response:
    require(request, Permission.ADMIN, fresh=True)
    form = request.form
    if form.get("compared") != "yes":
        return render(request, "admin_error.jinja2", status=400, error=NOT_COMPARED)
    group = _group(request)
    if group is None:
        return render(request, "admin_error.jinja2", status=400, error=NO_SUCH_GROUP)
    try:
        auditors.enroll(request.dbsession, form.get("card", "").encode("utf-8"),
                        request.clock.day(), actor=_actor(request), group=group)
    except auditors.EnrollError as exc:
        return render(request, "admin_error.jinja2", status=400, error=BAD_CARD, detail=str(exc))
    return _redirect(request, "admin")


def card_change(request: Request) -> Response:
    require(request, Permission.ADMIN, fresh=True)
    active = request.matchdict["action"] == "enable"
    if not active and not _confirmed(request):
        return render(request, "admin_error.jinja2", status=400, error=NOT_CONFIRMED)
    try:
        auditors.set_active(request.dbsession, request.matchdict["key_id"], active,
                            actor=_actor(request), day=request.clock.day())
    except auditors.EnrollError as exc:
        return render(request, "admin_error.jinja2", status=400, error=BAD_CARD, detail=str(exc))
    return _redirect(request, "admin")


def server_key_rotate(request: Request) -> Response:
    require(request, Permission.ADMIN, fresh=True)
    if not _confirmed(request):
        return render(request, "admin_error.jinja2", status=400, error=NOT_CONFIRMED)
    try:
        serverkey.rotate(request.dbsession, _cfg(request).server_key_file, request.clock.day(),
                         actor=_actor(request))
    except serverkey.ServerKeyError as exc:
        return render(request, "admin_error.jinja2", status=409, error=str(exc))
    return _redirect(request, "admin")
