"""Form bodies parsed in memory, with caps: the one way Peluit's apps read a form.

WebOb's ``request.POST`` (and ``request.body``) copy any body over 10 KB to a temporary file
before parsing it, in plaintext, and its multipart parser writes file parts to temporary files
too: a question to a reporter, a case note or the unlock passphrase would land on disk, where
freed blocks can be recovered. The apps therefore read a bounded body themselves (the caller
caps its length before reading) and hand the bytes here:

* ``application/x-www-form-urlencoded``: ``parse_urlencoded``; at most ``max_fields`` fields,
  UTF-8 only, a repeated name only where the caller allows it.
* ``multipart/form-data``: ``parse_multipart`` with the ``multipart`` package's push parser,
  which keeps nothing on disk; file parts stay in memory as bytes (the body is already bounded).

Text values are normalised (``clean_text``): NFC, ``\\r\\n`` → ``\\n``, no control characters
but line breaks and tabs. Anything else is a ``FormError`` whose ``reason`` the app turns into
a clear 4xx page. Pure functions: no web framework, nothing written anywhere."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import parse_qsl

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MAX_FIELDS = 64


class FormError(Exception):
    """The form cannot be used as sent; ``reason`` is a key for the error page."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def clean_text(value: str) -> str:
    """NFC, no NUL or other control characters except line breaks and tabs."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n")
    return "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart form, held in memory only."""

    filename: str
    content_type: str
    data: bytes

    @property
    def file(self) -> BytesIO:
        return BytesIO(self.data)


@dataclass
class Form:
    """Fields in the order sent; ``get`` the first value, ``getall`` every value of a name."""

    pairs: list[tuple[str, str | UploadedFile]] = field(default_factory=list)

    def get(self, name: str, default: object = None) -> object:
        for key, value in self.pairs:
            if key == name:
                return value
        return default

    def text(self, name: str, default: str = "") -> str:
        """A text field's value (a file part under that name counts as absent)."""
        value = self.get(name)
        return value if isinstance(value, str) else default

    def getall(self, name: str) -> list[str | UploadedFile]:
        return [value for key, value in self.pairs if key == name]

    def __contains__(self, name: object) -> bool:
        return any(key == name for key, _ in self.pairs)

    def keys(self) -> list[str]:
        return [key for key, _ in self.pairs]

    def __getitem__(self, name: str) -> str | UploadedFile:
        for key, value in self.pairs:
            if key == name:
                return value
        raise KeyError(name)

    def items(self) -> list[tuple[str, str | UploadedFile]]:
        return list(self.pairs)

    def as_dict(self) -> dict[str, str]:
        """The text fields, first value of each (for code that takes a plain mapping)."""
        out: dict[str, str] = {}
        for key, value in self.pairs:
            if isinstance(value, str):
                out.setdefault(key, value)
        return out


def _check_repeats(form: Form, repeatable: Collection[str]) -> None:
    seen: set[str] = set()
    for key, _ in form.pairs:
        if key in seen and key not in repeatable:
            raise FormError("malformed")
        seen.add(key)


def parse_urlencoded(raw: bytes, *, max_fields: int = MAX_FIELDS,
                     repeatable: Collection[str] = ()) -> Form:
    try:
        text = raw.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                          encoding="utf-8", errors="strict", max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError):
        raise FormError("malformed") from None
    form = Form([(key, clean_text(value)) for key, value in pairs])
    _check_repeats(form, repeatable)
    return form


def boundary_of(content_type: str) -> str:
    from multipart import parse_options_header

    kind, options = parse_options_header(content_type or "")
    boundary = options.get("boundary", "")
    if kind != MULTIPART or not boundary or len(boundary) > 200:
        raise FormError("malformed")
    return boundary


def parse_multipart(raw: bytes, content_type: str, *, max_fields: int = MAX_FIELDS,
                    repeatable: Collection[str] = ()) -> Form:
    """A whole multipart body already in memory (bounded by the caller); file parts become
    ``UploadedFile`` objects, text parts cleaned text."""
    from multipart import MultipartError, PushMultipartParser

    parser = PushMultipartParser(boundary_of(content_type), len(raw),
                                 max_segment_count=max_fields, strict=True)
    form = Form()
    segment = None
    parts: list[bytes] = []
    try:
        for event in parser.parse(raw):
            if event is None:
                assert segment is not None
                data = b"".join(parts)
                if segment.filename is not None:
                    ctype = (segment.content_type or "application/octet-stream").strip().lower()
                    form.pairs.append((segment.name, UploadedFile(
                        clean_text(segment.filename), ctype[:200], data)))
                else:
                    form.pairs.append((segment.name, clean_text(data.decode("utf-8"))))
                segment, parts = None, []
            elif isinstance(event, bytes | bytearray):
                parts.append(bytes(event))
            else:
                segment = event
        parser.close(check_complete=True)
    except (MultipartError, UnicodeDecodeError):
        raise FormError("malformed") from None
    _check_repeats(form, repeatable)
    return form


def parse_body(raw: bytes, content_type: str | None, **limits: object) -> Form:
    """A form from a body of either encoding; any other body counts as no fields."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == URLENCODED:
        return parse_urlencoded(raw, **limits)  # type: ignore[arg-type]
    if kind == MULTIPART:
        return parse_multipart(raw, content_type or "", **limits)  # type: ignore[arg-type]
    if raw:
        raise FormError("malformed")
    return Form()
