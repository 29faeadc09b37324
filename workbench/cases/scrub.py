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

Office documents (OOXML: docx, xlsx, pptx; OpenDocument: odt, ods, odp) are zip packages whose
document properties name the author, the last editor, the company and the editing times.
``clean_office`` rewrites the package with those parts replaced by empty ones and every entry's
time set to 1980-01-01 (a zip records when each part was last written). Comments, tracked
changes and the text itself stay: the forwarding form says so, and the auditor checks them.

Parsers are attack surface, so the cleaning runs in the same self-limiting child process as the
image previews (``preview.run_limited``). Other files are sent as they are; the form says so."""

from __future__ import annotations

import subprocess
import sys

from .preview import MAX_INPUT, _limit_self, run_limited

PDF_TYPES = ("application/pdf",)
OOXML_EXTENSIONS = ("docx", "docm", "xlsx", "xlsm", "pptx", "pptm")
ODF_EXTENSIONS = ("odt", "ods", "odp", "odg")
_REMOVE = ("/Metadata", "/PieceInfo", "/LastModified")
MAX_ENTRIES = 10_000
MAX_UNPACKED = 256 * 1024 * 1024
_EPOCH = (1980, 1, 1, 0, 0, 0)
_EMPTY_PARTS = {
    # OOXML document properties (ECMA-376 part 2): empty but valid, so Office opens the file.
    "docProps/core.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"/>'),
    "docProps/app.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>'),
    "docProps/custom.xml": (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'custom-properties"/>'),
    # OpenDocument metadata (ODF 1.2 part 1, 3.1).
    "meta.xml": (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        b' office:version="1.2"><office:meta/></office:document-meta>'),
}


class ScrubError(Exception):
    """The file could not be cleaned (damaged, encrypted, too large): it is not sent."""


def kind_of(file_name: str | None, content_type: str | None) -> str | None:
    """"pdf", "office" or None (sent as it is), from the type the reporter's browser gave and
    the file name's extension."""
    ext = (file_name or "").rsplit(".", 1)[-1].lower() if "." in (file_name or "") else ""
    if (content_type or "") in PDF_TYPES or ext == "pdf":
        return "pdf"
    if ext in OOXML_EXTENSIONS or ext in ODF_EXTENSIONS:
        return "office"
    return None


def _clean(kind: str, data: bytes, what: str) -> bytes:
    if len(data) > MAX_INPUT:
        raise ScrubError(f"the {what} is too large to clean")
    try:
        proc = run_limited("workbench.cases.scrub", "child", kind.encode() + b"\n" + data,
                           wall_seconds=30)
    except subprocess.TimeoutExpired:
        raise ScrubError(f"cleaning the {what} took too long") from None
    if proc.returncode != 0 or not proc.stdout:
        raise ScrubError(f"the {what} could not be read to clean it (damaged or encrypted)")
    return proc.stdout


def clean_pdf(data: bytes) -> bytes:
    out = _clean("pdf", data, "PDF")
    if not out.startswith(b"%PDF-"):
        raise ScrubError("the PDF could not be cleaned")
    return out


def clean_office(data: bytes) -> bytes:
    out = _clean("office", data, "document")
    if not out.startswith(b"PK\x03\x04"):
        raise ScrubError("the document could not be cleaned")
    return out


def clean(kind: str, data: bytes) -> bytes:
    return clean_pdf(data) if kind == "pdf" else clean_office(data)


def rezip(data: bytes) -> bytes:
    """The package with its property parts emptied and every entry's time zeroed (in the
    child). The entries keep their order and compression; ODF's ``mimetype`` stays first and
    stored, as the format requires."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as src:
        infos = src.infolist()
        if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED:
            raise ValueError("too many or too large entries")
        if not any(i.filename in _EMPTY_PARTS or i.filename.endswith(".xml") for i in infos):
            raise ValueError("not an office document")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in infos:
                body = _EMPTY_PARTS.get(info.filename)
                if body is None:
                    body = src.read(info)  # checks the CRC
                clean = zipfile.ZipInfo(info.filename, date_time=_EPOCH)
                clean.compress_type = info.compress_type
                clean.external_attr = 0o644 << 16
                dst.writestr(clean, body)
    return out.getvalue()


def strip(pdf: object) -> None:
    """Remove the metadata from an open ``pikepdf.Pdf`` (in the child)."""
    import pikepdf

    assert isinstance(pdf, pikepdf.Pdf)
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    names = pdf.Root.get("/Names")  # embedded files live in the name tree
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

    kind = sys.stdin.buffer.readline().strip()
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        sys.exit(2)
    try:
        if kind == b"office":
            cleaned = rezip(data)
        elif kind == b"pdf":
            import pikepdf
            with pikepdf.open(io.BytesIO(data)) as pdf:
                strip(pdf)
                out = io.BytesIO()
                # A full rewrite keeps only the current revision; the /ID comes from the
                # content, not from the time and place of this save.
                pdf.save(out, deterministic_id=True, fix_metadata_version=False,
                         object_stream_mode=pikepdf.ObjectStreamMode.preserve)
                cleaned = out.getvalue()
        else:
            sys.exit(4)
    except Exception:  # any parser failure means "not cleaned, not sent"
        sys.exit(3)
    sys.stdout.buffer.write(cleaned)
