"""Text normalisation shared by search and duplicate detection.

Indonesian and English both use the Latin alphabet; case folding and dropping diacritics let
"Pungli", "PUNGLI" and "pungli" meet. Numbers are kept (case numbers, amounts, SK numbers are
what auditors search for). A word is a run of 2 to 40 letters and digits; longer runs are not
words (hashes, base64) and one-letter runs match too much to be worth indexing."""

from __future__ import annotations

import re
import string
import unicodedata

_TOKEN = re.compile(r"[0-9a-z]+")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# ASCII text (the common case) is split with str.translate, twice as fast as the regex.
_ASCII_SEPARATORS = str.maketrans({c: " " for c in map(chr, range(128))
                                   if c not in string.ascii_letters + string.digits})
MIN, MAX = 2, 40


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


def _words(text: str) -> list[str]:
    if text.isascii():
        return text.lower().translate(_ASCII_SEPARATORS).split()
    return _TOKEN.findall(fold(text))


def tokens(text: str) -> list[str]:
    """Words in order, with repeats (for shingles)."""
    return [w for w in _words(text) if MIN <= len(w) <= MAX]


def token_set(text: str) -> set[str]:
    """The distinct words of ``text`` (for the index)."""
    return {w for w in set(_words(text)) if MIN <= len(w) <= MAX}
