"""The committed Indonesian codename list: its shape, its safety filters, its documented hash, and
that crypto.codename loads it and reads back what a reporter types."""

import hashlib
import itertools
import re
from pathlib import Path

import pytest

from crypto import codename
from crypto.errors import InvalidCodenameError
from crypto.wordlists import build_id

HERE = Path(build_id.__file__).parent
ID_TXT = HERE / "id.txt"
README = HERE / "README.md"


@pytest.fixture(scope="module")
def raw() -> bytes:
    return ID_TXT.read_bytes()


@pytest.fixture(scope="module")
def words(raw: bytes) -> list[str]:
    return raw.decode("ascii").splitlines()


def test_exactly_7776_distinct_words_one_a_line(raw: bytes, words: list[str]):
    assert raw.endswith(b"\n") and b"\r" not in raw and b"\n\n" not in raw
    assert len(words) == 7776
    assert len(set(words)) == 7776
    assert words == sorted(words)


def test_every_word_is_3_to_10_lowercase_ascii_letters(words: list[str]):
    bad = [w for w in words if not re.fullmatch(r"[a-z]{3,10}", w)]
    assert bad == []
    # Ten-letter words only fill what shorter ones left (build_id.SHORT): a few percent.
    assert sum(len(w) == 10 for w in words) < 200


# Words found in the list by the review of issue 13: they would incriminate a reporter whose
# paper is found (what a report is about, what follows it) or mildly insult. They and their
# derived forms must stay out.
INCRIMINATING = ("mengadu", "menuduh", "penyidik", "pidana", "curang", "dipecat", "ancaman",
                 "diancam", "tipu", "wewenang", "amplop", "dihukum", "ditangkap", "diperiksa",
                 "kasus", "skandal", "pejabat", "kekuasaan", "pungutan", "bersalah")
INSULTING = ("buncit", "gombal", "botak", "gemuk", "ompong", "licik", "serakah", "bohong")


def test_incriminating_and_insulting_words_are_gone(words: list[str]):
    present = set(words)
    assert [w for w in INCRIMINATING + INSULTING if w in present] == []
    excluded, _ = build_id.read_exclusions()
    # Recorded in the exclusion file (the build applies it; the README gives the reasons).
    assert {"adu", "tuduh", "sidik", "pidana", "curang", "pecat", "ancam", "tipu", "wenang",
            "buncit", "gombal"} <= excluded


def test_prefix_free(words: list[str]):
    # In sorted order, a word that is a prefix of any later word is a prefix of the next one.
    offenders = [(a, b) for a, b in itertools.pairwise(words) if b.startswith(a)]
    assert offenders == []


def test_no_two_words_share_a_confusion_skeleton(words: list[str]):
    skeletons = [build_id.skeleton(w) for w in words]
    assert len(set(skeletons)) == len(words)


def test_skeleton_merges_the_confusions_it_claims_to():
    pairs = [("mudah", "muda"), ("fikir", "pikir"), ("zaman", "jaman"), ("lobang", "lubang"),
             ("saat", "sat"), ("modern", "modem"), ("khabar", "kabar")]
    for a, b in pairs:
        assert build_id.skeleton(a) == build_id.skeleton(b), (a, b)
    assert build_id.skeleton("rumah") != build_id.skeleton("ramah")


def test_exclusion_file_is_read_and_honoured(words: list[str]):
    excluded, parts = build_id.read_exclusions()
    # The parser must actually see the entries, or the check below could never fail.
    assert {"anjing", "kontol", "babi", "lapor", "yang", "fuck"} <= excluded
    assert "penis" in parts and "ngentot" in parts
    assert all(re.fullmatch(r"[a-z]+", e) for e in excluded | set(parts))
    present = sorted(set(words) & excluded)
    assert present == []
    containing = sorted(w for w in words if any(p in w for p in parts))
    assert containing == []


def test_sha256_matches_the_readme(raw: bytes):
    documented = re.search(r"sha256\(id\.txt\) = ([0-9a-f]{64})", README.read_text("utf-8"))
    assert documented, "README.md must state sha256(id.txt)"
    assert hashlib.sha256(raw).hexdigest() == documented.group(1)


def test_codename_module_loads_the_committed_list(words: list[str]):
    loaded = codename.wordlist("id")
    assert loaded.language == "id"
    assert list(loaded.words) == words


def _sample_codenames(words: list[str], count: int) -> list[tuple[str, ...]]:
    """Deterministic spread of codenames over the whole list (two large primes as strides)."""
    n = len(words)
    return [tuple(words[(i * 7919 + j * 104729) % n] for j in range(7)) for i in range(count)]


def test_normalise_round_trips_odd_typing(words: list[str]):
    longest = tuple(sorted(words, key=len)[-7:])
    for chosen in [*_sample_codenames(words, 40), longest]:
        expected = codename.Codename(chosen, "id")
        spaced = " ".join(chosen)
        typed_variants = [
            spaced,
            spaced.upper(),
            "  " + "   ".join(w.capitalize() for w in chosen) + " \t\n",
            "".join(chosen),  # no spaces at all
            "".join(w.swapcase() if i % 2 else w for i, w in enumerate(chosen)).upper(),
            " ".join(["".join(chosen[:3]), chosen[3], "".join(chosen[4:])]),
        ]
        for typed in typed_variants:
            assert codename.normalise(typed) == expected, typed


def test_every_word_survives_being_typed_without_spaces(words: list[str]):
    # Run the whole list through the no-space splitter, seven words at a time.
    padded = words + words[: (-len(words)) % 7]
    for start in range(0, len(padded), 7):
        chosen = tuple(padded[start : start + 7])
        assert codename.normalise("".join(chosen)).words == chosen


def test_generated_indonesian_codename_round_trips():
    generated = codename.generate("id")
    assert generated.language == "id" and len(generated.words) == 7
    assert codename.normalise(str(generated).upper().replace(" ", "")) == generated


def test_a_mistyped_word_is_refused(words: list[str]):
    chosen = list(_sample_codenames(words, 1)[0])
    chosen[2] = chosen[2] + "q"  # no list word contains q
    with pytest.raises(InvalidCodenameError):
        codename.normalise(" ".join(chosen))
    with pytest.raises(InvalidCodenameError):
        codename.normalise(" ".join(_sample_codenames(words, 1)[0][:6]))  # one word short


def test_no_possessive_or_particle_forms(words: list[str]):
    # build_id drops "-nya", "-ku", "-lah" forms; the few left end so as part of the root.
    roots_ending_in_nya = ("tanya", "penanya", "punya", "nyonya")
    odd = [w for w in words if w.endswith("nya") and not any(r in w for r in roots_ending_in_nya)]
    assert odd == []
    assert not {"rumahku", "akhirnya", "bawalah", "bantulah"} & set(words)
