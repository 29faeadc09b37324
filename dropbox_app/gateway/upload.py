"""Receiving a reply bundle from the browser without any plaintext touching the disk.

A reply bundle holds only envelopes (sealed to reporter keys) and a manifest of ids and statuses,
so it may be spooled to disk; nothing else is. The multipart body is read from the socket in
blocks through a push parser (no temporary files of its own): a small CSRF field first, then the
bundle's bytes straight into a free slot of the store (dropbox_app/store.py: no name is created
or removed, so the store's directory does not date the upload; the caller empties the slot when
done, and the store's sweep wipes it if a crash leaves it full). The CSRF token must arrive
before the file, which the form guarantees by its field order, so nothing is spooled for a
forged request."""

from __future__ import annotations

from multipart import MultipartError, PushMultipartParser, parse_options_header
from pyramid.request import Request

from ..forms import CSRF_FIELD, FormError, check_csrf
from ..store import PendingEnvelope, Store

READ_BLOCK = 256 * 1024
FILE_FIELD = "bundle"


def _boundary(request: Request) -> str:
    ctype, params = parse_options_header(request.headers.get("Content-Type", ""))
    boundary = params.get("boundary")
    if ctype != "multipart/form-data" or not boundary or len(boundary) > 200:
        raise FormError("malformed")
    return boundary


def receive_bundle(request: Request, store: Store, limit: int) -> PendingEnvelope:
    """Spool the uploaded bundle into a slot of ``store``; returns it, complete on disk (the
    caller reads it with ``store.open(spool.member)`` and ends with ``spool.discard()``)."""
    length = request.content_length
    if length is None or length > limit:
        raise FormError("size", 413)
    src = request.environ["wsgi.input"]
    out: PendingEnvelope | None = None
    csrf = bytearray()
    field = None
    got_file = False
    csrf_ok = False
    try:
        parser = PushMultipartParser(_boundary(request), content_length=length,
                                     max_segment_count=4, strict=True)
        left = length
        while not parser.closed:
            chunk = src.read(min(READ_BLOCK, left)) if left else b""
            left -= len(chunk)
            if left and not chunk:
                raise FormError("incomplete")
            for event in parser.parse(chunk):
                if event is None:  # end of a part
                    if field == CSRF_FIELD:
                        check_csrf(request, csrf.decode("ascii", "replace"))
                        csrf_ok = True
                    elif field == FILE_FIELD:
                        got_file = True
                    field = None
                elif isinstance(event, (bytes, bytearray)):
                    if field == CSRF_FIELD:
                        csrf += event
                        if len(csrf) > 256:
                            raise FormError("malformed")
                    elif field == FILE_FIELD and out is not None:
                        out.sink.write(event)
                    # other fields are ignored, never stored
                else:
                    field = event.name
                    if field == FILE_FIELD:
                        if not csrf_ok or out is not None:
                            raise FormError("csrf")
                        out = store.begin()
            if not chunk:
                break
        if not parser.closed or not got_file:
            raise FormError("malformed")
        assert out is not None
        out.commit()
    except MultipartError:
        _remove(out)
        raise FormError("malformed") from None
    except BaseException:
        _remove(out)
        raise
    return out


def _remove(out: PendingEnvelope | None) -> None:
    if out is not None:
        out.discard()
