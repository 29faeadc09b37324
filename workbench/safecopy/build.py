"""The trusted stage: a PDF built from nothing but the pixel stream (pixels.py).

Each page becomes one image filling one page (pikepdf writes the PDF; Pillow only encodes raw
RGB it has just been handed, so no decoder of a reporter's format runs here): a page without
colour (most scans and text) as 8-bit grey, compressed losslessly with zlib (text stays sharp
and a text page is a third of its JPEG); a colour page as a JPEG. The
PDF has no document information, no XMP, no fonts, no text, no annotations, no scripts: the only
thing the original can have passed on is what its pages looked like."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO

import pikepdf
from PIL import Image, ImageChops

from . import pixels
from .ocr import Word

JPEG_QUALITY = 85


def build(stream: BinaryIO, out: BinaryIO,
          ocr: Callable[[Image.Image], list[Word]] | None = None) -> tuple[int, list[str]]:
    """Read a pixel stream from ``stream``, write the PDF to ``out``; return the page count and,
    with ``ocr``, each page's words (also laid over the page as invisible text).
    Raises pixels.PixelStreamError when the stream breaks its format."""
    def pages() -> Iterator[tuple[Image.Image, list[Word]]]:
        for _total, width, height, rgb in pixels.read_pages(stream):
            img = Image.frombytes("RGB", (width, height), rgb)
            del rgb
            yield img, (ocr(img) if ocr else [])
    return write(pages(), out)


def write(pages: Iterable[tuple[Image.Image, list[Word]]], out: BinaryIO
          ) -> tuple[int, list[str]]:
    """Write a PDF of the given page images, each with its words as invisible text, to ``out``
    (also how a redacted copy is rebuilt, redact.py); return the page count and page texts."""
    pdf = pikepdf.new()
    count, texts = 0, []
    font = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Courier,
        Encoding=pikepdf.Name.WinAnsiEncoding))
    for img, found in pages:
        width, height = img.size
        red, green, blue = img.convert("RGB").split()
        if (ImageChops.difference(red, green).getbbox() is None
                and ImageChops.difference(red, blue).getbbox() is None):
            image = pikepdf.Stream(pdf, zlib.compress(red.tobytes(), 6))
            image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.FlateDecode
        else:
            buf = io.BytesIO()
            img.convert("RGB").save(buf, format="JPEG", quality=JPEG_QUALITY)
            image = pikepdf.Stream(pdf, buf.getvalue())
            image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
        del img, red, green, blue
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        w_pt, h_pt = width * 72 / pixels.DPI, height * 72 / pixels.DPI
        drawing = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
        resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
        if found:
            drawing += b"\n" + _text_layer(found, height)
            resources.Font = pikepdf.Dictionary(F1=font)
        texts.append(" ".join(w.text for w in found))
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, round(w_pt, 2), round(h_pt, 2)],
            Contents=pikepdf.Stream(pdf, drawing), Resources=resources)
        pdf.pages.append(pikepdf.Page(page))
        count += 1
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    return count, texts


def _text_layer(words: list[Word], height: int) -> bytes:
    """Invisible text (render mode 3) over each word's box, so the copy can be searched and
    selected; Courier (every glyph 0.6 em wide) stretched (Tz) to fill the box exactly."""
    scale = 72 / pixels.DPI
    ops: list[tuple[list[Any], str]] = [([], "BT"), ([3], "Tr")]
    for w in words:
        size = max(w.height * scale, 1.0)
        text = w.text.encode("cp1252", "replace")
        stretch = 100 * w.width * scale / (0.6 * size * len(text))
        ops += [([pikepdf.Name.F1, round(size, 2)], "Tf"), ([round(stretch, 1)], "Tz"),
                ([1, 0, 0, 1, round(w.left * scale, 2),
                  round((height - w.top - w.height) * scale + 0.2 * size, 2)], "Tm"),
                ([pikepdf.String(text)], "Tj")]
    ops.append(([], "ET"))
    return pikepdf.unparse_content_stream(ops)
