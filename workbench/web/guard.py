"""The outermost layer of the workbench UI, before Pyramid parses anything.

* A path or query string that is not UTF-8 gets a 400 (WebOb would raise while even the error
  page reads ``?lang=``).
* The Cookie header is cut down to a few well-formed pairs (WebOb's cookie parsing takes
  quadratic time on long runs of some characters): our cookies are short random tokens.
* Only GET, HEAD and POST; request bodies of at most ``MAX_BODY`` (login and question forms).
* A Host other than loopback is refused: DNS rebinding would let a web page read the UI."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from peluit.ground.wsgi import clean_cookie_header, url_is_utf8

MAX_BODY = 1 << 20
MAX_COOKIE_PAIRS = 8
METHODS = frozenset({"GET", "HEAD", "POST"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def host_name(host: str) -> str:
    if host.startswith("["):
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def refusal(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(status, reason) when the request is refused before the application sees it."""
    if not url_is_utf8(environ):
        return "400 Bad Request", "bad URL"
    if environ.get("REQUEST_METHOD") not in METHODS:
        return "405 Method Not Allowed", "method"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", "bad length"
    if length > MAX_BODY or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return "413 Content Too Large", "body"
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if host_name(host).lower() not in LOCAL_HOSTS:
        return "400 Bad Request", "host"
    return None


def clean_cookies(environ: dict[str, Any]) -> None:
    clean_cookie_header(environ, MAX_COOKIE_PAIRS)


class Guard:
    """WSGI middleware around the Pyramid router; ``registry`` is the router's."""

    def __init__(self, app: Any):
        self.app = app
        self.registry = app.registry

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        refused = refusal(environ)
        if refused is not None:
            status, _reason = refused
            # Before any language is known, so both (Indonesian first, the default).
            body = (b"Ditolak: meja kerja ini hanya melayani permintaan biasa di 127.0.0.1.\n"
                    b"Refused: this workbench answers plain requests on 127.0.0.1 only.\n"
                    )
            start_response(status, [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))), ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'")])
            return [body]
        clean_cookies(environ)
        return self.app(environ, start_response)
