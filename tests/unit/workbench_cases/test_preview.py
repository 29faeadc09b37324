"""The preview sandbox: only a fresh PNG comes out, hostile or odd input gives no preview."""

import io
import struct
import zlib

import pytest
from PIL import Image

from workbench.cases import preview


def _png(w=800, h=600, **save):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 120, 200)).save(buf, "PNG", **save)
    return buf.getvalue()


def test_jpeg_with_exif_comes_out_as_png_without_metadata():
    img = Image.new("RGB", (2400, 1200), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "KameraPelapor"   # Make
    exif[0x0132] = "2026:03:16 08:15:00"  # DateTime
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert b"KameraPelapor" in buf.getvalue()
    out = preview.render(buf.getvalue())
    assert out.startswith(b"\x89PNG") and b"KameraPelapor" not in out
    with Image.open(io.BytesIO(out)) as back:
        assert back.format == "PNG" and max(back.size) == preview.MAX_SIDE
        assert not back.getexif()


def _bomb(width, height):
    """A tiny PNG whose header claims a huge image."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1024)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("data", [
    _bomb(50_000, 50_000),            # 2.5 gigapixels: refused before decoding
    _bomb(7_000, 7_000),              # 49 Mpx: only a warning in Pillow, a refusal here
    b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
    b"%PDF-1.7\n",
    _png()[:100],                     # truncated
    b"",
])
def test_no_preview_for_bombs_scripts_and_junk(data):
    with pytest.raises(preview.PreviewError):
        preview.render(data)


def test_too_large_input_is_refused_before_the_child():
    with pytest.raises(preview.PreviewError, match="too large"):
        preview.render(b"\0" * (preview.MAX_INPUT + 1))


def test_small_png_round_trips():
    out = preview.render(_png(40, 30))
    with Image.open(io.BytesIO(out)) as back:
        assert back.size == (40, 30)
