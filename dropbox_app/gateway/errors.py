"""Exception views of the gateway: a page in the auditor's language and a 4xx status for
everything a visitor can cause; never a traceback, never request data in the log."""

from __future__ import annotations

import logging

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.request import Request
from pyramid.response import Response

from ..errorviews import shared_views
from .auth import NeedsReauth, NotAllowed, NotLoggedIn
from .render import render
from .serverkey import ServerKeyError

log = logging.getLogger(__name__)


def not_logged_in(exc: NotLoggedIn, request: Request) -> Response:
    return HTTPSeeOther(location=request.route_path("login"))


def needs_reauth(exc: NeedsReauth, request: Request) -> Response:
    return HTTPSeeOther(location=request.route_path("reauth"))


def not_allowed(exc: NotAllowed, request: Request) -> Response:
    return render(request, "error.jinja2", status=403, reason="forbidden")


def server_key(exc: ServerKeyError, request: Request) -> Response:
    log.error("gateway: the server key cannot be used: %s", exc)
    return render(request, "error.jinja2", status=503, reason="server_key")


def includeme(config) -> None:
    for view, context in (*shared_views(render, "gateway"), (not_logged_in, NotLoggedIn),
                          (needs_reauth, NeedsReauth),
                          (not_allowed, NotAllowed), (server_key, ServerKeyError)):
        config.add_exception_view(view, context=context)
