"""Hidden data taken out of forwarded documents, in the real sandboxed child process."""

import io
import zipfile

import pytest

from workbench.cases import scrub

CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Budi Santoso'
        b'</dc:creator><cp:lastModifiedBy>PC-KEU-017</cp:lastModifiedBy></cp:coreProperties>')
BODY = b"<w:document><w:body><w:p>Setoran ke kepala dinas</w:p></w:body></w:document>"


def _zip(entries, first_stored=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if first_stored:
            z.writestr(zipfile.ZipInfo(first_stored[0], date_time=(2026, 3, 16, 9, 41, 0)),
                       first_stored[1], compress_type=zipfile.ZIP_STORED)
        for name, body in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 3, 16, 9, 41, 0)), body)
    return out.getvalue()


def test_kinds_come_from_type_and_extension():
    assert scrub.kind_of("x.PDF", "application/octet-stream") == "pdf"
    assert scrub.kind_of("x", "application/pdf") == "pdf"
    assert scrub.kind_of("memo.docx", None) == scrub.kind_of("t.ods", "") == "office"
    assert scrub.kind_of("notes.txt", "text/plain") is None
    assert scrub.kind_of(None, None) is None


def test_a_docx_loses_its_author_editor_and_times_and_keeps_its_text():
    original = _zip([("[Content_Types].xml", b"<Types/>"), ("docProps/core.xml", CORE),
                     ("docProps/app.xml", b"<Properties><Company>Inspektorat</Company>"
                                          b"</Properties>"),
                     ("word/document.xml", BODY)])
    cleaned = scrub.clean_office(original)
    for secret in (b"Budi", b"PC-KEU-017", b"Inspektorat"):
        assert secret not in cleaned
    with zipfile.ZipFile(io.BytesIO(cleaned)) as z:
        assert z.namelist() == ["[Content_Types].xml", "docProps/core.xml", "docProps/app.xml",
                                "word/document.xml"]
        assert z.read("word/document.xml") == BODY
        assert z.read("docProps/core.xml").startswith(b"<?xml")
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
        assert z.testzip() is None


def test_an_odt_keeps_its_mimetype_first_and_stored():
    original = _zip([("meta.xml", b"<office:meta><meta:initial-creator>Budi Santoso"
                                  b"</meta:initial-creator></office:meta>"),
                     ("content.xml", b"<office:text>laporan</office:text>")],
                    first_stored=("mimetype", b"application/vnd.oasis.opendocument.text"))
    cleaned = scrub.clean_office(original)
    assert b"Budi" not in cleaned
    with zipfile.ZipFile(io.BytesIO(cleaned)) as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert z.read("content.xml") == b"<office:text>laporan</office:text>"


@pytest.mark.parametrize("data", [
    b"not a zip at all",
    b"PK\x03\x04" + b"\0" * 100,  # a broken zip
    _zip([("a.bin", b"no xml inside")]),  # a zip, but not an office document
])
def test_what_cannot_be_cleaned_is_refused(data):
    with pytest.raises(scrub.ScrubError):
        scrub.clean_office(data)


def test_a_zip_bomb_is_refused():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (scrub.MAX_UNPACKED + 1))
    with pytest.raises(scrub.ScrubError):
        scrub.clean_office(bomb.getvalue())
