"""The untrusted stage, run only inside the sandbox (see sandbox.py): a reporter's file on
stdin, a pixel stream (pixels.py) on stdout, an exit code that says why when there is none.

It decides what the file is from its bytes, never from its name or claimed type, and renders:

- PDF: poppler's ``pdftoppm``, one page at a time, each page scaled so its long side is
  ``RENDER_SIDE`` pixels whatever its MediaBox says;
- Office and OpenDocument files (and RTF): LibreOffice headless converts to PDF first, inside
  the same sandbox, then as above;
- images (PNG, JPEG, GIF, WebP, BMP, TIFF): Pillow, with its decompression-bomb check turned
  into a refusal;
- plain text (UTF-8 without NUL bytes): drawn with Pillow in a monospaced font;
- zip archives that are no Office document: listed (names and sizes, drawn as text), never
  unpacked.

Everything it writes goes to the sandbox's own tmpfs, which vanishes with it.
Not importable as part of the package on purpose: it is run as a file by the sandbox's Python."""

import io
import os
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pixels  # noqa: E402 - this file is run by path inside the sandbox

MAX_INPUT = 64 * 1024 * 1024
MAX_IMAGE_PIXELS = 60_000_000
TEXT_LINES = 60
TEXT_COLUMNS = 90
MAX_TEXT_PAGES = 100
EXIT_TOO_LARGE, EXIT_UNSUPPORTED, EXIT_FAILED, EXIT_TOO_MANY_PAGES = 2, 3, 4, 5
WORK = "/tmp/work"  # noqa: S108 - the sandbox's own tmpfs
OFFICE_MIMETYPES = (b"application/vnd.oasis.opendocument.",)
MONO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


class Refusal(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def sniff(data: bytes) -> str:
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM",
                        b"II*\x00", b"MM\x00*")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return "image"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") or data.startswith(b"{\\rtf"):
        return "office"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if "[Content_Types].xml" in names:
                    return "office"
                if "mimetype" in names and zf.read("mimetype").startswith(OFFICE_MIMETYPES):
                    return "office"
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError,
                NotImplementedError, RuntimeError):
            raise Refusal(EXIT_UNSUPPORTED) from None
        return "archive"
    if b"\x00" not in data:
        try:
            data.decode("utf-8")
            return "text"
        except UnicodeDecodeError:
            pass
    raise Refusal(EXIT_UNSUPPORTED)


def emit_page(out, width: int, height: int, rgb: bytes) -> None:
    out.write(pixels.page_header(width, height))
    out.write(rgb)


def run(argv: list, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, timeout=timeout, check=False,  # noqa: S603
                          env={"PATH": "/usr/bin:/bin", "HOME": WORK, "LANG": "C.UTF-8"})


def render_pdf(path: str, out) -> None:
    info = run(["pdfinfo", path], 30)
    pages = 0
    for line in info.stdout.decode("latin-1").splitlines():
        if line.startswith("Pages:"):
            pages = int(line.split(":", 1)[1].strip() or 0)
    if info.returncode != 0 or pages < 1:
        raise Refusal(EXIT_FAILED)
    if pages > pixels.MAX_PAGES:
        raise Refusal(EXIT_TOO_MANY_PAGES)
    out.write(pixels.header(pages))
    for number in range(1, pages + 1):
        proc = run(["pdftoppm", "-f", str(number), "-l", str(number), "-scale-to",
                    str(pixels.RENDER_SIDE), path], 60)
        width, height, rgb = parse_ppm(proc.stdout)
        if proc.returncode != 0 or width == 0:
            raise Refusal(EXIT_FAILED)
        emit_page(out, width, height, rgb)


def parse_ppm(data: bytes) -> tuple:
    """(width, height, rgb) of a binary PPM (P6, maxval 255) as pdftoppm writes it."""
    fields, pos = [], 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            return 0, 0, b""
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6" or fields[3] != b"255":
        return 0, 0, b""
    width, height = int(fields[1]), int(fields[2])
    rgb = data[pos:pos + width * height * 3]
    if len(rgb) != width * height * 3:
        return 0, 0, b""
    return width, height, rgb


def render_office(path: str, out) -> None:
    proc = run(["soffice", "-env:UserInstallation=file:///tmp/lo", "--headless", "--norestore",
                "--nolockcheck", "--nodefault", "--convert-to", "pdf", "--outdir",
                WORK + "/pdf", path], 120)
    converted = os.path.join(WORK, "pdf", "input.pdf")
    if proc.returncode != 0 or not os.path.exists(converted):
        raise Refusal(EXIT_FAILED)
    render_pdf(converted, out)


def _fit(img):
    img.thumbnail((pixels.RENDER_SIDE, pixels.RENDER_SIDE))
    return img


def render_image(data: bytes, out) -> None:
    import warnings

    from PIL import Image
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    try:
        with Image.open(io.BytesIO(data),
                        formats=("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")) as img:
            img.seek(0)
            img.draft("RGB", (pixels.RENDER_SIDE, pixels.RENDER_SIDE))  # JPEG: decode smaller
            page = _fit(img.convert("RGB"))
    except Exception:  # any decoder failure (bomb, truncation, parser error) is a refusal
        raise Refusal(EXIT_FAILED) from None
    out.write(pixels.header(1))
    emit_page(out, page.width, page.height, page.tobytes())


def render_text(text: str, out) -> None:
    import textwrap

    from PIL import Image, ImageDraw, ImageFont
    try:
        font = ImageFont.truetype(MONO_FONT, 22)
    except OSError:
        font = ImageFont.load_default()
    lines = []
    for raw in text.replace("\t", "    ").splitlines() or [""]:
        lines.extend(textwrap.wrap(raw, TEXT_COLUMNS, replace_whitespace=False) or [""])
    pages = [lines[i:i + TEXT_LINES] for i in range(0, len(lines), TEXT_LINES)] or [[]]
    if len(pages) > MAX_TEXT_PAGES:
        raise Refusal(EXIT_TOO_MANY_PAGES)
    width, height = 1240, 1754  # A4 at 150 dpi
    out.write(pixels.header(len(pages)))
    for chunk in pages:
        img = Image.new("RGB", (width, height), "white")
        draw = ImageDraw.Draw(img)
        for row, line in enumerate(chunk):
            draw.text((90, 90 + row * 26), line, fill="black", font=font)
        emit_page(out, width, height, img.tobytes())


def list_archive(data: bytes, out) -> None:
    """An archive becomes a listing of what it holds; nothing in it is unpacked."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    lines = [f"Archive: {len(infos)} entries, not unpacked.", ""]
    lines += [f"{i.file_size:>12}  {i.filename}" for i in infos[:MAX_TEXT_PAGES * TEXT_LINES - 10]]
    render_text("\n".join(lines), out)


def main() -> int:
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT or not data:
        return EXIT_TOO_LARGE
    out = sys.stdout.buffer
    try:
        kind = sniff(data)
        os.makedirs(WORK, exist_ok=True)
        if kind in ("pdf", "office"):
            path = os.path.join(WORK, "input" + (".pdf" if kind == "pdf" else ""))
            with open(path, "wb") as f:
                f.write(data)
            del data
            (render_pdf if kind == "pdf" else render_office)(path, out)
        elif kind == "image":
            render_image(data, out)
        elif kind == "text":
            render_text(data.decode("utf-8"), out)
        else:
            list_archive(data, out)
    except Refusal as refusal:
        return refusal.code
    except subprocess.TimeoutExpired:
        return EXIT_FAILED
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
