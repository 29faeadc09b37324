"""Streaming a multipart upload straight into envelopes.

The request body is read from the socket in blocks and fed to a push parser (the ``multipart``
package, which keeps nothing on disk). Each file part goes into its own EnvelopeWriter, sealed to
every active auditor card, whose ciphertext goes to a temporary name in the store; text fields
are kept in memory, bounded. So plaintext exists only in this process's memory, one block at a
time, and the store sees ciphertext only. Nothing becomes visible until the caller commits; on
any error every envelope begun here is removed."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header
from nacl.public import PublicKey

from crypto.envelope import EnvelopeWriter

from .forms import CSRF_FIELD, FormError, clean_text
from .models import new_id
from .store import PendingEnvelope, Store

READ_BLOCK = 256 * 1024
MAX_NAME = 255


@dataclass(frozen=True)
class Limits:
    text_fields: frozenset[str]
    file_field: str | None = "files"
    max_parts: int = 200
    max_text_bytes: int = 128 * 1024  # per field: a long message, several times over
    max_files: int = 100


@dataclass
class StoredFile:
    submission_id: str
    pending: PendingEnvelope
    size: int = 0
    name: str = ""  # in memory only, for the acknowledgment page; stored only in the envelope


@dataclass
class StreamedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[StoredFile] = field(default_factory=list)

    def discard(self) -> None:
        for f in self.files:
            f.pending.discard()


def check_file_name(raw: str) -> str:
    """The name a reporter's file travels under (inside the encryption). Browsers send the
    bare name; anything with a path, control characters or over 255 characters is not from a
    browser form, and is refused rather than guessed at."""
    name = unicodedata.normalize("NFC", raw)
    if (not name or len(name) > MAX_NAME or "/" in name or "\\" in name or name in (".", "..")
            or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name)):
        raise FormError("filename")
    return name


def _content_type(segment: MultipartSegment) -> str:
    ctype = (segment.content_type or "application/octet-stream").strip().lower()
    if len(ctype) > 100 or not all(33 <= ord(c) < 127 for c in ctype):
        return "application/octet-stream"
    return ctype


def boundary_of(content_type_header: str) -> str:
    ctype, params = parse_options_header(content_type_header or "")
    boundary = params.get("boundary")
    if ctype != "multipart/form-data" or not boundary or len(boundary) > 200:
        raise FormError("malformed")
    return boundary


#: The recipients, or what chooses them from the text fields read so far: a report's group is
#: one of its fields (dropbox_app/routing.py), which the form puts before its files, so the
#: first file part is sealed to the right group. The chooser raises FormError when the fields
#: do not decide it: nothing is ever sealed to a group by default.
Recipients = Sequence[PublicKey] | Callable[[dict[str, str]], Sequence[PublicKey]]


class _Ingest:
    def __init__(self, store: Store, recipients: Recipients, report_id: str,
                 limits: Limits, csrf_check: Any):
        self.store = store
        self._choose = recipients if callable(recipients) else None
        self.recipients = [] if callable(recipients) else list(recipients)
        self.report_id = report_id
        self.limits = limits
        self.csrf_check = csrf_check
        self.form = StreamedForm()
        self.parts = 0
        self._name: str | None = None
        self._text: bytearray | None = None
        self._writer: EnvelopeWriter | None = None
        self._file: StoredFile | None = None
        self._skip = False

    def start(self, seg: MultipartSegment) -> None:
        self.parts += 1
        name = seg.name or ""
        # The token comes first (it is the form's first field), so nothing is stored for a
        # forged request: checked before any file part is read.
        if self.parts == 1 and (name != CSRF_FIELD or seg.filename is not None):
            raise FormError("csrf")
        self._name = name
        if seg.filename is not None:
            if name != self.limits.file_field:
                raise FormError("malformed")
            if seg.filename == "":  # a file input left empty
                self._skip = True
                return
            if len(self.form.files) >= self.limits.max_files:
                raise FormError("too_many_files", 413)
            fname = check_file_name(seg.filename)
            sub_id = new_id()
            pending = self.store.begin(sub_id)
            stored = StoredFile(sub_id, pending, name=fname)
            self.form.files.append(stored)
            meta = {"v": 1, "kind": "file", "report": self.report_id, "submission": sub_id,
                    "name": fname, "content_type": _content_type(seg)}
            if self._choose is not None:
                self.recipients = list(self._choose(self.form.fields))
                self._choose = None
            self._writer = EnvelopeWriter(pending.sink, self.recipients, meta)
            self._file = stored
        else:
            if name not in self.limits.text_fields and name != CSRF_FIELD:
                raise FormError("malformed")
            if name in self.form.fields:
                raise FormError("malformed")
            self._text = bytearray()

    def data(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._skip:
            if len(chunk):
                raise FormError("malformed")
            return
        if self._writer is not None:
            self._writer.write(chunk)
            assert self._file is not None
            self._file.size += len(chunk)
        elif self._text is not None:
            if len(self._text) + len(chunk) > self.limits.max_text_bytes:
                raise FormError("text_too_long", 413)
            self._text += chunk

    def end(self) -> None:
        if self._writer is not None:
            self._writer.close()
            assert self._file is not None
            self._file.pending.sink.finish()  # its writer thread ends with the part
            self._writer = None
            self._file = None
        elif self._text is not None:
            try:
                value = clean_text(self._text.decode("utf-8"))
            except UnicodeDecodeError:
                raise FormError("encoding") from None
            assert self._name is not None
            if self._name == CSRF_FIELD:
                self.csrf_check(value)
            self.form.fields[self._name] = value
            self._text = None
        self._skip = False


def ingest(body: BinaryIO, content_type: str, content_length: int, store: Store,
           recipients: Recipients, report_id: str, limits: Limits,
           csrf_check: Any) -> StreamedForm:
    """Read the whole multipart body, sealing each file as it arrives. Raises FormError (after
    removing what it wrote) on anything malformed."""
    if not callable(recipients) and not recipients:
        raise ValueError("no recipients: refuse before reading")
    state = _Ingest(store, recipients, report_id, limits, csrf_check)
    parser = PushMultipartParser(boundary_of(content_type), content_length,
                                 max_header_size=8 * 1024, max_header_count=8,
                                 max_segment_count=limits.max_parts, strict=True)
    remaining = content_length
    try:
        while remaining > 0:
            block = body.read(min(READ_BLOCK, remaining))
            if not block:
                raise FormError("incomplete")
            remaining -= len(block)
            for event in parser.parse(block):
                if isinstance(event, MultipartSegment):
                    state.start(event)
                elif event is None:
                    state.end()
                else:
                    state.data(event)
            if parser.closed:
                break
        parser.close(check_complete=True)
        if not state.form.fields.get(CSRF_FIELD):
            raise FormError("csrf")
    except MultipartError as exc:
        state.form.discard()
        raise FormError("too_many_fields" if "limit" in type(exc).__name__.lower()
                        else "malformed") from None
    except BaseException:
        state.form.discard()
        raise
    return state.form
