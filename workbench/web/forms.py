"""The workbench's request: form bodies parsed in memory, never spooled to disk.

WebOb copies a form body over 10 KB to a temporary file when ``request.POST`` (or
``request.body``) is first read, and Pyramid's CSRF check reads ``request.POST`` before any
view runs, before authentication: questions to reporters, case notes and the unlock passphrase
would land in TMPDIR in clear (architecture invariant 1). So on the workbench:

* ``request.form`` reads the body (at most ``guard.MAX_BODY``, which the guard enforces before
  Pyramid runs) into memory once and parses it with ``peluit.ground.forms``; a multipart file
  part (an agency's key) stays in memory too.
* ``request.POST`` *is* that in-memory form: Pyramid's CSRF check, which reads the token from
  ``request.POST``, reads it from here, and no code path can reach WebOb's own parser.
* ``request.body`` stays in memory (the temp-file threshold is above the body cap) and making a
  temporary file raises instead of writing one."""

from __future__ import annotations

from typing import Any

from pyramid.decorator import reify
from pyramid.request import Request

from peluit.ground.forms import Form, FormError, parse_body

from .guard import MAX_BODY

#: Names a form may send more than once (the forwarding form's ticked files).
REPEATABLE = frozenset({"file"})
MAX_FIELDS = 64


def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The request body, read into memory from the WSGI stream (never a file)."""
    length = request.content_length or 0
    if length > limit:
        raise FormError("size", 413)
    if not length:
        return b""
    src = request.environ["wsgi.input"]
    parts, left = [], length
    while left:
        block = src.read(min(left, 64 * 1024))
        if not block:
            raise FormError("incomplete")
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


class WorkbenchRequest(Request):
    # Above the guard's body cap: WebOb's copy_body keeps every body in memory.
    request_body_tempfile_limit = MAX_BODY + 1

    def make_tempfile(self) -> Any:
        raise RuntimeError("the workbench never writes a request body to a temporary file")

    @reify
    def form(self) -> Form:
        if self.method not in ("POST",):
            return Form()
        raw = read_body(self)
        # Leave the body readable from memory for anything else (nothing should need it).
        self.body = raw
        return parse_body(raw, self.content_type_header, max_fields=MAX_FIELDS,
                          repeatable=REPEATABLE)

    @property
    def content_type_header(self) -> str:
        return self.environ.get("CONTENT_TYPE", "")

    @property  # type: ignore[override]
    def POST(self) -> Form:  # noqa: N802 - WebOb's name, replaced
        return self.form

    @property  # type: ignore[override]
    def params(self) -> Form:
        """The query string's fields, then the form's (WebOb's order), all in memory."""
        return Form([*self.GET.items(), *self.form.pairs])


def includeme(config: Any) -> None:
    config.set_request_factory(WorkbenchRequest)
