"""Codenames: seven words from a 7,776-word list (7 x log2(7776) = 90.5 bits).

A codename is the reporter's only credential. It is generated from the operating system's CSPRNG,
shown once, and never stored, logged or put in a cookie anywhere. What the reporter types back is
normalised (case, Unicode form, extra or missing spaces) before any key is derived from it, because
a scared person on a slow connection will not retype it perfectly.

Word lists:
* ``en``: the EFF large word list (CC BY 3.0, Electronic Frontier Foundation), read from the
  ``diceware`` package that ships it.
* ``id``: Peluit's Indonesian list, built by ``crypto/wordlists/build_id.py`` (see its README).
Both lists are prefix-free, so a codename typed without spaces splits back into words in exactly
one way.
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
MAX_TYPED_LENGTH = 256  # a real codename is at most 7 x 9 letters + 6 spaces


@dataclass(frozen=True)
class WordList:
    language: str
    words: tuple[str, ...]

    @functools.cached_property
    def index(self) -> frozenset[str]:
        return frozenset(self.words)


def _validate(language: str, words: list[str]) -> tuple[str, ...]:
    if len(words) != LIST_SIZE or len(set(words)) != LIST_SIZE:
        raise RuntimeError(f"word list {language!r} must hold {LIST_SIZE} distinct words")
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


def _split_run(run: str, index: frozenset[str]) -> list[str] | None:
    """Split letters typed without spaces into list words. The lists are prefix-free, so at most
    one word can start at each position; we still search every split to be safe."""
    out: list[str] = []
    pos = 0
    while pos < len(run):
        for end in range(pos + 3, min(len(run), pos + 9) + 1):
            if run[pos:end] in index:
                out.append(run[pos:end])
                pos = end
                break
        else:
            return None
    return out


def normalise(typed: str) -> Codename:
    """Turn what a reporter typed into a Codename, or raise InvalidCodenameError.

    Accepts any letter case, full-width or composed characters (NFKC), any white space between
    words, punctuation used as a separator, and words run together without a space."""
    if not isinstance(typed, str) or len(typed) > MAX_TYPED_LENGTH:
        raise InvalidCodenameError("codename too long")
    text = unicodedata.normalize("NFKC", typed).casefold()
    # Separators people use when copying a codename: spaces, commas, dots, underscores.
    for sep in ",._;:/\\|\t\r\n":
        text = text.replace(sep, " ")
    runs = text.split()
    if not runs:
        raise InvalidCodenameError("empty codename")
    for language in LANGUAGES:
        try:
            index = wordlist(language).index
        except FileNotFoundError:  # a list not built yet in a development tree
            continue
        words: list[str] = []
        for run in runs:
            if run in index:
                words.append(run)
                continue
            split = _split_run(run, index)
            if split is None:
                break
            words.extend(split)
        else:
            if len(words) == WORDS_PER_CODENAME:
                return Codename(tuple(words), language)
    raise InvalidCodenameError("not a codename of this channel")
