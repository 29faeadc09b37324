"""Safe copies (workbench/safecopy): pages per second, peak memory of each stage, and the size of
the safe copy against the original, for a text PDF, a camera-sized JPEG and a DOCX, and the PDF
and JPEG again with OCR (what the case page's button does; its time is the time from the click
to the finished copy, less reading the attachment from the vault).

Each input runs in its own process, so the untrusted stage's peak (the largest process in the
sandbox: pdftoppm, Pillow or LibreOffice, from ``RUSAGE_CHILDREN``) and the trusted stage's
(the workbench process itself, Python and pikepdf included, ``RUSAGE_SELF``) are its own.

``--redact``: the time to redact and rebuild the safe copy of the N-page text PDF (made with OCR
first, so it has a text layer): one region on every page and two phrases to black out, as
forwarding does it (workbench/safecopy/redact.py), best of three.

``python -m bench.workbench_safecopy [--pages N] [--click] [--redact]``. Synthetic inputs,
made here."""

from __future__ import annotations

import argparse
import io
import os
import random  # synthetic benchmark data only
import resource
import shutil
import subprocess
import sys
import time
import zipfile

WORDS = ("anggaran dana desa proyek jalan transfer rekening kepala dinas pengadaan laptop "  # noqa: SIM905
         "kuitansi fiktif audit laporan keuangan bendahara").split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_pdf(pages: int) -> bytes:
    import pikepdf
    rng = random.Random(1)
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for _ in range(pages):
        lines = [f"({_text(rng, 12)}) Tj 0 -14 Td" for _ in range(50)]
        content = ("BT /F1 11 Tf 50 780 Td " + " ".join(lines) + " ET").encode()
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 595, 842],
                                  Contents=pikepdf.Stream(pdf, content),
                                  Resources=pikepdf.Dictionary(
                                      Font=pikepdf.Dictionary(F1=font)))
        pdf.pages.append(pikepdf.Page(page))
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def make_jpeg() -> bytes:
    from PIL import Image, ImageDraw
    img = Image.effect_noise((4000, 3000), 40).convert("RGB")  # 12 Mpx, like a phone camera
    draw = ImageDraw.Draw(img)
    for i in range(0, 4000, 200):
        draw.rectangle((i, 500, i + 120, 2500), fill=(i % 255, 80, 160))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


def make_docx(paragraphs: int) -> bytes:
    rng = random.Random(2)
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{_text(rng, 60)}</w:t></w:r></w:p>"
                   for _ in range(paragraphs))
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>'),
        "word/document.xml": (f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}">'
                              f"<w:body>{body}</w:body></w:document>"),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return out.getvalue()


def _tree_rss(root: int) -> int:
    """Resident bytes of every process below ``root`` (the sandbox's processes)."""
    parent, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total = 0
    for pid in rss:
        p = pid
        while p in parent and p != root:
            p = parent[p]
        if p == root and pid != root:
            total += rss[pid]
    return total


def one(kind: str) -> None:
    """Child process: copy the input on stdin once (the input is made by the parent, so this
    process's peak is the trusted stage's), print one line of figures."""
    import threading

    from workbench import safecopy
    data = sys.stdin.buffer.read()
    peak, done = [0], threading.Event()

    def watch() -> None:  # sums the sandbox's processes every 20 ms
        while not done.wait(0.02):
            peak[0] = max(peak[0], _tree_rss(os.getpid()))
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t = time.perf_counter()
    copy = safecopy.make(data, ocr=kind.endswith("+ocr"))
    wall = time.perf_counter() - t
    done.set()
    watcher.join()
    me = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{kind:8} {copy.pages:3d} page(s) in {wall:6.2f} s = {copy.pages / wall:5.2f} pages/s; "
          f"peak RSS untrusted (sum of the sandbox) {peak[0] / 2**20:5.0f} MiB, trusted "
          f"{me.ru_maxrss / 1024:4.0f} MiB; size {len(data) / 1024:7.0f} KiB -> "
          f"{len(copy.pdf) / 1024:7.0f} KiB ({len(copy.pdf) / len(data):5.1f}x)", flush=True)


