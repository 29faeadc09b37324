"""No plaintext on the workbench's disk outside the encrypted vault, proven on real processes.

A canary string travels through every workbench form and file path: the unlock passphrase, a
question, case notes, the review, the decision, the forwarding form, an agency's key upload
(multipart), the loan and retaliation forms, an off-line complaint, an imported inbox bundle
(``peluit workbench import``), an image preview (the sandboxed child), a file download, a safe
copy made from the case page, downloaded and redacted (the canary is a word to black out), the
forwarded package with an image and a PDF as safe copies and an Office file and a text file as
originals (mat2 in the sandbox) (then gpg) and the reply export (``peluit workbench
export-replies``). The safe-copy sandbox may write the canary to its own tmpfs (in memory, gone
with it) and nowhere else, and opens no network socket: every process it starts is followed.
Every form body is over 10 KB, where WebOb would spool it to a temporary file.

Each process runs under ``strace -f -y`` with every write traced *with its data* and the file
each descriptor points at (``-y``: a deleted or ``O_TMPFILE`` file shows as ``(deleted)``). The
canary must never be written to a file, deleted or not, nor name one; afterwards no file under
the test's directory (vault, TMPDIR, logs) holds it. The controls: the trace does see the canary
where it may go (pipes to the preview child and to gpg), and sees the vault's ciphertext being
written, so the watch is working."""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.liveserver import CookieSession, free_port
from tests.fixtures.workbench_vault import (
    PASS,
    Item,
    add_person,
    build_inbox,
    make_vault,
    report_item,
)

pytestmark = [pytest.mark.slow, pytest.mark.gpg]

PELUIT = [sys.executable, "-m", "peluit"]
TRACE = ["strace", "-f", "-y", "-qq", "--seccomp-bpf", "--decode-pids=pidns", "-s", "4194304",
         "-e",
         "trace=openat,open,creat,write,pwrite64,writev,pwritev,pwritev2,rename,renameat2,"
         "socket,connect,%process"]
_WRITE = re.compile(r"^\d+\s+(write|pwrite64|writev|pwritev2?)\(\d+<([^>]*)>")
_OPEN = re.compile(r'^\d+\s+(?:open|openat|creat)\(.*?"([^"]*)"')
# The safe-copy sandbox (workbench/safecopy/sandbox.py): started by execve of setpriv (as root)
# or bwrap; every process it forks is inside it. Its writable places are its own tmpfs mounts.
# Inside the sandbox's PID namespace a fork returns the namespace's pid; strace adds the pid in
# its own namespace (--decode-pids=pidns), which is what prefixes that child's lines.
_SANDBOX_START = re.compile(r'^(\d+)\s+execve\("[^"]*/(?:setpriv|bwrap)"')
_CHILD = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.*= (\d+)"
                    r"(?: /\* (\d+) in strace's PID NS \*/)?$")
_NETWORK = re.compile(r"^(\d+)\s+(?:socket\(AF_INET6?|connect\(.*AF_INET)")
SANDBOX_TMPFS = ("/tmp/", "/home/", "/root/", "/var/", "/run/")
PAD = 11 * 1024  # every form body over WebOb's 10 KB spool threshold


class _Browser(CookieSession):
    """Cookies and form posts, like a browser without JavaScript."""

    def get(self, path: str) -> str:
        status, _h, data = self.exchange("GET", path)
        assert status == 200, (path, status, data[:300])
        return data.decode()

    def csrf(self, path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path))[1]

    def post(self, path: str, fields: list[tuple[str, str]], pad: str, form_page: str | None = None,
             expect: tuple[int, ...] = (303,)) -> tuple[int, dict, bytes]:
        from urllib.parse import urlencode
        token = self.csrf(form_page or path)
        body = urlencode([("csrf_token", token), *fields, ("pad", pad)]).encode()
        assert len(body) > PAD
        status, headers, data = self.exchange("POST", path, body,
                                              "application/x-www-form-urlencoded")
        assert status in expect, (path, status, data[:500])
        return status, headers, data

    def post_multipart(self, path: str, fields: list[tuple[str, str]],
                       files: list[tuple[str, str, bytes]], pad: str) -> int:
        boundary = secrets.token_hex(16)
        out = io.BytesIO()
        for name, value in [("csrf_token", self.csrf(path)), *fields, ("pad", pad)]:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                      f"{value}\r\n".encode())
        for name, filename, data in files:
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                      f'filename="{filename}"\r\nContent-Type: application/pgp-keys\r\n\r\n'
                      .encode() + data + b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
        status, _h, data = self.exchange("POST", path, out.getvalue(),
                                         f"multipart/form-data; boundary={boundary}")
        assert status == 303, (status, data[:500])
        return status


