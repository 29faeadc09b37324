"""Redaction of safe copies, as the agency that receives the copy would try to undo it: the
blacked-out words must be in no text pdftotext extracts, in no stream of the file (raw or
decoded), in no object pikepdf can walk to, and not readable by OCR from the pixels. Real
sandbox, poppler and Tesseract."""

import contextlib
import io
import re
import shutil
import subprocess
import zlib

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from workbench import safecopy
from workbench.safecopy import ocr, redact

pytestmark = pytest.mark.skipif(
    not shutil.which("bwrap") or not shutil.which("pdftotext") or not shutil.which("tesseract"),
    reason="bubblewrap, poppler-utils and Tesseract (tests/install-deps.sh)")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
SECRETS = ("Budi", "Santoso", "0812")


@pytest.fixture(scope="module")
def copy() -> safecopy.SafeCopy:
    """A two-page scan naming the reporter, made into a safe copy with its OCR text layer."""
    pages = []
    font = ImageFont.truetype(FONT, 44)
    for lines in (["Dibuat oleh Budi Santoso", "bendahara proyek jalan"],
                  ["Telepon 0812 5550 1234", "Kuitansi fiktif dinas"]):
        img = Image.new("RGB", (1240, 700), "white")
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(lines):
            draw.text((60, 100 + 200 * i), line, fill="black", font=font)
        pages.append(img)
    scan = io.BytesIO()
    pages[0].save(scan, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    made = safecopy.make(scan.getvalue(), ocr=True)
    assert made.pages == 2
    assert "Budi Santoso" in made.text[0] and "0812" in made.text[1]
    assert "Budi" in _pdftotext(made.pdf)  # the unredacted copy does carry the words
    return made


def _pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def _everything_in(pdf: bytes) -> list[bytes]:
    """The file's raw bytes, each stream's raw and decoded bytes, and every string and name
    pikepdf reaches by walking every object."""
    found = [pdf]
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Stream):
                found.append(obj.read_raw_bytes())
                with contextlib.suppress(pikepdf.PdfError):
                    found.append(obj.read_bytes())
            stack = [obj]
            while stack:
                o = stack.pop()
                if o is not obj and getattr(o, "is_indirect", False):
                    continue  # doc.objects holds it: walk each object once (pages cycle)
                if isinstance(o, pikepdf.String):
                    found.append(bytes(o))
                elif isinstance(o, pikepdf.Name):
                    found.append(str(o).encode())
                elif isinstance(o, (pikepdf.Dictionary, pikepdf.Stream)):
                    stack.extend(o.get(k) for k in o.keys())  # noqa: SIM118 - pikepdf
                elif isinstance(o, pikepdf.Array):
                    stack.extend(o)
    # Flate data inside the file that pikepdf would not call a stream (an orphan, a trailer).
    for m in re.finditer(rb"stream\r?\n", pdf):
        with contextlib.suppress(zlib.error):
            found.append(zlib.decompressobj().decompress(pdf[m.end():m.end() + 10_000_000]))
    return found


def _assert_gone(pdf: bytes, secrets: tuple[str, ...]) -> None:
    text = _pdftotext(pdf)
    blobs = _everything_in(pdf)
    for secret in secrets:
        assert secret.casefold() not in text.casefold(), secret
        for blob in blobs:
            assert secret.encode().lower() not in blob.lower(), secret
    for img, _words in redact.read(pdf):
        read_back = " ".join(w.text for w in ocr.words(img))
        for secret in secrets:
            assert secret not in read_back, (secret, read_back)


def _box(copy: safecopy.SafeCopy, page: int, *texts: str) -> redact.Region:
    _img, words = redact.page_image(copy.pdf, page)
    hits = [w for w in words if w.text in texts]
    assert len(hits) == len(texts), words
    return redact.Region(page, min(w.left for w in hits) - 4, min(w.top for w in hits) - 4,
                         max(w.left + w.width for w in hits) + 4,
                         max(w.top + w.height for w in hits) + 4)


def test_a_region_is_burnt_into_the_pixels_and_taken_out_of_the_text_layer(copy):
    region = _box(copy, 1, "Budi", "Santoso")
    with pytest.raises(AssertionError):
        _assert_gone(copy.pdf, ("Budi",))  # the check does find the words where they are
    out = redact.apply(copy.pdf, [region])
    assert out.pages == 2 and out.regions == 1 and out.words == 2
    _assert_gone(out.pdf, ("Budi", "Santoso"))
    img, words = redact.page_image(out.pdf, 1)
    inside = img.crop((region.left, region.top, region.right, region.bottom)).convert("L")
    assert inside.getextrema() == (0, 0)  # all black
    # What was not redacted is still there, read and searchable.
    text = _pdftotext(out.pdf)
    assert "bendahara" in text and "Kuitansi" in text and "0812" in text
    assert {w.text for w in words} >= {"Dibuat", "oleh", "bendahara"}


def test_phrases_are_blacked_out_wherever_ocr_read_them(copy):
    out = redact.apply(copy.pdf, [], ["budi santoso", "0812"])
    assert out.words == 3
    _assert_gone(out.pdf, SECRETS)
    assert "Dibuat oleh" in _pdftotext(out.pdf)


def test_the_redacted_copy_is_a_new_file_with_nothing_of_the_old_one(copy):
    out = redact.apply(copy.pdf, [_box(copy, 2, "0812")])
    with pikepdf.open(io.BytesIO(out.pdf)) as doc:
        assert set(doc.Root.keys()) == {"/Type", "/Pages"} and "/Info" not in doc.trailer
        assert doc.trailer.get("/Prev") is None  # no earlier revision to fall back to
        for page in doc.pages:
            assert set(page.Resources.XObject.keys()) == {"/Im0"}
    assert out.pdf.count(b"%%EOF") == 1


def test_a_pdf_not_built_as_a_safe_copy_is_refused():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buf = io.BytesIO()
    pdf.save(buf)
    with pytest.raises(redact.RedactError):
        redact.apply(buf.getvalue(), [])
    with pytest.raises(redact.RedactError):
        redact.apply(b"not a pdf", [])


def test_regions_are_clipped_to_their_page_and_checked():
    sizes = {1: (1240, 700)}
    (r,) = redact.check([redact.Region(1, 1300, 800, -5, 10)], sizes)
    assert (r.left, r.top, r.right, r.bottom) == (0, 10, 1240, 700)
    with pytest.raises(redact.RedactError):
        redact.check([redact.Region(2, 0, 0, 10, 10)], sizes)
    with pytest.raises(redact.RedactError):
        redact.check([redact.Region(1, 5, 5, 5, 50)], sizes)


def test_text_spans_become_one_bar_of_fixed_length():
    phrases = redact.clean_phrases(["Budi  Santoso", "", "budi santoso", "x", "0812"])
    assert phrases == ["Budi Santoso", "0812"]
    text = redact.redact_text("Saya BUDI\nSANTOSO, HP 0812-555; budi santoso lagi", phrases)
    assert "budi" not in text.casefold() and "0812" not in text
    assert text.count(redact.BLACK_TEXT) == 3
