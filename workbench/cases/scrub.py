"""Hidden data taken out of a PDF before it leaves for another agency.

A PDF made on the reporter's office computer says who made it: the Info dictionary's Author
(often the Windows user name), Creator and Producer, creation and change times, the XMP
packets that repeat them (for the document, and for pages and images inside it), and, when the
file was saved incrementally, earlier revisions with text that was later removed. Any of these
can point at the reporter, for whoever reads the package at the agency. ``clean_pdf`` rewrites
the file with pikepdf (qpdf) without any of that: one revision, no Info, no XMP, no
PieceInfo, a file identifier derived from the content. The page content itself (the text, the
pictures, a name typed in a footer) is the auditor's to read and redact before ticking the
file. Attached files inside the PDF are removed too: they would need the same cleaning.

PDF parsers are attack surface, so the cleaning runs in the same self-limiting child process
as the image previews (``preview.run_limited``). Other documents (Office, text) are sent as
they are; the forwarding form says so next to them."""

from __future__ import annotations

import subprocess
import sys

from .preview import MAX_INPUT, _limit_self, run_limited

PDF_TYPES = ("application/pdf",)
_REMOVE = ("/Metadata", "/PieceInfo", "/LastModified")


class ScrubError(Exception):
    """The PDF could not be cleaned (damaged, encrypted, too large): it is not sent."""


def clean_pdf(data: bytes) -> bytes:
    if len(data) > MAX_INPUT:
        raise ScrubError("the PDF is too large to clean")
    try:
        proc = run_limited("workbench.cases.scrub", "child", data, wall_seconds=30)
    except subprocess.TimeoutExpired:
        raise ScrubError("cleaning the PDF took too long") from None
    if proc.returncode != 0 or not proc.stdout.startswith(b"%PDF-"):
        raise ScrubError("the PDF could not be read to clean it (damaged or encrypted)")
    return proc.stdout


def strip(pdf: object) -> None:
    """Remove the metadata from an open ``pikepdf.Pdf`` (in the child)."""
    import pikepdf

    assert isinstance(pdf, pikepdf.Pdf)
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    for key in ("/Names",):  # embedded files live in the name tree
        names = pdf.Root.get(key)
        if isinstance(names, pikepdf.Dictionary) and "/EmbeddedFiles" in names:
            del names["/EmbeddedFiles"]
    for obj in pdf.objects:
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
            for key in _REMOVE:
                if key in obj:
                    del obj[key]


def child() -> None:
    _limit_self()
    import io

    import pikepdf
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        sys.exit(2)
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            strip(pdf)
            out = io.BytesIO()
            # A full rewrite keeps only the current revision; the /ID comes from the content,
            # not from the time and place of this save.
            pdf.save(out, deterministic_id=True, fix_metadata_version=False,
                     object_stream_mode=pikepdf.ObjectStreamMode.preserve)
    except Exception:  # any parser failure means "not cleaned, not sent"
        sys.exit(3)
    sys.stdout.buffer.write(out.getvalue())