def _run_traced(args: list[str], trace: Path, env: dict, log: Path) -> None:
    with open(log, "ab") as out:
        proc = subprocess.run([*TRACE, "-o", str(trace), *PELUIT, *args], env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=300, check=False)
    assert proc.returncode == 0, log.read_text()[-2000:]


def _png_with(canary: bytes) -> bytes:
    from PIL import Image, PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", (canary.decode() + " ") * 50)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _pdf_with(canary: str) -> bytes:
    """A PDF with the canary in its metadata and drawn on its page (so the safe copy's OCR reads
    it back, and it is in the text layer the vault keeps)."""
    import pikepdf
    pdf = pikepdf.new()
    pdf.add_blank_page()
    page = pdf.pages[0]
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)))
    page.Contents = pdf.make_stream(f"BT /F1 20 Tf 40 700 Td (Saksi {canary}) Tj ET".encode())
    pdf.docinfo["/Author"] = f"Penulis {canary}"
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def _docx_with(canary: str) -> bytes:
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"/>')
        z.writestr("docProps/core.xml", f"<cp:coreProperties><dc:creator>{canary}"
                   "</dc:creator></cp:coreProperties>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.fixture(scope="module")
def agency_key(tmp_path_factory):
    import gnupg
    home = tmp_path_factory.mktemp("agency-gnupg")
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(gpg.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real="KPK Pengaduan", name_email="pengaduan@kpk.example", no_protection=True))
    return gpg.export_keys(key.fingerprint).encode()


