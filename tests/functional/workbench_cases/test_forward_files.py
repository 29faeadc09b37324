"""Forwarding to an outside agency over real GnuPG, and attachments (export, safe preview)."""

import io
import json
import re
import tarfile

import gnupg
import pytest
from PIL import Image
from sqlalchemy import select

from tests.fixtures.cases_web import csrf, post
from workbench.cases.models import Case


@pytest.fixture(scope="module")
def agency(tmp_path_factory):
    """KPK's key pair, made by the real gpg in its own home (the agency's side)."""
    home = tmp_path_factory.mktemp("kpk-gnupg")
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(gpg.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real="KPK Pengaduan", name_email="pengaduan@kpk.example", no_protection=True))
    assert key.fingerprint
    return gpg, key.fingerprint, gpg.export_keys(key.fingerprint)


def _forwarded_case(auditor, lead, store):
    rid = store.report("Suap proyek jalan provinsi oleh kepala dinas", who_name="Pak Y",
                       who_unit="Dinas PU", how="transfer ke rekening adik")
    auditor.get("/cases")
    cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
    return rid, cid


@pytest.mark.gpg
def test_forward_package_to_an_agency_holds_nothing_identifying(auditor, lead, store, agency):
    gpg, fpr, armored = agency
    # Enrolling a key is the lead's: an auditor may look, not enrol.
    page = auditor.get("/cases/agencies")
    auditor.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                     "key": armored}, status=403)
    page = lead.get("/cases/agencies")
    r = lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                      "key": "not a key"}, status=400)
    assert "OpenPGP" in r.text
    lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                  "key": armored}, status=303)
    grouped = " ".join(fpr[i:i + 4] for i in range(0, 40, 4))
    assert grouped in lead.get("/cases/agencies").text

    rid, cid = _forwarded_case(auditor, lead, store)
    photo = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "HP-Pelapor-Budi"
    Image.new("RGB", (300, 200), (0, 90, 0)).save(photo, "JPEG", exif=exif.tobytes())
    sid = store.file(rid, photo.getvalue(), "foto_dari_budi.jpg", "image/jpeg")
    store.message(rid, "Saya bendahara proyek itu", kind="message")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "core_issue": "suap", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "forward", "reason": "kewenangan KPK"})
    page = auditor.get(f"/cases/{cid}")
    agency_id = re.search(r'<option value="(\d+)">KPK</option>', page.text)[1]
    r = auditor.post(f"/cases/{cid}/forward", {
        "csrf_token": csrf(page), "agency": agency_id, "what": "Suap proyek jalan provinsi",
        "who_name": "Pak Y", "who_unit": "Dinas PU", "how": "transfer", "grounds": "tipikor",
        "file": sid}, status=303)
    package = auditor.get(r.location)
    assert package.headers["Content-Disposition"].startswith("attachment")
    assert b"Suap" not in package.body  # ciphertext

    plain = gpg.decrypt(package.body)
    assert plain.ok, plain.status
    with tarfile.open(fileobj=io.BytesIO(plain.data)) as tar:
        names = tar.getnames()
        doc = json.loads(tar.extractfile("complaint.json").read())
        attached = tar.extractfile("lampiran-1.pdf").read()
        assert all(m.mtime == 0 and m.uname == "" for m in tar.getmembers())
    # Nobody made a safe copy: it was made when forwarding, and is what left.
    assert names == ["complaint.json", "README.txt", "lampiran-1.pdf"]
    assert doc["attachment_forms"] == {"lampiran-1.pdf": "safe-copy"}
    assert doc["complaint"]["what"] == "Suap proyek jalan provinsi"
    assert doc["received_month"] == "2026-03" and re.fullmatch(r"[0-9a-f]{16}", doc["reference"])
    blob = plain.data
    number = store.query(lambda s: s.get(Case, cid).number)
    for secret in (rid.encode(), sid.encode(), number.encode(), b"2026-03-16", b"HP-Pelapor-Budi",
                   b"foto_dari_budi", b"bendahara", b"reporter_key", b'"web"'):
        assert secret not in blob, secret
    import pikepdf
    with pikepdf.open(io.BytesIO(attached)) as out:
        assert len(out.pages) == 1 and "/Info" not in out.trailer
    # The thread says what left and what was removed from it.
    page = auditor.get(f"/cases/{cid}")
    assert "lampiran-1.pdf: salinan aman dari foto_dari_budi.jpg" in page.text


