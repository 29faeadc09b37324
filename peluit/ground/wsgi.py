"""Request guards shared by the three apps (reporter, gateway, workbench), on the raw WSGI
environ, before WebOb or Pyramid parse anything. Pure functions, linear time in what was sent.

* A Cookie header keeps only a few well-formed pairs: our cookies are short random tokens, and
  WebOb's cookie regex takes quadratic time on long runs of some characters.
* A path or query string that is not UTF-8 is refused (WebOb would raise while even the error
  page reads ``?lang=``)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote_to_bytes

MAX_COOKIE_PAIRS = 16
# name=value or name="value": letters, digits and the few marks our tokens use, bounded.
_COOKIE_PAIR = re.compile(r'[A-Za-z0-9_.-]{1,64}=("?)[A-Za-z0-9_.~+/=-]{0,256}\1')


def clean_cookie_header(environ: MutableMapping[str, Any],
                        max_pairs: int = MAX_COOKIE_PAIRS) -> None:
    """Cut ``HTTP_COOKIE`` down to at most ``max_pairs`` well-formed pairs; drop the rest
    unread."""
    cookie = environ.get("HTTP_COOKIE")
    if cookie is None:
        return
    pairs = [p for p in (part.strip() for part in cookie.split(";")) if _COOKIE_PAIR.fullmatch(p)]
    environ["HTTP_COOKIE"] = "; ".join(pairs[:max_pairs])


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def url_is_utf8(environ: MutableMapping[str, Any]) -> bool:
    """Whether the path and the unquoted query string are UTF-8 (a WSGI server hands them over
    as latin-1 strings; one that is not even that is refused too)."""
    try:
        path = environ.get("PATH_INFO", "").encode("latin-1")
        query = unquote_to_bytes(environ.get("QUERY_STRING", "").encode("latin-1"))
    except UnicodeEncodeError:
        return False
    return _utf8(path) and _utf8(query)
