"""Safe copies from the case page: made in the sandbox with the real tools, kept encrypted in the
vault, downloaded as a pixels-only PDF; a file that cannot be copied gets a clear refusal."""

import io
import shutil
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import select

from tests.fixtures.cases_web import csrf
from workbench.cases.models import Case

pytestmark = pytest.mark.skipif(not shutil.which("bwrap") or not shutil.which("pdftoppm"),
                                reason="bubblewrap and poppler-utils (tests/install-deps.sh)")


def _pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Pelapor Rahasia"
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                             JS=pikepdf.String("app.alert('x')"))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _vault_files(root: Path) -> dict:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_safe_copy_button_stores_an_encrypted_pixels_only_pdf(auditor, compliance, store, tv):
    rid = store.report("Mark-up pengadaan laptop")
    sid = store.file(rid, _pdf(), "laporan keuangan.pdf", "application/pdf")
    bad = store.file(rid, b"\x7fELF\x02\x01\x01" + b"\0" * 500, "foto.jpg", "image/jpeg")
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    url = f"/cases/{cid}/files/{sid}/safe-copy"
    page = auditor.get(f"/cases/{cid}")
    assert f'action="http://localhost{url}"' in page.text or f'action="{url}"' in page.text
    auditor.get(url, status=404)  # none made yet
    auditor.post(url, {}, status=400)  # no CSRF token
    r = auditor.post(url, {"csrf_token": csrf(page)}, status=303)
    assert r.location.endswith(f"/cases/{cid}#file-{sid}")
    stored = list((Path(tv.path) / "safecopies").iterdir())
    assert [p.name for p in stored] == [f"{sid}.env"]
    assert b"%PDF" not in stored[0].read_bytes() and b"/Image" not in stored[0].read_bytes()
    page = auditor.get(f"/cases/{cid}")
    assert f"{url}\"" in page.text
    got = auditor.get(url)
    assert got.content_type == "application/pdf"
    assert got.headers["Content-Disposition"] == 'attachment; filename="laporan_keuangan-safe.pdf"'
    assert b"Pelapor" not in got.body and b"/JavaScript" not in got.body
    with pikepdf.open(io.BytesIO(got.body)) as pdf:
        assert len(pdf.pages) == 1 and "/OpenAction" not in pdf.Root
    compliance.get(url, status=403)

    # A program that claims to be a photo: refused with a message, the vault unchanged.
    before = _vault_files(Path(tv.path) / "safecopies")
    r = auditor.post(f"/cases/{cid}/files/{bad}/safe-copy", {"csrf_token": csrf(page)},
                     status=400)
    assert "No safe copy could be made" in r.text or "Salinan aman" in r.text
    assert _vault_files(Path(tv.path) / "safecopies") == before


@pytest.mark.skipif(not shutil.which("tesseract"), reason="Tesseract (tests/install-deps.sh)")
def test_words_read_from_a_safe_copy_reach_the_case_search(auditor, store):
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", (1240, 500), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
    ImageDraw.Draw(img).text((60, 100), "Kuitansi fiktif Bendahara", fill="black", font=font)
    scan = io.BytesIO()
    img.save(scan, "PNG")
    rid = store.report("Mark-up pengadaan laptop")
    sid = store.file(rid, scan.getvalue(), "scan.png", "image/png")
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    assert f"/cases/{cid}\"" not in auditor.get("/cases", {"q": "kuitansi"}).text
    page = auditor.get(f"/cases/{cid}")
    auditor.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": csrf(page)}, status=303)
    assert f"/cases/{cid}\"" in auditor.get("/cases", {"q": "kuitansi"}).text
    assert "Kuitansi fiktif Bendahara" in auditor.get(f"/cases/{cid}").text
