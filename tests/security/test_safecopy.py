"""Safe copies of hostile files, with the real sandbox (bubblewrap) and renderers (poppler,
Pillow, LibreOffice): each ends in a pixels-only PDF or a clear refusal within its time limit,
nothing inside reaches the network, the vault or the home directory."""

import errno
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest

from workbench import safecopy
from workbench.safecopy import pixels, sandbox

pytestmark = pytest.mark.skipif(not shutil.which("bwrap") or not shutil.which("pdftoppm"),
                                reason="bubblewrap and poppler-utils (tests/install-deps.sh)")
HOSTILE = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/URI", "/OpenAction", "/AA",
           "/SubmitForm", "/AcroForm", "/Author", "Pelapor")


@pytest.fixture
def listener():
    """A loopback web server stand-in that records every connection it gets."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    hits, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(conn.recv(1024))
            conn.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1], hits
    stop.set()
    thread.join()
    srv.close()


def _hostile_pdf(port: int) -> bytes:
    url = f"http://127.0.0.1:{port}/beacon"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = "Pelapor Rahasia"
    js = pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                            JS=pikepdf.String(f"app.launchURL('{url}'); this.submitForm('{url}');"))
    pdf.Root.OpenAction = js
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=[pikepdf.String("x"), pdf.make_indirect(js)]))
    page = pdf.pages[0]
    page.obj.AA = pikepdf.Dictionary(O=pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("/bin/sh"),
        Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"))))
    page.obj.Annots = pdf.make_indirect([pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 600, 800],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(url))))])
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ" + b"\0" * 100)
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[], NeedAppearances=True)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _timed(data, limit=120, **kw):
    start = time.monotonic()
    try:
        return safecopy.make(data, **kw), None
    except safecopy.SafeCopyError as exc:
        return None, exc.reason
    finally:
        assert time.monotonic() - start < limit


def _only_pixels(pdf_bytes: bytes, pages: int) -> None:
    for word in HOSTILE:
        assert word.encode() not in pdf_bytes
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        assert len(pdf.pages) == pages
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert set(pdf.Root.keys()) == {"/Type", "/Pages"}
        for page in pdf.pages:
            assert set(page.Resources.keys()) <= {"/XObject", "/Font"}
            assert "/Annots" not in page.obj and "/AA" not in page.obj


def test_pdf_with_javascript_launch_embedded_file_and_beacon_becomes_pixels(listener):
    port, hits = listener
    data = _hostile_pdf(port)
    for word in ("/JavaScript", "/Launch", "/EmbeddedFile", "/URI", "Pelapor"):
        assert word.encode() in data
    copy, reason = _timed(data)
    assert reason is None and copy.pages == 1
    _only_pixels(copy.pdf, 1)
    time.sleep(0.5)
    assert hits == []


def test_truncated_pdf_is_refused_or_copied_never_hangs():
    full = _hostile_pdf(9)
    for cut in (len(full) // 2, 40, 12):
        copy, reason = _timed(full[:cut])
        assert (copy and copy.pages >= 1) or reason in ("unreadable", "unsupported")


def _png_bomb(width, height):
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # A real bomb: 1 MB of zlib data that inflates to rows of zeros.
    body = zlib.compress(b"\0" * (min(width * 3 + 1, 1 << 20) * 512), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def test_decompression_bomb_image_is_refused():
    copy, reason = _timed(_png_bomb(100_000, 100_000), limit=60)
    assert copy is None and reason == "unreadable"


def test_type_is_judged_by_content_not_by_the_claim(tmp_path, listener):
    port, hits = listener
    # An "image" that is a PDF: rendered as the PDF it is.
    jpg = tmp_path / "foto.jpg"
    jpg.write_bytes(_hostile_pdf(port))
    copy, _ = _timed(jpg.read_bytes())
    _only_pixels(copy.pdf, 1)
    # An HTML page that calls home, named like a PDF: drawn as text, never fetched.
    html = (f"<html><img src='http://127.0.0.1:{port}/x.png'>"
            f"<script>fetch('http://127.0.0.1:{port}/')</script></html>").encode()
    copy, _ = _timed(html)
    _only_pixels(copy.pdf, 1)
    # A program: refused.
    elf = Path(sys.executable).read_bytes()[:4096]
    assert _timed(elf)[1] == "unsupported"
    time.sleep(0.5)
    assert hits == []


def test_zip_archive_is_listed_not_unpacked():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../../etc/cron.d/evil", b"* * * * * root sh\n")
        zf.writestr("bomb.bin", b"\0" * (50 * 1024 * 1024))
    copy, reason = _timed(buf.getvalue())
    assert reason is None and copy.pages == 1


def test_wall_clock_limit_kills_the_sandbox():
    pdf = pikepdf.new()
    for _ in range(200):
        pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    _copy, reason = _timed(out.getvalue(), limit=10, wall_seconds=0.5)
    assert reason == "timeout"


def test_cli_writes_only_the_output(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    src = tmp_path / "bukti.pdf"
    src.write_bytes(_hostile_pdf(9))
    before = sorted(p.name for p in tmp_path.iterdir())
    out = tmp_path / "aman.pdf"
    proc = subprocess.run(
        [sys.executable, "-m", "peluit.cli", "workbench", "safe-copy", "--demo-not-air-gapped",
         str(src), str(out)], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(home), "TMPDIR": str(home)})
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*before, "aman.pdf"])
    assert list(home.iterdir()) == []
    _only_pixels(out.read_bytes(), 1)
    bad = subprocess.run(
        [sys.executable, "-m", "peluit.cli", "workbench", "safe-copy", "--demo-not-air-gapped",
         sys.executable, str(tmp_path / "no.pdf")], capture_output=True, text=True, timeout=60,
        check=False)
    assert bad.returncode != 0 and "no safe copy" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "no.pdf").exists()


def _in_sandbox(script: str) -> subprocess.CompletedProcess:
    argv = sandbox.command(["/usr/bin/python3", "-I", "-c", script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603


def test_code_running_in_the_sandbox_reaches_no_network_vault_or_home(listener, tmp_path):
    """What a renderer exploited by the file could do: nothing of what matters."""
    port, hits = listener
    secret = tmp_path / "vault-secret"
    secret.write_text("kunci")
    probe = f"""
