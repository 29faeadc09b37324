"""Redaction pages on the case, without JavaScript: two clicks on the page picture (an
``<input type="image">``), or the edges typed in percent, black out a region; phrases typed once
are blacked out in the text and the safe copies' pages. Real sandbox, OCR and poppler."""

import io
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from tests.fixtures.cases_web import csrf
from workbench.cases.models import Case
from workbench.safecopy import redact

pytestmark = pytest.mark.skipif(
    not shutil.which("bwrap") or not shutil.which("pdftotext") or not shutil.which("tesseract"),
    reason="bubblewrap, poppler-utils and Tesseract (tests/install-deps.sh)")


def _scan() -> bytes:
    img = Image.new("RGB", (1240, 600), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
    draw = ImageDraw.Draw(img)
    draw.text((60, 100), "Dibuat oleh Budi Santoso", fill="black", font=font)
    draw.text((60, 300), "Kuitansi fiktif dinas", fill="black", font=font)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


@pytest.fixture
def case_with_copy(auditor, store):
    rid = store.report("Kuitansi fiktif", who_name="Pak Y")
    sid = store.file(rid, _scan(), "scan.png", "image/png")
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    page = auditor.get(f"/cases/{cid}")
    url = f"/cases/{cid}/files/{sid}/redact"
    assert url not in page.text  # no safe copy yet, nothing to redact
    auditor.get(url, status=400)
    auditor.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": csrf(page)}, status=303)
    assert url in auditor.get(f"/cases/{cid}").text
    return cid, sid, url


def test_two_clicks_black_out_a_region_of_the_forwarded_copy(auditor, compliance, case_with_copy,
                                                             tv):
    cid, sid, url = case_with_copy
    page = auditor.get(url)
    assert re.search(r'<input type="image" name="at" width="800"', page.text)
    assert "<script" not in page.text
    # Where OCR found the name, in the picture's (800 px wide) coordinates.
    copy = auditor.get(f"/cases/{cid}/files/{sid}/safe-copy").body
    img, words = redact.page_image(copy, 1)
    name = [w for w in words if w.text in ("Budi", "Santoso")]
    k = 800 / img.width
    x0, y0 = int((name[0].left - 5) * k), int((name[0].top - 5) * k)
    x1 = int((name[-1].left + name[-1].width + 5) * k) + 1
    y1 = int((name[-1].top + name[-1].height + 5) * k) + 1

    auditor.post(url, {"page": "1", "at.x": str(x0), "at.y": str(y0)}, status=400)  # no CSRF
    r = auditor.post(url, {"csrf_token": csrf(page), "page": "1", "at.x": str(x0),
                           "at.y": str(y0)}, status=303)
    corner = parse_qs(urlparse(r.location).query)["corner"][0]
    page = auditor.get(r.location)
    assert f'name="corner" value="{corner}"' in page.text and "corner=" in page.text
    r = auditor.post(url, {"csrf_token": csrf(page), "page": "1", "corner": corner,
                           "at.x": str(x1), "at.y": str(y1)}, status=303)
    page = auditor.get(r.location)
    assert 'name="corner"' not in page.text and 'value="remove"' in page.text

    pic = auditor.get(f"/cases/{cid}/files/{sid}/redact/1.png")
    assert pic.content_type == "image/png" and "sandbox" in pic.headers["Content-Security-Policy"]
    redacted = auditor.get(f"/cases/{cid}/files/{sid}/redacted")
    assert redacted.content_type == "application/pdf"
    assert redacted.headers["Content-Disposition"] == 'attachment; filename="scan-redacted.pdf"'
    text = _text(redacted.body)
    assert "Budi" not in text and "Santoso" not in text and "Kuitansi" in text
    assert b"Budi" not in redacted.body
    # The safe copy the auditor reads stays whole.
    assert "Budi" in _text(auditor.get(f"/cases/{cid}/files/{sid}/safe-copy").body)
    # The regions are kept encrypted in the vault.
    stored = list((Path(tv.path) / "redactions").iterdir())
    assert [p.name for p in stored] == [f"{cid}.env"] and b"regions" not in stored[0].read_bytes()

    # Removing it brings the words back in the forwarded copy.
    auditor.post(url, {"csrf_token": csrf(page), "page": "1", "action": "remove",
                       "index": "0"}, status=303)
    assert "Budi" in _text(auditor.get(f"/cases/{cid}/files/{sid}/redacted").body)
    compliance.get(url, status=403)
    compliance.get(f"/cases/{cid}/files/{sid}/redacted", status=403)


def test_typed_edges_and_bad_input(auditor, case_with_copy):
    cid, sid, url = case_with_copy
    page = auditor.get(url)
    token = csrf(page)
    form = {"csrf_token": token, "page": "1", "action": "add"}
    auditor.post(url, {**form, "left": "0", "top": "0", "right": "100", "bottom": "40"},
                 status=303)
    text = _text(auditor.get(f"/cases/{cid}/files/{sid}/redacted").body)
    assert "Budi" not in text and "Dibuat" not in text and "Kuitansi" in text
    page = auditor.get(url)
    assert "left 0 %, top 0 %, right 100 %, bottom 40 %" in page.text \
        or "kiri 0 %, atas 0 %, kanan 100 %, bawah 40 %" in page.text
    for bad in ({**form, "left": "abc", "top": "0", "right": "1", "bottom": "1"},
                {**form, "left": "0", "top": "0", "right": "150", "bottom": "1"},
                {**form, "left": "5", "top": "0", "right": "5", "bottom": "10"},
                {**form, "page": "9", "left": "0", "top": "0", "right": "1", "bottom": "1"},
                {"csrf_token": token, "page": "1", "action": "remove", "index": "7"},
                {"csrf_token": token, "page": "1", "at.x": "x", "at.y": "1"},
                {"csrf_token": token, "page": "1", "action": "other"}):
        r = auditor.post(url, bad, status=400)
        assert "Traceback" not in r.text
    auditor.get(f"/cases/{cid}/files/{sid}/redact/2.png", status=404)
    auditor.get(url + "?page=99")  # clamped to the last page


def test_phrases_black_out_the_text_and_the_pages(auditor, case_with_copy, tv):
    cid, sid, _url = case_with_copy
    page = auditor.get(f"/cases/{cid}/redact-text")
    assert "Pak Y" in page.text
    auditor.post(f"/cases/{cid}/redact-text", {"csrf_token": csrf(page),
                                               "phrases": "Pak Y\nbudi santoso\n"}, status=303)
    page = auditor.get(f"/cases/{cid}/redact-text")
    assert "Pak Y" not in page.text.split("<textarea")[0] + page.text.split("</textarea>")[1]
    assert redact.BLACK_TEXT in page.text
    text = _text(auditor.get(f"/cases/{cid}/files/{sid}/redacted").body)
    assert "Budi" not in text and "Dibuat oleh" in text
    stored = (Path(tv.path) / "redactions" / f"{cid}.env").read_bytes()
    assert b"Pak Y" not in stored and b"budi" not in stored
