"""Text normalisation shared by search and duplicate detection.

Indonesian and English both use the Latin alphabet; NFKC folding, lower case and dropping
diacritics let "Pungli", "PUNGLI" and "pungli" meet. Numbers are kept (case numbers, amounts,
SK numbers are what auditors search for)."""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[0-9a-z]+")
MIN_TOKEN = 2
MAX_TOKEN = 40


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Words of at least two characters, in order (with repeats)."""
    return [t for t in _TOKEN.findall(fold(text)) if MIN_TOKEN <= len(t) <= MAX_TOKEN]
