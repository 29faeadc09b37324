"""Exception views: every error a visitor can cause gets a clear page in their language and a
4xx status (503 when the server is busy or not ready); no traceback is ever shown or logged
with request data."""

from __future__ import annotations

from pyramid.request import Request
from pyramid.response import Response

from ..errorviews import shared_views
from ..sessions import COOKIE, SessionExpired, Sessions
from ..throttle import Throttled
from .render import render
from .views import NotReady


def session_expired(exc: SessionExpired, request: Request) -> Response:
    state = request.__dict__.get("session_state")
    if state is not None and state.expired and state.token:
        # The request's own transaction is aborted (an exception view ran), so the ended
        # session is deleted in a transaction of its own.
        with request.registry["dbsession_factory"]() as db, db.begin():
            Sessions(db, request.clock).end(state.token)
    response = render(request, "error.jinja2", status=403, reason="session")
    response.delete_cookie(COOKIE, path="/")
    return response


def throttled(exc: Throttled, request: Request) -> Response:
    response = render(request, "error.jinja2", status=429, reason="throttled")
    response.headers["Retry-After"] = "600"
    return response


def not_ready(exc: NotReady, request: Request) -> Response:
    return render(request, "error.jinja2", status=503, reason="not_ready")


def includeme(config) -> None:
    for view, context in (*shared_views(render, "reporter app"), (session_expired, SessionExpired),
                          (throttled, Throttled), (not_ready, NotReady)):
        config.add_exception_view(view, context=context)
