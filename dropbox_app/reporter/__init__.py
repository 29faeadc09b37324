"""The reporter app: what a reporter meets, over Tor, with JavaScript off."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import CookieCSRFStoragePolicy
from pyramid.events import ContextFound
from pyramid.router import Router

from crypto.kdf import Argon2Params
from peluit.ground.clock import Clock

from .. import serversecret
from ..config import Config
from ..forms import add_routes
from ..loginbudget import LoginBudget
from ..security import check_body
from ..throttle import THROTTLE_KEY_PURPOSE, KdfGate, default_kdf_slots
from . import views
from .policy import Landing
from .render import language
from .session_state import SessionState
from .settings import ReporterSettings


def _check_body(event: ContextFound) -> None:
    check_body(event.request)


def includeme(config: Any) -> None:
    settings = config.get_settings()
    max_upload = settings["peluit.config"].max_upload_bytes
    config.add_request_method(language, "language", reify=True)
    config.add_request_method(SessionState, "session_state", reify=True)
    config.add_subscriber(_check_body, ContextFound)
    config.add_tween("dropbox_app.reporter.session_state.session_tween_factory",
                     under="pyramid_tm.tm_tween_factory")

    config.add_static_view("static", "dropbox_app.reporter:static", cache_max_age=0)
    config.include("peluit.ground.style")  # the house style sheet, shared by every app
    routes = (
        ("home", "/", views.landing, "GET"),
        ("favicon", "/favicon.ico", views.favicon, "GET"),
        ("codename.new", "/codename", views.codename_new, "POST"),
        ("codename.confirm", "/codename/confirm", views.codename_confirm, "POST"),
        ("report.new", "/report/new", views.report_form, "GET"),
        ("report.relang", "/report/new", views.report_relang, "POST"),
        ("report.submit", "/report/new/send", views.report_submit, "POST"),
        ("report.received", "/report/received", views.report_received, "GET"),
        ("login", "/login", views.login, "POST"),
        ("followup", "/followup", views.followup, "GET"),
        ("followup.relang", "/followup", views.followup_relang, "POST"),
        ("followup.message", "/followup/{report:[0-9a-f]{32}}/message",
         views.message_submit, "POST"),
        ("followup.retaliation", "/followup/{report:[0-9a-f]{32}}/retaliation",
         views.retaliation_submit, "POST"),
        ("followup.delete", "/followup/reply/{reply:[0-9a-f]{32}}/delete",
         views.reply_delete, "POST"),
        ("followup.deposit", "/followup/{report:[0-9a-f]{32}}/deposit",
         views.deposit_submit, "POST"),
        ("followup.escrow", "/followup/reply/{reply:[0-9a-f]{32}}/escrow",
         views.escrow_answer, "POST"),
        ("followup.authorship", "/followup/{report:[0-9a-f]{32}}/authorship",
         views.authorship_statement, "POST"),
        ("logout", "/logout", views.logout, "POST"),
    )
    # Routes whose multipart bodies are streamed into envelopes, with their size limits: the
    # envelope of an upload may be a little larger than the files (form fields, boundaries).
    slack = 1024 * 1024
    add_routes(config, routes, {"report.submit": max_upload + slack,
                                "followup.message": max_upload + slack})
    config.include(".errors")


def make_reporter_app(config: Config, *, engine: Any = None, clock: Clock | None = None,
                      argon2: Argon2Params | None = None, kdf_slots: int | None = None,
                      kdf_wait: float = 10.0, login_limits: tuple[int, int] | None = None,
                      policy: Any = None, login_budget: LoginBudget | None = None,
                      cover: bool = False) -> Router:
    """The reporter app. ``argon2`` overrides the configured cost (tests use TEST_PARAMS);
    ``policy`` is a callable giving the signed policy to show on the landing page.
    ``kdf_wait``: how long a request may wait for an argon2 slot before "busy". The HTTP
    server's kdf lane already bounds the waiters (two threads per slot, server.py), so a
    waiter is behind one derivation at most: 10 s covers that on a loaded machine, where 2 s
    turned a real reporter's login in a flood into a 503."""
    from ..configurator import base_configurator

    cfg = base_configurator(config, engine=engine, clock=clock, cover=cover)
    params = argon2 or config.argon2
    cfg.register_service(ReporterSettings(
        salt=config.salt(), argon2=params, login_limits=tuple(login_limits or ()),
        throttle_key=serversecret.subkey(serversecret.load(config), THROTTLE_KEY_PURPOSE)),
        ReporterSettings)
    cfg.register_service(KdfGate(kdf_slots or default_kdf_slots(params.memory_kib), kdf_wait),
                         KdfGate)
    # One budget for failed codename logins per server process (loginbudget.py).
    cfg.register_service(login_budget or LoginBudget(), LoginBudget)
    deadlines = escrow = conflict = None
    if policy is None:  # the deployment's signed protection policy, its deadlines, custodians
        from policies.documents import LandingPolicy

        policy = LandingPolicy.for_deployment(config.base_dir, config.raw)
        # and the conflict group's members: the signed policy pins who reads reports about the
        # inspectorate, not the server's card list alone (dropbox_app/auditors.py, Pinned)
        deadlines, escrow, conflict = policy.deadlines, policy.escrow, policy.conflict
    cfg.register_service(Landing(policy, deadlines, escrow, conflict), Landing)
    # The CSRF token lives in its own cookie (double submit): there is no session before a
    # reporter logs in, and the forms before that need the protection too.
    cfg.set_csrf_storage_policy(CookieCSRFStoragePolicy(
        cookie_name="csrf", httponly=True, samesite="Strict", path="/"))
    cfg.include(".reporter")
    return cfg.make_wsgi_app()
