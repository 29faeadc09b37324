"""The exception views both server apps share (a refused form, a missing CSRF token, a refused
body, a busy KDF gate, an HTTP error, anything unexpected): the same reasons on each app's own
error page, rendered by that app's ``render``."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException

from .forms import FormError
from .security import BodyRejected
from .throttle import Busy

log = logging.getLogger(__name__)


#: SQLSTATE of PostgreSQL's disk_full (class 53, insufficient resources).
_PG_DISK_FULL = "53100"


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or what it wraps, says the disk (or the quota) is full: an OSError with
    ENOSPC or EDQUOT from the store, SQLite's SQLITE_FULL or PostgreSQL's disk_full under
    SQLAlchemy's wrapper."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and \
                getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        if getattr(exc, "sqlstate", None) == _PG_DISK_FULL:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def shared_views(render: Callable[..., Any], app: str
                 ) -> tuple[tuple[Callable[..., Any], type], ...]:
    """(view, exception class) pairs for ``config.add_exception_view``; ``app`` names the app
    in the log line of an unexpected error."""

    def form_error(exc: FormError, request: Any) -> Any:
        return render(request, "error.jinja2", status=exc.status, reason=exc.reason)

    def bad_csrf(exc: BadCSRFToken, request: Any) -> Any:
        # Pyramid's check, made on every view by default (forms.csrf_by_default): the same
        # page as a streamed form's missing token.
        return render(request, "error.jinja2", status=400, reason="csrf")

    def body_rejected(exc: BodyRejected, request: Any) -> Any:
        return render(request, "error.jinja2", status=exc.status, reason=exc.reason)

    def busy(exc: Busy, request: Any) -> Any:
        response = render(request, "error.jinja2", status=503, reason="busy")
        response.headers["Retry-After"] = "5"
        return response

    def http_error(exc: HTTPException, request: Any) -> Any:
        if exc.code < 400:
            return exc
        reason = {404: "not_found", 403: "forbidden"}.get(exc.code, "bad_request")
        return render(request, "error.jinja2", status=exc.code if exc.code < 500 else 500,
                      reason=reason)

    def unexpected(exc: Exception, request: Any) -> Any:
        if disk_full(exc):
            # Nothing was kept (the upload's slot is emptied, its transaction aborted); the
            # visitor is told to come back, the admin that the disk is full.
            log.error("the %s cannot write: the disk is full", app)
            return render(request, "error.jinja2", status=507, reason="disk_full")
        # The type only: a message or a traceback could carry what a reporter typed.
        log.error("unexpected error in the %s: %s", app, type(exc).__name__)
        return render(request, "error.jinja2", status=500, reason="internal")

    return ((form_error, FormError), (bad_csrf, BadCSRFToken), (body_rejected, BodyRejected),
            (busy, Busy), (http_error, HTTPException), (unexpected, Exception))
