"""Who is asking: the gateway session behind the cookie, and the checks views make.

Views call ``require(request, ...)`` first; it raises an exception that errors.py turns into a
redirect to the login page, a 403 page, or a redirect to re-authentication."""

from __future__ import annotations

from enum import StrEnum

from pyramid.request import Request

from . import sessions
from .policy import SessionPolicy


class Permission(StrEnum):
    TRANSFER = "transfer"  # download inbox bundles, upload reply bundles
    ADMIN = "admin"        # accounts, auditor cards, server key


ROLE_PERMISSIONS = {
    "admin": {Permission.TRANSFER, Permission.ADMIN},
    "auditor": {Permission.TRANSFER},
}


class NotLoggedIn(Exception):
    pass


class NotAllowed(Exception):
    pass


class NeedsReauth(Exception):
    pass


def gw_session(request: Request) -> sessions.ActiveSession | None:
    token = request.cookies.get(sessions.COOKIE)
    if not token:
        return None
    return sessions.resume(request.dbsession, token, request.clock.timestamp(),
                           request.find_service(SessionPolicy))


def require(request: Request, permission: Permission, fresh: bool = False
            ) -> sessions.ActiveSession:
    """The caller's session if it may do ``permission``; ``fresh`` also asks for a passphrase
    and code entered within the last few minutes (admin actions)."""
    session = request.gw_session
    if session is None:
        raise NotLoggedIn()
    if permission not in ROLE_PERMISSIONS.get(session.user.role, set()):
        raise NotAllowed()
    policy = request.find_service(SessionPolicy)
    if fresh and not policy.fresh(session.row.reauth_at, request.clock.timestamp()):
        raise NeedsReauth()
    return session