def test_attachments_export_and_safe_preview(auditor, lead, store, compliance):
    rid, cid = _forwarded_case(auditor, lead, store)
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 0, 0)).save(png, "PNG")
    img = store.file(rid, png.getvalue(), "../../etc/passwd .png", "image/png")
    doc = store.file(rid, b"<html><script>alert(1)</script></html>", "surat.html", "text/html")
    page = auditor.get(f"/cases/{cid}")
    assert f"/files/{img}" in page.text and f"/cases/{cid}/files/{img}/preview" in page.text
    assert f"/cases/{cid}/files/{doc}/preview" not in page.text  # only images are previewed
    assert "../" not in page.text and "passwd_.png" in page.text  # sanitised name
    r = auditor.get(f"/cases/{cid}/files/{img}/preview")
    assert r.content_type == "image/png" and r.body.startswith(b"\x89PNG")
    assert "sandbox" in r.headers["Content-Security-Policy"]
    auditor.get(f"/cases/{cid}/files/{doc}/preview", status=400)
    exported = auditor.get(f"/files/{doc}")
    assert exported.content_type == "application/octet-stream"
    assert exported.headers["Content-Disposition"].startswith("attachment")
    compliance.get(f"/cases/{cid}/files/{img}/preview", status=403)
    other = store.report("lain")
    auditor.get("/cases")
    other_cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == other))
                            .one())
    auditor.get(f"/cases/{other_cid}/files/{img}/preview", status=404)  # not this case's file


def _pdf_by(author: str) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    with pdf.open_metadata() as meta:
        meta["dc:creator"] = [author]
        meta["xmp:CreatorTool"] = "Microsoft Word - PC-KEU-017"
    pdf.docinfo["/Author"] = author
    pdf.docinfo["/Creator"] = "PC-KEU-017"
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


@pytest.mark.gpg
def test_forwarded_pdfs_lose_author_and_software_and_unreadable_ones_stop_the_forward(
        auditor, lead, store, agency):
    gpg, _fpr, armored = agency
    page = lead.get("/cases/agencies")
    lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                  "key": armored}, status=303)
    rid, cid = _forwarded_case(auditor, lead, store)
    original = _pdf_by("Budi Santoso")
    assert b"Budi Santoso" in original and b"PC-KEU-017" in original
    pdf = store.file(rid, original, "laporan_keuangan.pdf", "application/pdf")
    broken = store.file(rid, b"%PDF-1.7 then nothing a parser can use", "rusak.pdf",
                        "application/pdf")
    store.file(rid, b"PK\x03\x04 an office document", "memo.docx",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    store.file(rid, b"catatan", "catatan.txt", "text/plain")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "core_issue": "suap", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "forward", "reason": "kewenangan KPK"})
    page = auditor.get(f"/cases/{cid}")
    # The form says what happens to each kind of file before anything is ticked.
    assert "tanpa penyusun, perangkat lunak, waktu, dan versi sebelumnya" in page.text
    assert "Metadatanya dibuang dengan mat2" in page.text  # the .docx
    assert "Dikirim apa adanya" in page.text  # the .txt
    assert "Berkas asli dapat membawa" in page.text  # the warning on every original
    agency_id = re.search(r'<option value="(\d+)">KPK</option>', page.text)[1]
    form = {"csrf_token": csrf(page), "agency": agency_id, "what": "Suap proyek jalan",
            "grounds": "tipikor"}
    originals = [(f"as_{pdf}", "original"), (f"as_{broken}", "original")]
    r = auditor.post(f"/cases/{cid}/forward", [*form.items(), *originals, ("file", pdf),
                                               ("file", broken)], status=400)
    assert "tidak dapat dibersihkan" in r.text
    # By default the broken one would go as its safe copy, which cannot be made: nothing goes.
    r = auditor.post(f"/cases/{cid}/forward", [*form.items(), ("file", broken)], status=400)
    assert "Salinan aman berkas yang dicentang tidak dapat dibuat" in r.text
    assert "/forward/" not in auditor.get(f"/cases/{cid}").text  # nothing went out
    auditor.post(f"/cases/{cid}/forward", [*form.items(), (f"as_{pdf}", "both"), ("file", pdf)],
                 status=400)

    r = auditor.post(f"/cases/{cid}/forward", [*form.items(), *originals, ("file", pdf)],
                     status=303)
    plain = gpg.decrypt(auditor.get(r.location).body)
    assert plain.ok, plain.status
    with tarfile.open(fileobj=io.BytesIO(plain.data)) as tar:
        cleaned = tar.extractfile("lampiran-1.pdf").read()
    assert cleaned.startswith(b"%PDF-")
    for secret in (b"Budi", b"PC-KEU-017", b"Microsoft Word"):
        assert secret not in plain.data, secret
    import pikepdf

    with pikepdf.open(io.BytesIO(cleaned)) as out:
        assert len(out.pages) == 1 and "/Info" not in out.trailer and "/Metadata" not in out.Root


