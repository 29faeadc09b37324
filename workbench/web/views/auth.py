"""Log in (choose who you are, type your passphrase: it unlocks your identity and, for
auditors and leads, the vault) and log out (locks)."""

from __future__ import annotations

import threading
import time
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from ... import audit, trust, vault
from ..security import log_in, log_out

MAX_FAILURES = 5
LOCKOUT_SECONDS = 60


class LoginThrottle:
    """After ``MAX_FAILURES`` wrong passphrases for one person, refuse them for a minute:
    argon2 already makes each guess slow; this makes a guessing run visible and slower still."""

    def __init__(self, clock: Any = time.monotonic):
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def blocked(self, who: str) -> bool:
        with self._lock:
            count, since = self._failures.get(who, (0, 0.0))
            if count >= MAX_FAILURES and self._clock() - since < LOCKOUT_SECONDS:
                return True
            if count >= MAX_FAILURES:
                del self._failures[who]
            return False

    def failed(self, who: str) -> None:
        with self._lock:
            count, _ = self._failures.get(who, (0, 0.0))
            self._failures[who] = (count + 1, self._clock())

    def succeeded(self, who: str) -> None:
        with self._lock:
            self._failures.pop(who, None)


def _form(request: Any, error: str | None = None, status: int = 200) -> dict[str, Any]:
    request.response.status_int = status
    return {"people": vault.auditor_records(request.registry.settings["workbench.vault"]),
            "error": error, "csrf_token": request.session_csrf_token}


def login_form(request: Any) -> Any:
    if request.identity is not None:
        return HTTPSeeOther(request.route_url("home"))
    return _form(request)


def login_submit(request: Any) -> Any:
    _ = request.gettext
    who = request.form.text("auditor")
    passphrase = request.form.text("passphrase")
    throttle: LoginThrottle = request.find_service(LoginThrottle)
    vault_dir = request.registry.settings["workbench.vault"]
    if not who or not passphrase:
        return _form(request, _("Choose your name and type your passphrase."), 400)
    if not any(r.key_id == who for r in vault.auditor_records(vault_dir)):
        # Only the list's key ids: the throttle then counts real people, not invented names.
        return _form(request, _("Wrong name or passphrase."), 403)
    if throttle.blocked(who):
        return _form(request, _("Too many wrong passphrases. Wait a minute and try again."), 429)
    try:
        unlocked = vault.unlock(vault_dir, who, passphrase)
    except trust.TamperedVault:
        # Not a wrong passphrase: say so (the CLI names the records; the audit log has it).
        return _form(request, _("The vault's records were changed outside the workbench, so "
                                "it refuses to go on. Tell a lead: the audit log names what "
                                "changed."), 409)
    except vault.VaultError:
        throttle.failed(who)
        audit.record(request.dbsession, who, "session.login_failed")
        return _form(request, _("Wrong name or passphrase."), 403)
    throttle.succeeded(who)
    audit.record(request.dbsession, unlocked.key_id, "session.login",
                 details={"role": unlocked.role})
    log_in(request, unlocked)
    return HTTPSeeOther(request.route_url("home"))


def logout(request: Any) -> Any:
    if request.identity is not None:
        audit.record(request.dbsession, request.identity.key_id, "session.logout")
    log_out(request)
    return HTTPSeeOther(request.route_url("login"))


def home(request: Any) -> Any:
    if request.identity is None:
        return HTTPSeeOther(request.route_url("login"))
    # The cases package, when installed, fills the page with the day's inbox (cases/inbox.py).
    inbox = getattr(request.registry, "workbench_home", None)
    extra = inbox(request) if inbox is not None else {}
    return {**extra, "csrf_token": request.session_csrf_token}


def _csrf_token(request: Any) -> str:
    from pyramid.csrf import get_csrf_token
    return get_csrf_token(request)


def includeme(config: Any) -> None:
    config.register_service(LoginThrottle(), LoginThrottle)
    config.add_request_method(_csrf_token, "session_csrf_token", reify=True)
    config.add_view(login_form, route_name="login", request_method="GET",
                    renderer="login.jinja2")
    config.add_view(login_submit, route_name="login", request_method="POST",
                    renderer="login.jinja2")
    config.add_view(logout, route_name="logout", request_method="POST")
    config.add_view(home, route_name="home", request_method="GET", renderer="home.jinja2")
