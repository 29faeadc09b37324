"""Reading forms without ever touching WebOb's ``request.POST``.

WebOb copies any body over 10 KB into a temporary file before parsing it, in plaintext, and its
multipart parser writes file parts to temporary files too. So urlencoded forms are parsed here,
in memory, from a body already capped by security.check_body; multipart forms are streamed by
ingest.py. Invalid UTF-8, too many fields and repeated fields are refused with a 400."""

from __future__ import annotations

import hmac
import unicodedata
from urllib.parse import parse_qsl

from pyramid.csrf import get_csrf_token
from pyramid.request import Request

from .security import SMALL_BODY

MAX_FIELDS = 32
CSRF_FIELD = "csrf_token"


class FormError(Exception):
    """The form cannot be used as sent; ``reason`` is a key for the error page."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def read_urlencoded(request: Request) -> dict[str, str]:
    length = request.content_length or 0
    if length > SMALL_BODY:
        raise FormError("size", 413)
    raw = request.body_file_raw.read(length) if length else b""
    if len(raw) != length:
        raise FormError("incomplete")
    try:
        text = raw.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          encoding="utf-8", errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise FormError("malformed") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise FormError("malformed")
        form[key] = clean_text(value)
    return form


def clean_text(value: str) -> str:
    """NFC, no NUL or other control characters except line breaks and tabs."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


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
