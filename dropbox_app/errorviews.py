"""The exception views both server apps share (a refused form, a missing CSRF token, a refused
body, a busy KDF gate, an HTTP error, anything unexpected): the same reasons on each app's own
error page, rendered by that app's ``render``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException

from peluit.ground.errors import disk_full

from .db import unreachable
from .forms import FormError
from .security import BodyRejected
from .throttle import Busy

log = logging.getLogger(__name__)


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
        if unreachable(exc):
            # A failover under way (docs/scaling.md): "switching over, try again in a moment"
            # is the truth; "busy" (too many requests) and an internal error are not.
            log.error("the %s cannot reach its database: %s", app, type(exc).__name__)
            response = render(request, "error.jinja2", status=503, reason="switching")
            response.headers["Retry-After"] = "5"
            return response
        # The type only: a message or a traceback could carry what a reporter typed.
        log.error("unexpected error in the %s: %s", app, type(exc).__name__)
        return render(request, "error.jinja2", status=500, reason="internal")

    return ((form_error, FormError), (bad_csrf, BadCSRFToken), (body_rejected, BodyRejected),
            (busy, Busy), (http_error, HTTPException), (unexpected, Exception))
