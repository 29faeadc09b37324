"""The auditor gateway: a second WSGI app on its own port (and its own onion service, with
client authorization), through which auditors carry bundles between the server and the
air-gapped workbench. It holds no plaintext and shows none: counts and sizes only."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import CookieCSRFStoragePolicy
from pyramid.events import ContextFound
from pyramid.router import Router

from .passphrase import PassphraseHasher
from .policy import DEFAULT_SESSION_POLICY, SessionPolicy


def _check_body(event: ContextFound) -> None:
    from ..security import check_body

    check_body(event.request)


def includeme(config: Any) -> None:
    from ..forms import add_routes
    from . import views
    from .auth import gw_session
    from .render import language
    from .views import MAX_BUNDLE_UPLOAD

    config.add_request_method(language, "language", reify=True)
    config.add_request_method(gw_session, "gw_session", reify=True)
    config.add_subscriber(_check_body, ContextFound)
    config.add_static_view("static", "dropbox_app.gateway:static", cache_max_age=0)
    config.include("peluit.ground.style")  # the house style sheet, shared by every app
    user = r"{username:[a-z0-9][a-z0-9._-]{1,31}}"
    routes = (
        ("home", "/", views.home, "GET"),
        ("login", "/login", views.login_form, "GET"),
        ("login.submit", "/login", views.login, "POST"),
        ("reauth", "/reauth", views.reauth_form, "GET"),
        ("reauth.submit", "/reauth", views.reauth, "POST"),
        ("logout", "/logout", views.logout, "POST"),
        ("inbox.download", "/inbox", views.inbox_download, "POST"),
        ("inbox.prepare", "/inbox/prepare", views.inbox_prepare, "POST"),
        ("inbox.bundle", "/inbox/bundle/{token:[A-Za-z0-9_-]{32}}", views.inbox_bundle, "GET"),
        ("replies.upload", "/replies", views.replies_upload, "POST"),
        ("admin", "/admin", views.admin, "GET"),
        ("admin.user.add", "/admin/users", views.user_add, "POST"),
        ("admin.user.change", "/admin/users/" + user + "/{action:disable|enable|unlock|reset}",
         views.user_change, "POST"),
        ("admin.card.check", "/admin/cards/check", views.card_check, "POST"),
        ("admin.card.enroll", "/admin/cards", views.card_enroll, "POST"),
        ("admin.card.change", "/admin/cards/{key_id:[0-9a-f]{32}}/{action:disable|enable}",
         views.card_change, "POST"),
        ("admin.serverkey.rotate", "/admin/server-key/rotate", views.server_key_rotate, "POST"),
    )
    # CSRF: Pyramid's check on every view (forms.csrf_by_default), upload.py's for the bundle.
    add_routes(config, routes, {"replies.upload": MAX_BUNDLE_UPLOAD})
    config.include(".errors")


def make_gateway_app(config: Any, *, engine: Any = None, clock: Any = None,
                     hasher: PassphraseHasher | None = None,
                     session_policy: SessionPolicy | None = None, cover: bool = False) -> Router:
    """The gateway app. ``hasher`` overrides the passphrase cost (tests use TEST_COST);
    ``cover`` starts the cover writer (dropbox_app/cover.py)."""
    from ..configurator import base_configurator

    cfg = base_configurator(config, engine=engine, clock=clock, cover=cover)
    from ..throttle import KdfGate, default_kdf_slots

    cfg.register_service(hasher or PassphraseHasher(), PassphraseHasher)
    from .ready import ReadyBundles

    cfg.register_service(ReadyBundles(), ReadyBundles)
    from .totpseal import TotpKey, key_for

    cfg.register_service(TotpKey(key_for(config)), TotpKey)  # seals the accounts' TOTP seeds
    # argon2 verifications are costly on purpose: at most as many run at once as the machine
    # can hold; past that the answer is "busy" (503), never an unbounded queue.
    cfg.register_service(KdfGate(default_kdf_slots(64 * 1024)), KdfGate)
    cfg.register_service(session_policy or DEFAULT_SESSION_POLICY, SessionPolicy)
    cfg.set_csrf_storage_policy(CookieCSRFStoragePolicy(
        cookie_name="gw_csrf", httponly=True, samesite="Strict", path="/"))
    # The content-free nudge (dropbox_app/nudge.py): configured or not, the home page says so;
    # the daily sender runs only in the serving process (``cover``, as the cover writer).
    from .. import nudge

    nudge_cfg = nudge.parse(config.raw, config.base_dir)
    sender = nudge.start(nudge_cfg, config.clock()) if nudge_cfg is not None and cover else None
    cfg.register_service(nudge.NudgeState(nudge_cfg, config.time_zone, sender), nudge.NudgeState)
    cfg.add_request_method(lambda r: r.find_service(nudge.NudgeState), "nudge", reify=True)
    cfg.include("dropbox_app.gateway")
    return cfg.make_wsgi_app()