@pytest.mark.gpg
@pytest.mark.skipif(not __import__("shutil").which("bwrap"), reason="bubblewrap")
def test_a_file_with_a_safe_copy_is_forwarded_as_its_safe_copy(auditor, lead, store, agency):
    gpg, _fpr, armored = agency
    page = lead.get("/cases/agencies")
    lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                  "key": armored}, status=303)
    rid, cid = _forwarded_case(auditor, lead, store)
    # A text file would go as it is; once a safe copy is made, the copy goes instead.
    sid = store.file(rid, b"Dibuat oleh Budi Santoso, bendahara\n", "catatan.txt", "text/plain")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "core_issue": "suap", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "forward", "reason": "kewenangan KPK"})
    page = auditor.get(f"/cases/{cid}")
    assert "Dikirim apa adanya" in page.text
    auditor.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": csrf(page)}, status=303)
    page = auditor.get(f"/cases/{cid}")
    assert "Dikirim sebagai salinan amannya" in page.text
    agency_id = re.search(r'<option value="(\d+)">KPK</option>', page.text)[1]
    r = auditor.post(f"/cases/{cid}/forward", [
        ("csrf_token", csrf(page)), ("agency", agency_id), ("what", "Suap proyek jalan"),
        ("grounds", "tipikor"), ("file", sid)], status=303)
    plain = gpg.decrypt(auditor.get(r.location).body)
    assert plain.ok, plain.status
    with tarfile.open(fileobj=io.BytesIO(plain.data)) as tar:
        assert tar.getnames() == ["complaint.json", "README.txt", "lampiran-1.pdf"]
        sent = tar.extractfile("lampiran-1.pdf").read()
    import pikepdf

    # Pixels (and the words OCR read from them, as invisible text), nothing of the original.
    with pikepdf.open(io.BytesIO(sent)) as out:
        assert len(out.pages) == 1 and "/Info" not in out.trailer
        assert set(out.Root.keys()) == {"/Type", "/Pages"}
        assert set(out.pages[0].Resources.keys()) <= {"/XObject", "/Font"}
        assert "/Im0" in out.pages[0].Resources.XObject


@pytest.mark.gpg
@pytest.mark.skipif(not __import__("shutil").which("tesseract"), reason="Tesseract")
def test_what_leaves_carries_the_redactions(auditor, lead, store, agency):
    """Words to black out go from the complaint's text and from the safe copy's pixels and text
    layer; a region blacked out on a page goes too. The agency gets the redacted copy."""
    gpg, _fpr, armored = agency
    page = lead.get("/cases/agencies")
    lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                  "key": armored}, status=303)
    rid, cid = _forwarded_case(auditor, lead, store)
    sid = store.file(rid, b"Dibuat oleh Budi Santoso, bendahara\n\nNomor HP 0812 5550 1234\n",
                     "catatan.txt", "text/plain")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "core_issue": "suap", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "forward", "reason": "kewenangan KPK"})
    page = auditor.get(f"/cases/{cid}")
    auditor.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": csrf(page)}, status=303)
    auditor.post(f"/cases/{cid}/redact-text", {"csrf_token": csrf(page),
                                               "phrases": "Budi Santoso\nPak Y"}, status=303)
    # The third line of text (the phone number) as a region, typed in percent.
    from workbench.safecopy import redact
    copy = auditor.get(f"/cases/{cid}/files/{sid}/safe-copy").body
    img, words = redact.page_image(copy, 1)
    phone = [w for w in words if w.text in ("0812", "1234")]
    assert len(phone) == 2, words
    top = 100 * (phone[0].top - 3) / img.height
    bottom = 100 * (phone[0].top + phone[0].height + 3) / img.height
    auditor.post(f"/cases/{cid}/files/{sid}/redact", {
        "csrf_token": csrf(page), "page": "1", "action": "add", "left": "0", "top": f"{top:.2f}",
        "right": "100", "bottom": f"{bottom:.2f}"}, status=303)
    page = auditor.get(f"/cases/{cid}")
    assert "Pak Y" not in page.text.split('id="fw_who_name"')[1].split("</textarea>")[0]
    agency_id = re.search(r'<option value="(\d+)">KPK</option>', page.text)[1]
    # Even typed back into the form by hand, the phrase does not leave.
    r = auditor.post(f"/cases/{cid}/forward", [
        ("csrf_token", csrf(page)), ("agency", agency_id), ("what", "Suap oleh pak y"),
        ("who_name", "Pak  Y"), ("grounds", "tipikor"), ("file", sid)], status=303)
    plain = gpg.decrypt(auditor.get(r.location).body)
    assert plain.ok, plain.status
    with tarfile.open(fileobj=io.BytesIO(plain.data)) as tar:
        doc = json.loads(tar.extractfile("complaint.json").read())
        sent = tar.extractfile("lampiran-1.pdf").read()
    assert doc["complaint"]["who_name"] == redact.BLACK_TEXT
    assert doc["complaint"]["what"] == f"Suap oleh {redact.BLACK_TEXT}"
    text = __import__("subprocess").run(["pdftotext", "-", "-"], input=sent, capture_output=True,
                                        check=True).stdout.decode()
    assert "bendahara" in text
    for secret in ("Budi", "Santoso", "0812", "1234"):
        assert secret not in text
        assert secret.encode() not in plain.data


