"""Who is logged in, what their role may do, and the CSRF token: one server-side session store.

The cookie carries 32 random bytes and nothing else. The session (in this process's memory only,
gone when the workbench stops) holds the auditor's unlocked state: their identity and, for
auditors and leads, the vault key. Logging out or idling past ``IDLE_SECONDS`` drops it. Logging
in issues a fresh cookie, so a token planted before login is worthless."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pyramid.interfaces import ICSRFStoragePolicy, ISecurityPolicy
from pyramid.request import RequestLocalCache
from pyramid.security import Allowed, Denied
from zope.interface import implementer

from ..vault import Unlocked

COOKIE = "wb_session"
IDLE_SECONDS = 30 * 60


class Permission(StrEnum):
    VIEW_CONTENT = "content.view"  # read reports, submissions, files
    WRITE_REPLY = "reply.write"  # write questions and messages to reporters
    DECIDE = "case.decide"  # the lead's follow-up decisions
    VIEW_STATS = "stats.view"  # aggregates: counts, SLA, outcomes
    MANAGE_PEOPLE = "people.manage"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "auditor": frozenset({Permission.VIEW_CONTENT, Permission.WRITE_REPLY, Permission.VIEW_STATS,
                          Permission.MANAGE_PEOPLE}),
    "lead": frozenset(Permission),
    # Aggregates only, never content: also enforced by the vault (no vault key for this role).
    "compliance": frozenset({Permission.VIEW_STATS}),
}


@dataclass
class WebSession:
    token: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    unlocked: Unlocked | None = None
    last_seen: float = field(default_factory=time.monotonic)

    @property
    def role(self) -> str | None:
        return self.unlocked.role if self.unlocked else None

    @property
    def vault_key(self) -> bytes | None:
        return self.unlocked.vault_key if self.unlocked else None


class SessionStore:
    def __init__(self, idle_seconds: int = IDLE_SECONDS, clock: Any = time.monotonic):
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()
        self.idle_seconds = idle_seconds
        self._clock = clock

    def get(self, token: str | None) -> WebSession | None:
        if not token:
            return None
        with self._lock:
            s = self._sessions.get(token)
            if s is None:
                return None
            now = self._clock()
            if now - s.last_seen > self.idle_seconds:
                self._drop(token)
                return None
            s.last_seen = now
            return s

    def new(self) -> WebSession:
        now = self._clock()
        s = WebSession(secrets.token_urlsafe(32), last_seen=now)
        with self._lock:
            # Sweep idle sessions here too, so visits that never come back do not pile up.
            for token in [t for t, old in self._sessions.items()
                          if now - old.last_seen > self.idle_seconds]:
                self._drop(token)
            self._sessions[s.token] = s
        return s

    def _drop(self, token: str) -> None:
        s = self._sessions.pop(token, None)
        if s and s.unlocked:
            s.unlocked.lock()

    def drop(self, token: str) -> None:
        with self._lock:
            self._drop(token)

    def drop_all(self) -> None:
        with self._lock:
            for token in list(self._sessions):
                self._drop(token)

    def any_holds_vault_key(self) -> bool:
        """Whether a session not yet idle holds the vault key (the case search index, which is
        decrypted content, is kept only while one does)."""
        now = self._clock()
        with self._lock:
            return any(s.vault_key is not None and now - s.last_seen <= self.idle_seconds
                       for s in self._sessions.values())


def _cookie_session(request: Any) -> WebSession | None:
    return request.find_service(SessionStore).get(request.cookies.get(COOKIE))


def web_session(request: Any, create: bool = False) -> WebSession | None:
    """The visitor's session (anonymous visitors get one only when a form needs a CSRF token)."""
    s = getattr(request, "_wb_session", None) or _cookie_session(request)
    if s is None and create:
        s = request.find_service(SessionStore).new()
        _set_cookie(request, s)
    request._wb_session = s
    return s


def _set_cookie(request: Any, s: WebSession) -> None:
    def callback(_request: Any, response: Any) -> None:
        response.set_cookie(COOKIE, s.token, httponly=True, samesite="Strict", path="/")
    request.add_response_callback(callback)


def log_in(request: Any, unlocked: Unlocked) -> WebSession:
    old = web_session(request)
    if old is not None:
        request.find_service(SessionStore).drop(old.token)
    s = request.find_service(SessionStore).new()
    s.unlocked = unlocked
    request._wb_session = s
    _set_cookie(request, s)
    return s


def log_out(request: Any) -> None:
    s = web_session(request)
    if s is not None:
        request.find_service(SessionStore).drop(s.token)
    request._wb_session = None

    def callback(_request: Any, response: Any) -> None:
        response.delete_cookie(COOKIE, path="/")
    request.add_response_callback(callback)


@implementer(ISecurityPolicy)
class WorkbenchSecurityPolicy:
    def __init__(self) -> None:
        self._cache = RequestLocalCache(self._load)

    def _load(self, request: Any) -> Unlocked | None:
        s = web_session(request)
        return s.unlocked if s else None

    def identity(self, request: Any) -> Unlocked | None:
        return self._cache.get_or_create(request)

    def authenticated_userid(self, request: Any) -> str | None:
        ident = self.identity(request)
        return ident.key_id if ident else None

    def permits(self, request: Any, context: Any, permission: str) -> Allowed | Denied:
        ident = self.identity(request)
        if ident is None:
            return Denied("not logged in")
        if permission in ROLE_PERMISSIONS.get(ident.role, frozenset()):
            return Allowed("role permits")
        return Denied(f"role {ident.role} does not permit {permission}")

    def remember(self, request: Any, userid: Any, **kw: Any) -> list[tuple[str, str]]:
        return []

    def forget(self, request: Any, **kw: Any) -> list[tuple[str, str]]:
        return []


@implementer(ICSRFStoragePolicy)
class SessionCSRFPolicy:
    """The CSRF token lives in the server-side session; forms carry it as ``csrf_token``."""

    def new_csrf_token(self, request: Any) -> str:
        s = web_session(request, create=True)
        assert s is not None
        s.csrf = secrets.token_urlsafe(32)
        return s.csrf

    def get_csrf_token(self, request: Any) -> str:
        s = web_session(request, create=True)
        assert s is not None
        return s.csrf

    def check_csrf_token(self, request: Any, supplied_token: str) -> bool:
        s = web_session(request)
        return s is not None and bool(supplied_token) and secrets.compare_digest(
            s.csrf.encode(), str(supplied_token).encode())


def includeme(config: Any) -> None:
    config.register_service(SessionStore(
        int(config.registry.settings.get("workbench.idle_seconds", IDLE_SECONDS))), SessionStore)
    config.set_security_policy(WorkbenchSecurityPolicy())
    config.set_csrf_storage_policy(SessionCSRFPolicy())
    # Every unsafe method needs the token; there is no Origin check to lean on over plain HTTP.
    config.set_default_csrf_options(require_csrf=True, check_origin=False)
