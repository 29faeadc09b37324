"""Redaction of a safe copy: regions and words blacked out in the pixels *and* the text layer.

A safe copy (build.py) is one image per page plus the words OCR read, as invisible text over
their boxes. Redacting it does not edit that PDF: it reads each page's image and words back,
paints the redacted regions black in the pixels, drops every word whose box touches a region
(and every word of a phrase to black out, whose box is painted black as well), and writes a
new PDF with ``build.write`` from those pixels and the remaining words. Nothing of the old file
is carried over (no object, no stream, no incremental update), so what was under a black box
is in neither the image, the text layer nor anywhere else in the file.

This reads only PDFs this package built (it refuses anything else): the copies are stored in the
vault as authenticated envelopes, so no reporter-made PDF is parsed here.

Coordinates are pixels of the safe copy's page (``pixels.DPI``), top left origin."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pikepdf
from PIL import Image, ImageDraw

from . import build, pixels
from .ocr import Word

MAX_REGIONS = 500
MAX_PHRASES = 200
MAX_PHRASE = 200
PHRASE_PAD = 3  # pixels around a phrase's word boxes, so a glyph's edge does not peek out
BLACK_TEXT = "\u2588" * 5  # one length for every span: a redaction does not tell how long it was


class RedactError(Exception):
    """The PDF is not a safe copy this package built, or a redaction is out of bounds."""


@dataclass(frozen=True)
class Region:
    """A rectangle to black out on page ``page`` (1-based), in that page's pixels."""

    page: int
    left: int
    top: int
    right: int
    bottom: int

    def normal(self) -> Region:
        left, right = sorted((self.left, self.right))
        top, bottom = sorted((self.top, self.bottom))
        return Region(self.page, left, top, right, bottom)

    def touches(self, w: Word) -> bool:
        return (w.left < self.right and self.left < w.left + w.width
                and w.top < self.bottom and self.top < w.top + w.height)


@dataclass(frozen=True)
class Result:
    pdf: bytes
    pages: int
    regions: int  # regions painted
    words: int  # words taken out of the text layer
    text: list[str]  # each page's remaining words


def _page_image(page: pikepdf.Page) -> Image.Image:
    try:
        xobjects = page.Resources.XObject
        if set(xobjects.keys()) != {"/Im0"}:
            raise RedactError("not a safe copy")
        image = pikepdf.PdfImage(xobjects.Im0)
        if image.filters not in (["/FlateDecode"], ["/DCTDecode"]) or image.bits_per_component != 8:
            raise RedactError("not a safe copy")
        img = image.as_pil_image()
    except (AttributeError, KeyError, pikepdf.PdfError, NotImplementedError, OSError) as exc:
        raise RedactError("not a safe copy") from exc
    if not (1 <= img.width <= pixels.MAX_SIDE and 1 <= img.height <= pixels.MAX_SIDE):
        raise RedactError("page size out of bounds")
    return img.convert("RGB")


def _page_words(page: pikepdf.Page, height: int) -> list[Word]:
    """The words of the text layer build._text_layer wrote, with their boxes in pixels."""
    scale = 72 / pixels.DPI
    size, stretch, left, base = 1.0, 100.0, 0.0, 0.0
    out = []
    for op in pikepdf.parse_content_stream(page):
        name, args = str(op.operator), op.operands
        if name == "Tf":
            size = float(args[1])
        elif name == "Tz":
            stretch = float(args[0])
        elif name == "Tm":
            left, base = float(args[4]), float(args[5])
        elif name == "Tj":
            raw = bytes(args[0])
            h = size / scale
            top = height - (base - 0.2 * size) / scale - h
            width = 0.6 * size * len(raw) * stretch / 100 / scale
            out.append(Word(round(left / scale), max(round(top), 0), max(round(width), 1),
                            max(round(h), 1), raw.decode("cp1252", "replace")))
    return out


def read(pdf: bytes) -> Iterator[tuple[Image.Image, list[Word]]]:
    """Each page of a safe copy: its image and the words of its text layer."""
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PdfError as exc:
        raise RedactError("not a PDF") from exc
    with doc:
        if len(doc.pages) > pixels.MAX_PAGES:
            raise RedactError("too many pages")
        for page in doc.pages:
            img = _page_image(page)
            yield img, _page_words(page, img.height)


def page_count(pdf: bytes) -> int:
    try:
        with pikepdf.open(io.BytesIO(pdf)) as doc:
            return len(doc.pages)
    except pikepdf.PdfError as exc:
        raise RedactError("not a PDF") from exc