import os, socket
res = []
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2); res.append("net")
except OSError:
    pass
for p in ({str(secret)!r}, {os.path.expanduser('~')!r} + "/.bashrc", "/work", "/etc/shadow"):
    if os.path.exists(p): res.append("sees " + p)
for p in ("/usr/evil", "/etc/evil", {str(tmp_path)!r} + "/evil"):
    try:
        open(p, "w").write("x"); res.append("wrote " + p)
    except OSError:
        pass
print("LEAK" if res else "CLEAN", res)
"""
    proc = _in_sandbox(probe)
    assert "CLEAN" in proc.stdout, proc.stdout + proc.stderr
    assert not (tmp_path / "evil").exists()
    time.sleep(0.3)
    assert hits == []


def test_sandbox_limits_memory_file_size_and_processes():
    proc = _in_sandbox("b = bytearray(3 * 1024**3)")
    assert proc.returncode != 0 and "MemoryError" in proc.stderr
    size = sandbox.FILE_SIZE_LIMIT + 1
    proc = _in_sandbox(f"f = open('big', 'wb'); f.write(b'0' * {size}); f.close()")
    assert proc.returncode != 0 and "File too large" in proc.stderr
    proc = _in_sandbox("import resource; print(resource.getrlimit(resource.RLIMIT_NPROC), "
                       "resource.getrlimit(resource.RLIMIT_CPU))")
    assert f"({sandbox.PROCESSES}, {sandbox.PROCESSES})" in proc.stdout
    assert f"({sandbox.CPU_SECONDS}, {sandbox.CPU_SECONDS})" in proc.stdout


def test_the_process_limit_binds_even_when_the_workbench_runs_as_root():
    """A fork bomb in a hostile document: the sandbox's process limit must stop it. The kernel
    exempts root from RLIMIT_NPROC, so a workbench run as root must not run the sandbox as root."""
    proc = _in_sandbox(f"""
import os, time
made, error = 0, None
for _ in range(4 * {sandbox.PROCESSES}):
    try:
        pid = os.fork()
    except OSError as exc:
        error = exc.errno
        break
    if pid == 0:
        time.sleep(20)
        os._exit(0)
    made += 1
