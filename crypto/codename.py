"""Codenames: seven words from a 7,776-word list (7 x log2(7776) = 90.5 bits).

A codename is the reporter's only credential. It is generated from the operating system's CSPRNG,
shown once, and never stored, logged or put in a cookie anywhere. What the reporter types back is
normalised (case, Unicode form, extra or missing spaces) before any key is derived from it, because
a scared person on a slow connection will not retype it perfectly.

Word lists:
* ``en``: the EFF large word list (CC BY 3.0, Electronic Frontier Foundation), read from the
  ``diceware`` package that ships it.
* ``id``: Peluit's Indonesian list, built by ``crypto/wordlists/build_id.py`` (see its README).
A codename typed without spaces is cut back into words; both lists are meant to be prefix-free, so
the cut is unique, and ``normalise`` refuses (rather than guesses) if a list ever allows two.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import InvalidCodenameError

WORDS_PER_CODENAME = 7
LIST_SIZE = 7776
LANGUAGES = ("id", "en")
MAX_TYPED_LENGTH = 256  # a real codename is at most 7 x 10 letters + 6 spaces


@dataclass(frozen=True)
class WordList:
    language: str
    words: tuple[str, ...]

    @functools.cached_property
    def index(self) -> frozenset[str]:
        return frozenset(self.words)

    @functools.cached_property
    def length_range(self) -> tuple[int, int]:
        lengths = [len(w) for w in self.words]
        return min(lengths), max(lengths)


def _validate(language: str, words: list[str]) -> tuple[str, ...]:
    if len(words) != LIST_SIZE or len(set(words)) != LIST_SIZE:
        raise RuntimeError(f"word list {language!r} must hold {LIST_SIZE} distinct words")
    for word in words:
        # Words must survive normalise() unchanged, or a codename could never be typed back.
        if word != unicodedata.normalize("NFKC", word.casefold()) or not word.isprintable() \
                or any(c.isspace() or c in _SEPARATORS for c in word):
            raise RuntimeError(f"word list {language!r} holds a word normalise() would change")
    return tuple(words)


@functools.cache
def wordlist(language: str) -> WordList:
    """Load the word list for ``language`` ('id' or 'en')."""
    if language == "en":
        import diceware

        path = Path(diceware.__file__).parent / "wordlists" / "wordlist_en_eff.txt"
        lines = path.read_text(encoding="utf-8").splitlines()
        words = [line.split()[-1] for line in lines if line.strip()]
    elif language == "id":
        text = resources.files(__package__).joinpath("wordlists/id.txt").read_text("utf-8")
        words = [line.strip() for line in text.splitlines() if line.strip()]
    else:
        raise ValueError(f"no word list for language {language!r}")
    return WordList(language, _validate(language, words))


@dataclass(frozen=True)
class Codename:
    """A normalised codename. ``str(codename)`` is what keys are derived from."""

    words: tuple[str, ...]
    language: str

    def __str__(self) -> str:
        return " ".join(self.words)

    def __repr__(self) -> str:  # never print a codename by accident
        return f"Codename(language={self.language!r}, words=<{len(self.words)} hidden>)"


def generate(language: str = "id") -> Codename:
    """A fresh codename of seven words drawn with ``secrets`` (the OS CSPRNG)."""
    words = wordlist(language).words
    return Codename(tuple(secrets.choice(words) for _ in range(WORDS_PER_CODENAME)), language)


def entropy_bits() -> float:
    import math

    return WORDS_PER_CODENAME * math.log2(LIST_SIZE)


#: Separators people use when copying a codename, besides white space.
_SEPARATORS = ",._;:/\\|+·•"
#: Dashes that are not the ASCII hyphen-minus some English list words contain ("t-shirt").
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), "-")


# Readings of some letters: word count -> (how many readings, capped at 2; one example).
_Readings = dict[int, tuple[int, tuple[str, ...]]]


def _add(acc: _Readings, k: int, count: int, example: tuple[str, ...]) -> None:
    old_count, old_example = acc.get(k, (0, example))
    acc[k] = (min(2, old_count + count), old_example)


def _run_readings(run: str, wl: WordList) -> _Readings:
    """The ways to cut ``run`` into list words, by word count (dynamic programming over
    positions: linear in the length, so no input can make it slow). A prefix-free list allows at
    most one cut; counting to two is enough to notice when a list does not."""
    lo, hi = wl.length_range
    after: list[_Readings] = [{} for _ in range(len(run) + 1)]
    after[len(run)] = {0: (1, ())}
    for i in range(len(run) - 1, -1, -1):
        acc: _Readings = {}
        for end in range(i + lo, min(len(run), i + hi) + 1):
            word = run[i:end]
            if word in wl.index:
                for k, (count, rest) in after[end].items():
                    if k < WORDS_PER_CODENAME:
                        _add(acc, k + 1, count, (word, *rest))
        after[i] = acc
    return after[0]


def _codename_readings(runs: list[str], wl: WordList) -> tuple[int, tuple[str, ...]]:
    """How many 7-word readings ``runs`` has in one list (capped at 2), and one of them."""
    total: _Readings = {0: (1, ())}
    for run in runs:
        readings = _run_readings(run, wl)
        combined: _Readings = {}
        for k1, (c1, e1) in total.items():
            for k2, (c2, e2) in readings.items():
                if k1 + k2 <= WORDS_PER_CODENAME:
                    _add(combined, k1 + k2, c1 * c2, e1 + e2)
        total = combined
        if not total:
            break
    return total.get(WORDS_PER_CODENAME, (0, ()))


def normalise(typed: str) -> Codename:
    """Turn what a reporter typed into a Codename, or raise InvalidCodenameError.

    Accepts any letter case, full-width or composed characters (NFKC), any white space between
    words, punctuation used as a separator, and words run together without a space. If letters
    typed together could be read as two different codenames, it refuses rather than guess."""
    if not isinstance(typed, str) or len(typed) > MAX_TYPED_LENGTH:
        raise InvalidCodenameError("codename too long")
    text = unicodedata.normalize("NFKC", typed)
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_DASHES)
    for sep in _SEPARATORS:
        text = text.replace(sep, " ")
    runs = text.split()
    if not runs:
        raise InvalidCodenameError("empty codename")
    found: dict[tuple[str, ...], str] = {}
    ambiguous = False
    for language in LANGUAGES:
        try:
            wl = wordlist(language)
        except FileNotFoundError:  # a list not built yet in a development tree
            continue
        count, words = _codename_readings(runs, wl)
        ambiguous |= count > 1
        if count:
            found.setdefault(words, language)
    if len(found) == 1 and not ambiguous:
        words, language = found.popitem()
        return Codename(words, language)
    if found:
        raise InvalidCodenameError("ambiguous codename: please type it with spaces between words")
    raise InvalidCodenameError("not a codename of this channel")