def page_image(pdf: bytes, number: int) -> tuple[Image.Image, list[Word]]:
    """One page (1-based) of a safe copy, its image and words."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if not 1 <= number <= len(doc.pages):
            raise RedactError("no such page")
        page = doc.pages[number - 1]
        img = _page_image(page)
        return img, _page_words(page, img.height)


def _norm(text: str) -> str:
    return re.sub(r"^\W+|\W+$", "", text.casefold())


def clean_phrases(lines: Iterable[str]) -> list[str]:
    """The phrases to black out: one per line, blank lines and repeats dropped; a phrase of
    fewer than two letters or digits would black out half the document and is ignored."""
    out: list[str] = []
    for line in lines:
        phrase = " ".join(line.split())[:MAX_PHRASE]
        if len(re.sub(r"\W", "", phrase)) >= 2 and phrase.casefold() not in \
                (p.casefold() for p in out):
            out.append(phrase)
    return out[:MAX_PHRASES]


def phrase_words(words: Sequence[Word], phrases: Sequence[str]) -> set[int]:
    """Indexes of the words that spell one of ``phrases`` (case and the punctuation around a
    word ignored; a one-word phrase also matches inside a longer word, "Budi" in "Budi's")."""
    hits: set[int] = set()
    norms = [_norm(w.text) for w in words]
    for phrase in phrases:
        tokens = [t for t in (_norm(t) for t in phrase.split()) if t]
        if not tokens:
            continue
        n = len(tokens)
        for i in range(len(words) - n + 1):
            if n == 1:
                if tokens[0] in norms[i]:
                    hits.add(i)
            elif all(norms[i + k] == tokens[k] for k in range(1, n - 1)) \
                    and norms[i].endswith(tokens[0]) and norms[i + n - 1].startswith(tokens[-1]):
                hits.update(range(i, i + n))
    return hits


def redact_text(text: str, phrases: Sequence[str]) -> str:
    """``text`` with every phrase (any case, any run of spaces between its words) replaced by
    one black bar of fixed length."""
    for phrase in sorted(phrases, key=len, reverse=True):
        pattern = r"\s+".join(re.escape(t) for t in phrase.split())
        if pattern:
            text = re.sub(pattern, BLACK_TEXT, text, flags=re.IGNORECASE)
    return text


def burn(img: Image.Image, words: list[Word], regions: Sequence[Region],
         phrases: Sequence[str]) -> tuple[Image.Image, list[Word], int]:
    """The page with its regions and phrase words painted black, and the words left."""
    img = img.copy()
    draw = ImageDraw.Draw(img)
    hit = phrase_words(words, phrases)
    for r in regions:
        draw.rectangle((r.left, r.top, r.right - 1, r.bottom - 1), fill="black")
    for i in hit:
        w = words[i]
        draw.rectangle((max(w.left - PHRASE_PAD, 0), max(w.top - PHRASE_PAD, 0),
                        min(w.left + w.width + PHRASE_PAD, img.width) - 1,
                        min(w.top + w.height + PHRASE_PAD, img.height) - 1), fill="black")
    kept = [w for i, w in enumerate(words)
            if i not in hit and not any(r.touches(w) for r in regions)]
    return img, kept, len(words) - len(kept)


def check(regions: Sequence[Region], sizes: Mapping[int, tuple[int, int]]) -> list[Region]:
    """Regions normalised (corners in any order) and clipped to their pages; refuses a region on
    a page that does not exist or with no area."""
    if len(regions) > MAX_REGIONS:
        raise RedactError("too many regions")
    out = []
    for r in regions:
        if r.page not in sizes:
            raise RedactError("no such page")
        width, height = sizes[r.page]
        n = r.normal()
        n = Region(n.page, max(n.left, 0), max(n.top, 0), min(n.right, width),
                   min(n.bottom, height))
        if n.right - n.left < 1 or n.bottom - n.top < 1:
            raise RedactError("a region has no area")
        out.append(n)
    return out


def apply(pdf: bytes, regions: Sequence[Region], phrases: Sequence[str] = ()) -> Result:
    """The redacted copy of the safe copy ``pdf``: a new PDF built from the burnt pixels."""
    by_page: dict[int, list[Region]] = {}
    for r in regions:
        by_page.setdefault(r.page, []).append(r.normal())
    counts = {"regions": 0, "words": 0}

    def pages() -> Iterator[tuple[Image.Image, list[Word]]]:
        for number, (img, words) in enumerate(read(pdf), start=1):
            mine = by_page.get(number, [])
            burnt, kept, dropped = burn(img, words, mine, phrases)
            counts["regions"] += len(mine)
            counts["words"] += dropped
            yield burnt, kept

    out = io.BytesIO()
    count, text = build.write(pages(), out)
    return Result(out.getvalue(), count, counts["regions"], counts["words"], text)
