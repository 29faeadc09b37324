import itertools
import math
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import crypto
from crypto import codename
from crypto.errors import InvalidCodenameError

# Real encryption per example: few enough examples for the suite's time budget, and never a
# failure on timing (the machines are shared and noisy). Applied per test, not as a global
# profile, so other parts' hypothesis settings stay theirs.
CRYPTO = settings(deadline=None, max_examples=40,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ID_LIST = Path(crypto.__file__).parent / "wordlists" / "id.txt"
# The Indonesian list is built by another part of the project; until the file exists its tests
# skip, and once it exists they run (the condition is the file, nothing else).
needs_id = pytest.mark.skipif(not ID_LIST.exists(), reason="crypto/wordlists/id.txt not built yet")
LANGS = ["en", pytest.param("id", marks=needs_id)]


@pytest.mark.parametrize("language", LANGS)
def test_list_shape(language):
    wl = codename.wordlist(language)
    assert len(wl.words) == 7776 == len(set(wl.words))
    lo, hi = wl.length_range
    assert lo >= 3 and hi <= 10  # id: ten-letter words fill what shorter ones left
    for w in wl.words:
        assert w == unicodedata.normalize("NFKC", w.casefold())
    # prefix-free: typed without spaces, a codename splits back in exactly one way
    words = sorted(wl.words)
    assert not any(b.startswith(a) for a, b in itertools.pairwise(words))


@needs_id
def test_indonesian_list_is_ascii_lowercase_letters():
    for w in codename.wordlist("id").words:
        assert w.isascii() and w.isalpha() and w.islower() and 3 <= len(w) <= 10


@pytest.mark.parametrize("language", LANGS)
def test_generate(language):
    a, b = codename.generate(language), codename.generate(language)
    assert len(a.words) == 7 and a.language == language
    assert set(a.words) <= codename.wordlist(language).index
    assert a != b   # 2**-90 chance of a false failure
    assert codename.normalise(str(a)) == a
    assert str(a) not in repr(a) and a.words[0] not in repr(a)


def test_entropy():
    assert codename.entropy_bits() >= 90
    assert math.isclose(codename.entropy_bits(), 7 * math.log2(7776))


def _fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


def _variants(cn):
    s = str(cn)
    return [
        s, s.upper(), s.title(), "  " + s.replace(" ", "   ") + "\n", s.replace(" ", "\t"),
        s.replace(" ", ""), s.replace(" ", "-" if "-" not in s else " "), s.replace(" ", ", "),
        s.replace(" ", "."), _fullwidth(s), " ".join(w.upper() for w in cn.words),
        # some spaces missing, some doubled
        "".join(w + ("" if i % 2 else "  ") for i, w in enumerate(cn.words)),
    ]


@pytest.mark.parametrize("language", LANGS)
def test_normalise_accepts_what_people_type(language):
    cn = codename.generate(language)
    for typed in _variants(cn):
        if "-" in typed and "-" not in str(cn):
            continue  # the hyphen is not a separator: English words contain it
        assert codename.normalise(typed) == cn, typed


@CRYPTO
@given(st.data())
def test_normalise_property_en(data):
    words = tuple(data.draw(st.sampled_from(codename.wordlist("en").words)) for _ in range(7))
    cn = codename.Codename(words, "en")
    seps = data.draw(st.lists(st.sampled_from(["", " ", "  ", "\t", ",", ". ", "\u3000"]),
                              min_size=6, max_size=6))
    typed = words[0] + "".join(s + w for s, w in zip(seps, words[1:], strict=True))
    if data.draw(st.booleans()):
        typed = typed.upper()
    assert codename.normalise(typed) == cn


def test_nfkc_and_composed_forms():
    cn = codename.Codename(("abacus",) * 7, "en")
    # full-width letters and a non-breaking space normalise away
    assert codename.normalise("ＡＢＡＣＵＳ\u00a0" + " abacus" * 6) == cn


@pytest.mark.parametrize("typed", [
    "", "   ", "abacus " * 6, "abacus " * 8, "abacus " * 6 + "notaword", "x" * 300,
    "abacus " * 6 + "abacu", "abacus" * 6 + "abacusa", "\x00" * 10, "a.b.c.d.e.f.g",
])
def test_normalise_refuses(typed):
    with pytest.raises(InvalidCodenameError):
        codename.normalise(typed)


def test_normalise_refuses_non_string():
    with pytest.raises(InvalidCodenameError):
        codename.normalise(None)  # type: ignore[arg-type]


def _toy_list(words):
    wl = codename.WordList("toy", tuple(words))
    return wl


def test_ambiguous_run_is_counted():
    # "ab"+"cab" and "abc"+"ab" read the same letters: a list that is not prefix-free
    wl = _toy_list(["ab", "abc", "cab", "xy"])
    count, _ = codename._codename_readings(["abcab", "xy", "xy", "xy", "xy", "xy"], wl)
    assert count == 2
    count, words = codename._codename_readings(["ab", "cab", "xy", "xy", "xy", "xy", "xy"], wl)
    assert count == 1 and words == ("ab", "cab", "xy", "xy", "xy", "xy", "xy")


def test_segmentation_is_linear_on_hostile_input():
    wl = _toy_list(["aa", "aaa", "aaaa"])
    count, _ = codename._codename_readings(["a" * 21], wl)
    assert count == 2   # many readings, counted only up to two


def test_ambiguity_is_refused_by_normalise(monkeypatch):
    wl = _toy_list(["ab", "abc", "cab", "xy"])
    monkeypatch.setattr(codename, "wordlist", lambda language: wl)
    with pytest.raises(InvalidCodenameError, match="ambiguous"):
        codename.normalise("abcab xy xy xy xy xy")
    assert codename.normalise("ab cab xy xy xy xy xy").words[:2] == ("ab", "cab")


def test_list_validation():
    with pytest.raises(RuntimeError):
        codename._validate("x", ["a"] * 7776)
    with pytest.raises(RuntimeError):
        codename._validate("x", [f"W{i}" for i in range(7776)])