def click(kind: str, data: bytes) -> None:
    """Through the workbench's WSGI app (WebTest), as the auditor does it: press "Make a safe
    copy" on the case page (decrypt from the vault, sandbox, OCR, store encrypted, case event),
    then download the copy. Uses the test suite's vault fixtures (fast KDF parameters)."""
    import re
    import tempfile
    from pathlib import Path

    import webtest
    from sqlalchemy import select

    from tests.fixtures.workbench_vault import PASS, make_vault
    from tests.functional.workbench_cases.conftest import Vault
    from workbench.cases.models import Case
    from workbench.web import make_app
    with tempfile.TemporaryDirectory() as tmp:
        tv = make_vault(Path(tmp))
        store = Vault(tv)
        rid = store.report("bench")
        ctype = "application/pdf" if kind == "pdf" else "image/jpeg"
        sid = store.file(rid, data, f"bukti.{kind}", ctype)
        client = webtest.TestApp(make_app(tv.path, demo_not_air_gapped=True))
        form = client.get("/login").forms[0]
        form["passphrase"] = PASS
        form.submit(status=303)
        client.get("/cases")
        cid = store.query(lambda s: s.scalars(select(Case.id).where(Case.report_id == rid)).one())
        page = client.get(f"/cases/{cid}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        t = time.perf_counter()
        client.post(f"/cases/{cid}/files/{sid}/safe-copy", {"csrf_token": token}, status=303)
        made = time.perf_counter() - t
        got = client.get(f"/cases/{cid}/files/{sid}/safe-copy")
        seen = time.perf_counter() - t
        print(f"click {kind:4}: safe copy made and stored {made:6.2f} s, downloaded "
              f"({len(got.body) / 1024:.0f} KiB) at {seen:6.2f} s", flush=True)


def redaction(pages: int) -> None:
    from workbench import safecopy
    from workbench.safecopy import redact
    t = time.perf_counter()
    copy = safecopy.make(make_pdf(pages), ocr=True)
    made = time.perf_counter() - t
    words = sum(len(text.split()) for text in copy.text)
    regions = [redact.Region(n, 100, 200, 900, 400) for n in range(1, copy.pages + 1)]
    phrases = ["kepala dinas", "bendahara"]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        out = redact.apply(copy.pdf, regions, phrases)
        times.append(time.perf_counter() - t)
    best = min(times)
    print(f"redact  {out.pages:3d} page(s) (safe copy with OCR made in {made:.1f} s, {words} "
          f"words): {out.regions} regions and {out.words} words blacked out, rebuilt in "
          f"{best:.2f} s = {out.pages / best:.1f} pages/s (best of 3: "
          f"{', '.join(f'{x:.2f}' for x in times)} s); {len(copy.pdf) / 1024:.0f} KiB -> "
          f"{len(out.pdf) / 1024:.0f} KiB; trusted peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10, help="pages of the PDF (default 10)")
    ap.add_argument("--click", action="store_true",
                    help="also time the case page's button through the web app")
    ap.add_argument("--redact", action="store_true",
                    help="only time redacting and rebuilding the PDF's safe copy")
    ap.add_argument("--one", choices=("pdf", "jpeg", "docx", "pdf+ocr", "jpeg+ocr"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        one(args.one)
        return 0
    if args.redact:
        redaction(args.pages)
        return 0
    if not shutil.which("bwrap") or not shutil.which("pdftoppm"):
        print("bubblewrap and poppler-utils are needed (tests/install-deps.sh)")
        return 1
    kinds = (["pdf", "jpeg"] + (["docx"] if shutil.which("soffice") else [])
             + (["pdf+ocr", "jpeg+ocr"] if shutil.which("tesseract") else []))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    status = 0
    makers = {"pdf": lambda: make_pdf(args.pages), "jpeg": make_jpeg,
              "docx": lambda: make_docx(args.pages * 8)}
    makers["pdf+ocr"], makers["jpeg+ocr"] = makers["pdf"], makers["jpeg"]
    for kind in kinds:
        status |= subprocess.run([sys.executable, "-m", "bench.workbench_safecopy", "--one", kind],
                                 input=makers[kind](), check=False).returncode
    if args.click:
        for kind in ("pdf", "jpeg"):
            click(kind, makers[kind]())
    return status


if __name__ == "__main__":
    sys.exit(main())
