"""Text of a safe copy's pages, read from its pixels by Tesseract (Indonesian and English).

Tesseract parses images, so it runs in the same sandbox as the renderers (sandbox.py), one page
at a time: the page goes in as a PNG made here from the pixel stream, and its TSV word list comes
out (position, size, confidence, word). The trusted side reads at most ``MAX_TSV`` bytes of it,
keeps words of printable characters only, and checks every box against the page. The words
become an invisible text layer of the safe PDF (build.py) and the case search's text."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass

from PIL import Image

from . import pixels, sandbox

LANGUAGES = "ind+eng"
MAX_TSV = 4 * 1024 * 1024
MAX_WORD = 64
MIN_CONFIDENCE = 30.0
WALL_SECONDS = 60


@dataclass(frozen=True)
class Word:
    left: int
    top: int
    width: int
    height: int
    text: str


def words(img: Image.Image) -> list[Word]:
    """The words Tesseract reads on one page; an empty list when it fails or times out (a safe
    copy without a text layer is still a safe copy)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)
    argv = sandbox.command(["/usr/bin/env", "OMP_THREAD_LIMIT=1", "tesseract", "stdin", "stdout",
                            "-l", LANGUAGES, "--dpi", str(pixels.DPI), "tsv"])
    try:
        proc = subprocess.run(argv, input=buf.getvalue(), capture_output=True,  # noqa: S603
                              timeout=WALL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return []
    if proc.returncode != 0:
        return []
    return parse_tsv(proc.stdout[:MAX_TSV], img.width, img.height)


def parse_tsv(data: bytes, width: int, height: int) -> list[Word]:
    """Words of Tesseract's TSV, each with the top and height of its line (so a line's words
    share one baseline and read as one line)."""
    out, line_top, line_height = [], 0, 0
    for line in data.decode("utf-8", "replace").splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) != 12 or cols[0] not in ("4", "5"):
            continue
        try:
            left, top, w, h = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        if cols[0] == "4":
            line_top, line_height = top, h
            continue
        if line_height and line_top <= top and top + h <= line_top + line_height:
            top, h = line_top, line_height
        text = "".join(ch for ch in cols[11] if ch.isprintable()).strip()[:MAX_WORD]
        if not text or conf < MIN_CONFIDENCE or w <= 0 or h <= 0 or left < 0 or top < 0 \
                or left + w > width or top + h > height:
            continue
        out.append(Word(left, top, w, h, text))
    return out