@pytest.mark.gpg
def test_a_spreadsheet_sent_as_its_original_is_stripped_with_mat2(auditor, lead, store, agency):
    """The agency must recompute the figures: the original goes, on the auditor's explicit
    choice, with its metadata stripped by mat2 in the sandbox; the thread lists what was
    stripped by name, never the values."""
    if not __import__("shutil").which("mat2"):
        pytest.skip("mat2 (tests/install-deps.sh)")
    from tests.fixtures.office_files import xlsx
    gpg, _fpr, armored = agency
    page = lead.get("/cases/agencies")
    lead.post("/cases/agencies", {"csrf_token": csrf(page), "name": "KPK", "kind": "kpk",
                                  "key": armored}, status=303)
    rid, cid = _forwarded_case(auditor, lead, store)
    sheet = xlsx("Budi Santoso", "PT Kontraktor Jaya", {"izin": 150000, "pelicin": 250000})
    assert b"Budi Santoso" in _unzipped(sheet)
    sid = store.file(rid, sheet, "tarif_pungli.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    post(auditor, f"/cases/{cid}/review", {"darwas": "1", "category": "corruption",
                                           "core_issue": "suap", "submit": "1"})
    post(lead, f"/cases/{cid}/decide", {"decision": "forward", "reason": "kewenangan KPK"})
    page = auditor.get(f"/cases/{cid}", headers={"Accept-Language": "en"})
    assert f'name="as_{sid}" value="original"' in page.text
    agency_id = re.search(r'<option value="(\d+)">KPK</option>', page.text)[1]
    r = auditor.post(f"/cases/{cid}/forward", [
        ("csrf_token", csrf(page)), ("agency", agency_id), ("what", "Tarif pungli"),
        ("grounds", "tipikor"), ("file", sid), (f"as_{sid}", "original")], status=303)
    plain = gpg.decrypt(auditor.get(r.location).body)
    assert plain.ok, plain.status
    with tarfile.open(fileobj=io.BytesIO(plain.data)) as tar:
        doc = json.loads(tar.extractfile("complaint.json").read())
        sent = tar.extractfile("lampiran-1.xlsx").read()
    assert doc["attachment_forms"] == {"lampiran-1.xlsx": "original-mat2"}
    inside = _unzipped(sent)
    for secret in (b"Budi", b"Kontraktor", b"Microsoft Excel", b"2026-02-03"):
        assert secret not in inside, secret
    assert b"<f>SUM(B1:B2)</f>" in inside and b"250000" in inside  # still a spreadsheet
    thread = auditor.get(f"/cases/{cid}").text
    assert "docProps/core.xml: dc:creator" in thread and "docProps/app.xml: Company" in thread
    assert "PT Kontraktor Jaya" not in thread


def _unzipped(data: bytes) -> bytes:
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return b"".join(zf.read(n) for n in zf.namelist())
