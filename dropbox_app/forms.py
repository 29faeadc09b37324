"""Reading forms without ever touching WebOb's ``request.POST``.

WebOb copies any body over 10 KB into a temporary file before parsing it, in plaintext, and its
multipart parser writes file parts to temporary files too. So urlencoded forms are parsed in
memory (peluit.ground.forms, shared with the workbench) from a body already capped by
security.check_body; multipart forms are streamed by
ingest.py. Invalid UTF-8, too many fields and repeated fields are refused with a 400.

``FormRequest`` is the request class of both server apps: its ``POST`` is this in-memory parse,
so Pyramid's CSRF check (on by default for every view, see ``csrf_by_default``) and any code that
reaches for ``request.POST`` never make WebOb spool a body."""

from __future__ import annotations

import hmac
from typing import Any

from pyramid.csrf import get_csrf_token
from pyramid.decorator import reify
from pyramid.request import Request
from webob.multidict import MultiDict, NoVars

from peluit.ground.forms import FormError, clean_text, parse_urlencoded

from .security import SMALL_BODY, StreamingRoutes

__all__ = ["CSRF_FIELD", "MAX_FIELDS", "FormError", "FormRequest", "add_routes", "check_csrf",
           "clean_text", "csrf_by_default", "read_urlencoded"]

MAX_FIELDS = 32
FILE_FIELDS = frozenset({"files"})
CSRF_FIELD = "csrf_token"


def read_urlencoded(request: Request, counted: frozenset[str] = frozenset(),
                    max_fields: int = MAX_FIELDS) -> dict[str, str]:
    """The form's fields. A name in ``counted`` may repeat and keeps only how many non-empty
    values it had (a multiple file input sent urlencoded repeats its name once per file
    chosen, with the file's name as the value, which is not kept)."""
    length = request.content_length or 0
    if length > SMALL_BODY:
        raise FormError("size", 413)
    raw = request.body_file_raw.read(length) if length else b""
    if len(raw) != length:
        raise FormError("incomplete")
    # The shared in-memory parser (peluit.ground.forms): no other field may come twice here.
    form = parse_urlencoded(raw, max_fields=max_fields, repeatable=tuple(counted))
    out = {k: v for k, v in form.pairs if k not in counted and isinstance(v, str)}
    for name in counted:
        if name in form:
            out[name] = str(sum(1 for v in form.getall(name) if v))
    return out


def check_csrf(request: Request, supplied: str | None) -> None:
    """The token must match the one in the visitor's cookie (double submit). Pyramid's origin
    check does not run on plain-HTTP onion addresses, so this comparison is the protection."""
    expected = get_csrf_token(request)
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise FormError("csrf", 400)


class FormRequest(Request):
    """The apps' request: ``form`` is the urlencoded body parsed in memory (once), and ``POST``
    shows the same parse, never WebOb's spooling one."""

    @reify
    def form(self) -> dict[str, str]:
        # "files" may repeat: a form with a multiple file input sent urlencoded (the report
        # form's language switch) names each chosen file; only their number is kept.
        return read_urlencoded(self, counted=FILE_FIELDS, max_fields=MAX_FIELDS + 100)

    @property
    def POST(self) -> Any:  # noqa: N802 - WebOb's name
        if self.method != "POST":
            return NoVars("Not a POST request")
        if (self.content_type or "").lower() != "application/x-www-form-urlencoded":
            # A multipart body is only ever streamed by ingest.py or gateway/upload.py.
            raise FormError("type", 415)
        return MultiDict(self.form)


def csrf_by_default(config: Any) -> None:
    """Every view of both apps needs the CSRF token on an unsafe method, without a line of its
    own: Pyramid's CSRF view deriver, reading the token from ``FormRequest.POST``. The one
    exception is registered through ``add_routes`` (the streaming uploads)."""
    config.set_request_factory(FormRequest)
    # No header token (the forms carry it) and no Origin check: Pyramid makes that check on
    # https only, and the onion services speak plain HTTP.
    config.set_default_csrf_options(require_csrf=True, token=CSRF_FIELD, header=None,
                                    check_origin=False)


def add_routes(config: Any, routes: Any, streaming: dict[str, int]) -> None:
    """Register ``(name, pattern, view, method)`` routes. ``streaming`` maps the routes whose
    multipart bodies are streamed into envelopes or a spool file to their size limits: the only
    views registered without Pyramid's CSRF check, because reading the body to find the token
    would mean buffering the upload. Their token is the body's first field instead, checked by
    ingest.py and gateway/upload.py before a byte of a file is kept, and security.check_body
    refuses any other kind of body on those routes."""
    config.register_service(StreamingRoutes(streaming), StreamingRoutes)
    for name, pattern, view, method in routes:
        config.add_route(name, pattern, request_method=method)
        if name in streaming:
            config.add_view(view, route_name=name, require_csrf=False)
        else:
            config.add_view(view, route_name=name)
