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
from typing import BinaryIO

import pikepdf
from PIL import Image, ImageChops

from . import pixels

JPEG_QUALITY = 85


def build(stream: BinaryIO, out: BinaryIO) -> int:
    """Read a pixel stream from ``stream``, write the PDF to ``out``; return the page count.
    Raises pixels.PixelStreamError when the stream breaks its format."""
    pdf = pikepdf.new()
    count = 0
    for _total, width, height, rgb in pixels.read_pages(stream):
        img = Image.frombytes("RGB", (width, height), rgb)
        del rgb
        red, green, blue = img.split()
        if (ImageChops.difference(red, green).getbbox() is None
                and ImageChops.difference(red, blue).getbbox() is None):
            image = pikepdf.Stream(pdf, zlib.compress(red.tobytes(), 6))
            image.ColorSpace, image.Filter = pikepdf.Name.DeviceGray, pikepdf.Name.FlateDecode
        else:
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=JPEG_QUALITY)
            image = pikepdf.Stream(pdf, buf.getvalue())
            image.ColorSpace, image.Filter = pikepdf.Name.DeviceRGB, pikepdf.Name.DCTDecode
        del img, red, green, blue
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height, image.BitsPerComponent = width, height, 8
        w_pt, h_pt = width * 72 / pixels.DPI, height * 72 / pixels.DPI
        content = pikepdf.Stream(pdf, f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode())
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, round(w_pt, 2), round(h_pt, 2)],
            Contents=content,
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image)))
        pdf.pages.append(pikepdf.Page(page))
        count += 1
    if "/Info" in pdf.trailer:
        del pdf.trailer["/Info"]
    pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    return count
