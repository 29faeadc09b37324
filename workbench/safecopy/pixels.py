"""The one thing that crosses from the untrusted renderer to the trusted PDF builder: raw pixels.

The stream (all integers unsigned 32-bit big-endian)::

    MAGIC (8 bytes, b"PELUITPX")  VERSION (1 byte, 1)
    page count                    1 .. MAX_PAGES
    then for every page:
        width, height             1 .. MAX_SIDE each
        width * height * 3 bytes  RGB, 8 bits per channel, rows top to bottom, no padding

and nothing after the last page. There is no room for anything but pixels: no fonts, no text,
no metadata, no scripts. The reader checks every number against its bound *before* it allocates
or reads what the number announces, so a hostile renderer can at most waste
MAX_PAGES * MAX_SIDE² * 3 bytes of reading, never memory beyond one page.

This module is imported by the trusted side and, by file name, inside the sandbox."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

MAGIC = b"PELUITPX"
VERSION = 1
MAX_PAGES = 300
MAX_SIDE = 2500  # pixels; pages are rendered with their long side at RENDER_SIDE
RENDER_SIDE = 1754  # an A4 page at 150 dpi
DPI = 150
_U32 = struct.Struct(">I")


class PixelStreamError(Exception):
    """The renderer's output does not follow the stream format or its bounds."""


def header(pages: int) -> bytes:
    if not 1 <= pages <= MAX_PAGES:
        raise PixelStreamError("page count out of bounds")
    return MAGIC + bytes([VERSION]) + _U32.pack(pages)


def page_header(width: int, height: int) -> bytes:
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise PixelStreamError("page size out of bounds")
    return _U32.pack(width) + _U32.pack(height)


def _read_exact(stream: BinaryIO, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(min(left, 1 << 20))
        if not chunk:
            raise PixelStreamError("stream ended early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _u32(stream: BinaryIO) -> int:
    return _U32.unpack(_read_exact(stream, 4))[0]


def read_pages(stream: BinaryIO) -> Iterator[tuple[int, int, int, bytes]]:
    """Yield ``(page count, width, height, rgb)`` page by page, checking every bound first."""
    if _read_exact(stream, len(MAGIC) + 1) != MAGIC + bytes([VERSION]):
        raise PixelStreamError("not a pixel stream")
    count = _u32(stream)
    if not 1 <= count <= MAX_PAGES:
        raise PixelStreamError("page count out of bounds")
    for _ in range(count):
        width, height = _u32(stream), _u32(stream)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise PixelStreamError("page size out of bounds")
        yield count, width, height, _read_exact(stream, width * height * 3)
    if stream.read(1):
        raise PixelStreamError("data after the last page")
