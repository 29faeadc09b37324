"""Reading forms without ever touching WebOb's ``request.POST``.

WebOb copies any body over 10 KB into a temporary file before parsing it, in plaintext, and its
multipart parser writes file parts to temporary files too. So urlencoded forms are parsed in
memory (peluit.ground.forms, shared with the workbench) from a body already capped by
security.check_body; multipart forms are streamed by
ingest.py. Invalid UTF-8, too many fields and repeated fields are refused with a 400."""

from __future__ import annotations

import hmac

from pyramid.csrf import get_csrf_token
from pyramid.request import Request

from peluit.ground.forms import FormError, clean_text, parse_urlencoded

from .security import SMALL_BODY

__all__ = ["CSRF_FIELD", "MAX_FIELDS", "FormError", "check_csrf", "clean_text", "form",
           "read_urlencoded"]

MAX_FIELDS = 32
CSRF_FIELD = "csrf_token"


def read_urlencoded(request: Request) -> dict[str, str]:
    length = request.content_length or 0
    if length > SMALL_BODY:
        raise FormError("size", 413)
    raw = request.body_file_raw.read(length) if length else b""
    if len(raw) != length:
        raise FormError("incomplete")
    # The shared in-memory parser (peluit.ground.forms): no field may come twice here.
    return parse_urlencoded(raw, max_fields=MAX_FIELDS).as_dict()


def check_csrf(request: Request, supplied: str | None) -> None:
    """The token must match the one in the visitor's cookie (double submit). Pyramid's origin
    check does not run on plain-HTTP onion addresses, so this comparison is the protection."""
    expected = get_csrf_token(request)
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        raise FormError("csrf", 400)


def form(request: Request) -> dict[str, str]:
    """``request.form``: the urlencoded body, read once, CSRF-checked."""
    data = read_urlencoded(request)
    check_csrf(request, data.get(CSRF_FIELD))
    return data