print("FORKED", made, error, os.getuid())
""")
    assert "FORKED" in proc.stdout, proc.stderr
    _word, made, error, uid = proc.stdout.split()
    assert int(made) < sandbox.PROCESSES and error == str(errno.EAGAIN), proc.stdout
    assert uid != "0"


def test_pixel_stream_bounds_are_checked_before_reading():
    def stream(*nums, extra=b""):
        return io.BytesIO(pixels.MAGIC + bytes([pixels.VERSION])
                          + b"".join(struct.pack(">I", n) for n in nums) + extra)
    for bad in (stream(0), stream(pixels.MAX_PAGES + 1), stream(1, 2**31, 1),
                stream(1, 1, pixels.MAX_SIDE + 1), stream(1, 1, 1, extra=b"\0\0"),
                stream(1, 1, 1, extra=b"\0\0\0\0")):
        with pytest.raises(pixels.PixelStreamError):
            list(pixels.read_pages(bad))


def _docx(port: int) -> bytes:
    """A Word document whose image and template live on a (loopback) web server, with author."""
    url = f"http://127.0.0.1:{port}"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{rels}"><Relationship '
            f'Id="rId1" Type="{r}/officeDocument" Target="word/document.xml"/><Relationship '
            'Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
            'metadata/core-properties" Target="docProps/core.xml"/></Relationships>'),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/'
            'dc/elements/1.1/"><dc:creator>Pelapor Rahasia</dc:creator></cp:coreProperties>'),
        "word/_rels/document.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{rels}"><Relationship '
            f'Id="rId9" Type="{r}/image" Target="{url}/foto.png" TargetMode="External"/>'
            f'<Relationship Id="rId8" Type="{r}/oleObject" Target="{url}/ole.bin" '
            'TargetMode="External"/></Relationships>'),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}" xmlns:r="{r}">'
            '<w:body><w:p><w:r><w:t>Bukti transfer dana desa</w:t></w:r></w:p>'
            '<w:p><w:fldSimple w:instr="INCLUDEPICTURE &quot;'
            f'{url}/field.png&quot; \\d"><w:r><w:t>x</w:t></w:r></w:fldSimple></w:p>'
            '</w:body></w:document>'),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return buf.getvalue()


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (tests/install-deps.sh)")
def test_word_document_with_remote_image_and_author_becomes_pixels_offline(listener):
    port, hits = listener
    copy, reason = _timed(_docx(port), limit=240)
    assert reason is None and copy.pages == 1
    _only_pixels(copy.pdf, 1)
    time.sleep(0.5)
    assert hits == []


def _image_with_text(words: str) -> bytes:
    from PIL import Image, ImageDraw, ImageFont
    img = Image.new("RGB", (1240, 500), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 48)
    ImageDraw.Draw(img).text((60, 100), words, fill="black", font=font)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.mark.skipif(not shutil.which("tesseract"), reason="Tesseract (tests/install-deps.sh)")
def test_ocr_gives_the_safe_copy_an_invisible_text_layer():
    copy, reason = _timed(_image_with_text("Kuitansi fiktif dana desa"), ocr=True)
    assert reason is None and "Kuitansi fiktif dana desa" in copy.text[0]
    _only_pixels(copy.pdf, 1)
    text = subprocess.run(["pdftotext", "-", "-"], input=copy.pdf, capture_output=True,
                          check=True).stdout.decode()
    assert "Kuitansi fiktif dana desa" in text


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (tests/install-deps.sh)")
def test_xml_bomb_in_a_word_document_ends_within_its_limit():
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    src = zipfile.ZipFile(io.BytesIO(_docx(9)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in src.namelist():
            data = src.read(name)
            if name == "word/document.xml":
                data = data.replace(b"?>", f"?><!DOCTYPE w:document [{entities}]>".encode(), 1)
                data = data.replace(b"Bukti transfer dana desa", b"&a9;")
            zf.writestr(name, data)
    copy, reason = _timed(buf.getvalue(), limit=90, wall_seconds=60)
    assert reason in ("unreadable", "timeout") or (copy and copy.pages <= pixels.MAX_PAGES)


def test_jpeg_pdf_polyglot_becomes_pixels_of_one_of_them(listener):
    port, hits = listener
    from PIL import Image
    jpeg = io.BytesIO()
    Image.new("RGB", (200, 100), "red").save(jpeg, "JPEG")
    polyglot = jpeg.getvalue()[:2] + b"\xff\xfe\x00\x10%PDF-1.7 hidden" + jpeg.getvalue()[2:] \
        + _hostile_pdf(port)
    copy, reason = _timed(polyglot)
    assert reason in (None, "unreadable")
    if copy:
        _only_pixels(copy.pdf, copy.pages)
    time.sleep(0.3)
    assert hits == []
