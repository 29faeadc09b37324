"""What each ticked file leaves as when a case is forwarded, and what was taken out of it.

By default a file leaves as its **safe copy** (``workbench.safecopy``: page pixels and the words
OCR read from them, made in the sandbox, made at forwarding time when nobody made one before)
with the case's redactions burnt in (``workbench.safecopy.redact``). Of the original, that
removes everything but what its pages look like: metadata, scripts and actions, links and forms,
attached files, fonts and the text layer (re-made by OCR), earlier revisions.

The **original** leaves only when the auditor chooses it for that file, after a warning saying
what it may carry (a spreadsheet the agency must recompute cannot travel as pixels). Then:
formats mat2 knows (Office, OpenDocument, images, audio, video) are stripped with mat2 in the
sandbox (``workbench.safecopy.strip``), which lists what it removed; a PDF is rewritten without
its Info, XMP and earlier revisions (``scrub``); an Office format mat2 does not know (with
macros) loses its document properties (``scrub``); anything else goes as it is. Redactions
cannot be applied to an original.

Reports name what was removed, never its value (the author's name is the value)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from workbench.safecopy import redact, strip

from . import scrub
from .forwarding import OutgoingFile, safe_extension

SAFE, ORIGINAL = "safe", "original"
SAFE_COPY_REMOVES = ("metadata", "scripts", "links", "attachments", "fonts", "revisions")
PDF_REMOVES = ("Info", "XMP", "PieceInfo", "revisions", "attachments")
OFFICE_REMOVES = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "meta.xml",
                  "date_time")


@dataclass(frozen=True)
class Prepared:
    file: OutgoingFile
    form: str  # safe-copy | original-mat2 | original-pdf-rewritten | original-office-properties
    #            | original-as-is
    removed: tuple[str, ...] = ()
    regions: int = 0
    words: int = 0


def safe_copy(pdf: bytes, regions: Sequence[redact.Region], phrases: Sequence[str]) -> Prepared:
    """The safe copy, rebuilt with the redactions burnt into its pixels and text layer."""
    try:
        out = redact.apply(pdf, regions, phrases)
    except redact.RedactError:
        raise scrub.ScrubError("the stored safe copy is damaged") from None
    return Prepared(OutgoingFile(out.pdf, "pdf"), "safe-copy", SAFE_COPY_REMOVES,
                    out.regions, out.words)


def original(data: bytes, file_name: str | None, content_type: str | None) -> Prepared:
    """The original, with what can be stripped of it stripped. Raises scrub.ScrubError when it
    cannot be cleaned (then nothing is forwarded)."""
    ext = safe_extension(file_name)
    kind = scrub.kind_of(file_name, content_type)
    if strip.supported(ext):
        try:
            done = strip.strip(data, ext)
            return Prepared(OutgoingFile(done.data, ext), "original-mat2", tuple(done.removed))
        except strip.StripError as exc:
            # mat2 refuses what it cannot parse completely (an Office file with XML it does not
            # expect): an Office package still loses its property parts below; else nothing goes.
            if kind != "office":
                raise scrub.ScrubError(str(exc)) from None
    if kind == "pdf":
        return Prepared(OutgoingFile(scrub.clean_pdf(data), "pdf"), "original-pdf-rewritten",
                        PDF_REMOVES)
    if kind == "office":
        return Prepared(OutgoingFile(scrub.clean_office(data), ext),
                        "original-office-properties", OFFICE_REMOVES)
    return Prepared(OutgoingFile(data, ext), "original-as-is")


def original_kind(file_name: str | None, content_type: str | None) -> str:
    """Which cleaning an original of this name and type gets (the form's warning says it)."""
    if strip.supported(safe_extension(file_name)):
        return "mat2"
    return scrub.kind_of(file_name, content_type) or "as-is"
