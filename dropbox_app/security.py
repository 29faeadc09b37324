"""Cross-cutting protection for every response and request of the server's apps.

* Headers: a CSP starting from ``default-src 'none'``, COOP/CORP same-origin, nosniff,
  no-referrer, no-store; no Server banner (see server.py).
* Redirects: ``Location`` is a path of the app's own, never made absolute from the Host
  header (WebOb would: a client's Host, bare CR and NUL included, came back in the header).
* Methods: only GET, HEAD and POST (405 with the app's error page otherwise).
* URLs and cookies: a path or query string that is not UTF-8 gets a 400 page (WebOb would raise
  while the error page itself reads ``?lang=``); a Cookie header is cut down to well-formed
  pairs before anything parses it (WebOb's cookie regex takes quadratic time on a long run of
  word characters: 16 KB of "a" cost 14 s of CPU).
* Bodies: a request whose declared length exceeds what its route accepts is answered 413 before
  a byte of it is read; multipart bodies go only to the routes that stream them into envelopes
  (WebOb's own parser would write their parts to temporary files in plaintext), and chunked
  bodies, whose size is unknown up front, are refused (411).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPMethodNotAllowed
from pyramid.request import Request
from pyramid.response import Response

from peluit.ground.wsgi import clean_cookie_header, url_is_utf8

CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Permissions-Policy": "interest-cohort=(), camera=(), microphone=(), geolocation=()",
}
ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST"})
SMALL_BODY = 256 * 1024  # urlencoded forms: a long message fits with room to spare
# Our cookies are a few short random tokens; anything else in the header is dropped unread.
MAX_COOKIE_PAIRS = 16
BAD_URL = "peluit.bad_url"
BAD_METHOD = "peluit.bad_method"


class BodyRejected(Exception):
    """A request body the app will not read; ``status`` and ``reason`` say why."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class StreamingRoutes(dict[str, int]):
    """The routes that stream multipart uploads, by name, with their body limits (a service:
    ``request.find_service(StreamingRoutes)``; registered by ``forms.add_routes``)."""


def streaming_limit(request: Request) -> int | None:
    """The body limit of a route that streams multipart uploads, or None for other routes."""
    route = request.matched_route
    if route is None:
        return None
    try:
        limits: dict[str, int] = request.find_service(StreamingRoutes)
    except LookupError:  # an app that registered no streaming route
        return None
    return limits.get(route.name)


def clean_environ(environ: dict) -> None:
    """Before anything parses the request: a path or query string that is not UTF-8 is
    replaced by a harmless one and marked (``check_body`` answers 400), and the Cookie header
    keeps only a few well-formed pairs. Linear time, whatever was sent."""
    if not url_is_utf8(environ):
        try:
            path = environ.get("PATH_INFO", "").encode("latin-1")
        except UnicodeEncodeError:
            path = b"\xff"
        environ[BAD_URL] = True
        environ["PATH_INFO"] = path.decode("utf-8", "replace").encode("utf-8").decode("latin-1")
        environ["QUERY_STRING"] = ""
    clean_cookie_header(environ, MAX_COOKIE_PAIRS)


def check_body(request: Request) -> None:
    """Raise BodyRejected unless this request's body may be read (and HTTPBadRequest for a
    URL that clean_environ had to replace)."""
    if request.environ.get(BAD_METHOD):
        raise HTTPMethodNotAllowed()
    if request.environ.get(BAD_URL):
        raise HTTPBadRequest()
    if request.method not in ("POST",):
        if request.content_length:
            raise BodyRejected(400, "body")
        return
    env = request.environ
    if "chunked" in env.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise BodyRejected(411, "length")
    length = request.content_length
    if length is None:
        raise BodyRejected(411, "length")
    ctype = (request.content_type or "").lower()
    limit = streaming_limit(request)
    if limit is not None:
        if ctype != "multipart/form-data":
            raise BodyRejected(415, "type")
        if length > limit:
            raise BodyRejected(413, "size")
        return
    if ctype != "application/x-www-form-urlencoded":
        raise BodyRejected(415, "type")
    if length > SMALL_BODY:
        raise BodyRejected(413, "size")


def own_location(location: str) -> str:
    """The path of a redirect, as the app's routes make it; anything else becomes "/". The
    browser resolves a path against the address it is at (RFC 9110, 10.2.2): the onion address
    it typed, not a name a client put in the Host header."""
    if (location.startswith("/") and not location.startswith(("//", "/\\"))
            and location.isprintable() and location.isascii() and " " not in location):
        return location
    return "/"


def _send_location_as_is(response: Response) -> None:
    """Keep WebOb from making the Location absolute from the Host header when the response is
    sent (``Response._abs_headerlist``, called by ``Response.__call__``)."""
    location = response.headers.get("Location")
    if location is None:
        return
    response.headers["Location"] = own_location(location)
    response._abs_headerlist = lambda environ: list(response.headerlist)


def headers_tween_factory(handler: Callable[[Request], Response], registry: Any) -> Callable:
    def tween(request: Request) -> Response:
        clean_environ(request.environ)
        if request.method not in ALLOWED_METHODS:
            # Marked here, refused by check_body (405), so that the refusal is the app's own
            # error page in the visitor's language.
            request.environ[BAD_METHOD] = True
        response = handler(request)
        if response.status_int == 405:
            response.headers["Allow"] = "GET, HEAD, POST"
        for k, v in HEADERS.items():
            response.headers[k] = v
        response.headers.pop("Server", None)
        _send_location_as_is(response)
        return response

    return tween


def includeme(config: Any) -> None:
    # Outermost, so that even a response made by an exception view or by pyramid_tm carries
    # the headers.
    config.add_tween("dropbox_app.security.headers_tween_factory",
                     over="pyramid_tm.tm_tween_factory")