def test_the_canary_is_never_written_in_clear_outside_the_vault(tmp_path, agency_key):
    canary = "KENARI" + secrets.token_hex(10).upper()
    c = canary.encode()
    text = f"Pertanyaan rahasia {canary}: kapan uang diserahkan? " * 4
    pad = (canary + " ") * (PAD // len(canary) + 1)
    tv = make_vault(tmp_path)
    passphrase = f"frasa sandi {canary} yang panjang sekali"
    lead = add_person(tv, "Canary Lead", "lead", passphrase)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONDONTWRITEBYTECODE": "1"}
    passfile = tmp_path / "lead.pass"
    passfile.write_text(PASS + "\n")
    log = tmp_path / "out.log"
    traces = []

    # An inbox bundle whose envelopes hold the canary: report, message, retaliation, two files.
    report = report_item(f"Pungli di loket {canary}")
    same = {"report": report.report, "reporter": report.reporter}
    image = Item("file", _png_with(c), name="foto.png", content_type="image/png", **same)
    note = Item("file", (canary + "\n").encode() * 40, name="catatan.txt",
                content_type="text/plain", **same)
    pdf = Item("file", _pdf_with(canary), name="surat.pdf", content_type="application/pdf",
               **same)
    docx = Item("file", _docx_with(canary), name="memo.docx",
                content_type="application/vnd.openxmlformats-officedocument."
                             "wordprocessingml.document", **same)
    message = json.dumps({"text": canary, "in_reply_to": None}).encode()
    items = [report, pdf, docx, Item("message", message, **same),
             Item("retaliation", json.dumps({"text": canary}).encode(), **same), image, note]
    inbox = tmp_path / "inbox.bundle"
    inbox.write_bytes(build_inbox(tv, items, 1))
    assert c not in inbox.read_bytes()

    traces.append(tmp_path / "import.trace")
    _run_traced(["workbench", "import", str(inbox), "--vault", str(tv.path), "--as",
                 tv.lead.key_id, "--passphrase-file", str(passfile), "--demo-not-air-gapped"],
                traces[-1], env, log)

    port = free_port()
    traces.append(tmp_path / "serve.trace")
    server_log = open(log, "ab")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [*TRACE, "-o", str(traces[-1]), *PELUIT, "workbench", "serve", str(tv.path), "--port",
         str(port), "--demo-not-air-gapped"], env=env, stdout=server_log,
        stderr=subprocess.STDOUT)
    try:
        b = _Browser(port)
        deadline = time.monotonic() + 120
        while True:
            try:
                b.get("/login")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        b.post("/login", [("auditor", lead.key_id), ("passphrase", passphrase)], pad)
        page = b.get("/cases")
        cid = re.search(r'href="[^"]*/cases/(\d+)"', page)[1]
        rid = report.report
        case_page = f"/cases/{cid}"
        b.post(f"/reports/{rid}/questions", [("text", text)], pad, f"/reports/{rid}")
        b.post(f"/cases/{cid}/start", [], pad, case_page)
        b.post(f"/cases/{cid}/review", [
            ("darwas", "1"), ("category", "corruption"), ("core_issue", canary),
            ("rule", canary), ("notes", text), ("related", ""), ("submit", "1"),
            *[(f"complete_{k}", "1") for k in ("what", "who", "where", "when", "how")]],
            pad, case_page)
        b.post(f"/cases/{cid}/note", [("text", text), ("kind", "note")], pad, case_page)
        b.post(f"/cases/{cid}/ask", [("text", text)], pad, case_page)
        b.post(f"/cases/{cid}/lend", [("borrower", "Staf Arsip"),
                                      ("purpose", f"Pemeriksaan {canary}"), ("due_back", "")],
               pad, case_page)
        loan = re.search(r"/cases/loans/(\d+)/return", b.get("/cases/register?out=1"))[1]
        b.post(f"/cases/loans/{loan}/return", [], pad, "/cases/register?out=1")
        flag = re.search(r"/cases/retaliation/(\d+)/handled", b.get("/cases/retaliation"))[1]
        b.post(f"/cases/retaliation/{flag}/handled", [("reason", text)], pad,
               "/cases/retaliation")
        b.post(f"/cases/{cid}/decide", [("decision", "forward"), ("reason", text)], pad,
               case_page)
        # An agency's key through the multipart form (the key file stays in memory).
        b.post_multipart("/cases/agencies", [("name", "KPK"), ("kind", "kpk"), ("key", "")],
                         [("key_file", "kpk.asc", agency_key)], pad)
        agency = re.search(r'<option value="(\d+)">KPK</option>', b.get(case_page))[1]
        status, _h, data = b.exchange("GET", f"/cases/{cid}/files/{image.id}/preview")
        assert status == 200 and data.startswith(b"\x89PNG") and c not in data
        status, _h, data = b.exchange("GET", f"/files/{note.id}")
        assert status == 200 and c in data  # the download itself: to the browser only
        # The safe-copy route: the button (decrypt, sandbox, OCR, store encrypted), the copy
        # downloaded, redactions (the canary as a word to black out, a region), the redacted copy.
        b.post(f"/cases/{cid}/files/{pdf.id}/safe-copy", [], pad, case_page)
        status, _h, data = b.exchange("GET", f"/cases/{cid}/files/{pdf.id}/safe-copy")
        assert status == 200 and data.startswith(b"%PDF-")
        b.post(f"/cases/{cid}/redact-text", [("phrases", f"{canary}\nSaksi")], pad, case_page)
        redact_page = f"/cases/{cid}/files/{pdf.id}/redact"
        b.post(redact_page, [("page", "1"), ("action", "add"), ("left", "0"), ("top", "0"),
                             ("right", "50"), ("bottom", "20")], pad, redact_page)
        assert b.exchange("GET", f"{redact_page}/1.png")[0] == 200
        status, _h, data = b.exchange("GET", f"/cases/{cid}/files/{pdf.id}/redacted")
        assert status == 200 and data.startswith(b"%PDF-") and c not in data
        # Forwarded: the image and the PDF as safe copies (the image's made now), the Office
        # file and the text file as their originals (mat2 in the sandbox; as it is).
        _s, headers, _d = b.post(f"/cases/{cid}/forward", [
            ("agency", agency), ("what", text), ("who_name", canary), ("how", canary),
            ("grounds", canary), ("file", image.id), ("file", note.id), ("file", pdf.id),
            ("file", docx.id), (f"as_{note.id}", "original"), (f"as_{docx.id}", "original")],
            pad, case_page)
        status, _h, data = b.exchange("GET", headers["Location"].split(str(port), 1)[1])
        assert status == 200 and c not in data  # ciphertext to the agency's key
        # An off-line complaint, then the rest of a case's life on it.
        b.post("/cases/new", [("channel", "letter"), ("received", "2026-03-16"),
                              ("category", "pungli"), ("what", text), ("who_name", canary),
                              ("sender", canary)], pad, "/cases/new")
        page = b.get("/cases")
        other = max(int(x) for x in re.findall(r'href="[^"]*/cases/(\d+)"', page))
        other_page = f"/cases/{other}"
        b.post(f"/cases/{other}/acknowledge", [], pad, other_page)
        b.post(f"/cases/{other}/start", [], pad, other_page)
        b.post(f"/cases/{other}/review", [("darwas", "1"), ("category", "pungli"),
                                          ("core_issue", canary), ("notes", text),
                                          ("submit", "1")], pad, other_page)
        b.post(f"/cases/{other}/decide", [("decision", "adtt"), ("reason", text)], pad,
               other_page)
        b.post(f"/cases/{other}/verified", [("finding", text)], pad, other_page,
               expect=(303, 400))
        b.post(f"/cases/{other}/close", [("outcome", "substantiated"), ("note", text)], pad,
               other_page, expect=(303, 400))
        b.post(f"/cases/{other}/reopen", [("reason", text)], pad, other_page, expect=(303, 400))
        b.post(f"/cases/{other}/duplicate", [("of", "")], pad, other_page, expect=(303, 400))
        for path in ("/cases/export.json", "/compliance/statistics.csv", "/gateway-log"):
            assert b.exchange("GET", path)[0] == 200
        b.post("/logout", [], pad, "/")
    finally:
        _stop(server)
        server_log.close()

    traces.append(tmp_path / "export.trace")
    _run_traced(["workbench", "export-replies", str(tmp_path / "replies.bundle"), "--vault",
                 str(tv.path), "--as", tv.lead.key_id, "--passphrase-file", str(passfile),
                 "--demo-not-air-gapped"], traces[-1], env, log)

    seen_in_pipes, vault_writes, seen_in_sandbox = 0, 0, 0
    sandboxed: set[str] = set()
    for trace in traces:
        for line in trace.read_text(errors="replace").splitlines():
            if m := _SANDBOX_START.match(line):
                sandboxed.add(m.group(1))
            elif (m := _CHILD.match(line)) and m.group(1) in sandboxed:
                sandboxed.add(m.group(3) or m.group(2))
            if (m := _NETWORK.match(line)) and m.group(1) in sandboxed:
                raise AssertionError(f"the sandbox opened a network socket: {line[:300]}")
            if m := _OPEN.match(line):
                assert canary not in m.group(1), f"a file named with the canary: {line[:300]}"
            m = _WRITE.match(line)
            if m is None:
                continue
            target = m.group(2)
            if target.startswith(str(tv.path)):
                vault_writes += 1
            if canary not in line:
                continue
            if target.startswith("pipe:"):
                seen_in_pipes += 1
                continue
            pid = line.split(None, 1)[0]
            if pid in sandboxed and target.startswith(SANDBOX_TMPFS) \
                    and not target.startswith(str(tmp_path)):
                seen_in_sandbox += 1  # the sandbox's own tmpfs: memory, gone with it
                continue
            assert not target.startswith("/"), f"canary written to {target}: {line[:300]}"
    # The controls: the watch saw the canary on its way to the preview child and gpg, and saw
    # the vault's files being written.
    # (the image preview, the image, the PDF and the Office file to their cleaning children, the
    # package to gpg)
    # The sandbox: the PDF's renderer and mat2 wrote the file to its tmpfs, which the watch saw.
    assert seen_in_pipes >= 5 and vault_writes > 10, (seen_in_pipes, vault_writes)
    assert len(sandboxed) > 5 and seen_in_sandbox >= 2, (len(sandboxed), seen_in_sandbox)
    for dirpath, _dirs, files in os.walk(tmp_path):
        for name in files:
            path = Path(dirpath) / name
            if path in traces or not path.is_file():  # gpg-agent's sockets
                continue
            assert c not in path.read_bytes(), f"canary in {path}"


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM the workbench itself (a signal to strace would only detach it)."""
    import psutil
    if server.poll() is None:
        for child in psutil.Process(server.pid).children(recursive=True):
            if "strace" not in child.name() and any("peluit" in p for p in child.cmdline()):
                os.kill(child.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
