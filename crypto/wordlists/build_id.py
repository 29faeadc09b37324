"""Build Peluit's Indonesian codename word list, crypto/wordlists/id.txt.

This is a build-time tool, not part of the running server: its inputs are installed by hand (see
README.md in this directory for the exact commands) and the result is committed. The build is
deterministic: the same inputs give a byte-identical id.txt, and the script refuses to run on
inputs other than the ones recorded in ``EXPECTED_INPUTS`` unless told otherwise, so a rebuild
either reproduces the committed file or says plainly why it cannot.

Pipeline (each stage's count is printed):
 1. candidates: every word in wordfreq's Indonesian list, in wordfreq's frequency order;
 2. shape: ASCII lowercase a-z, 3 to 10 letters (10-letter words only after all shorter ones);
 3. dictionary: Debian's Indonesian Hunspell dictionary (hunspell-id) recognises the word as a
    root word or a regular derived form, which removes names, English, slang and typos;
 4. no clitics or particles (-ku, -mu, -nya, -lah, -kah, ku-, kau-): "rumahku" is a worse word
    than "rumah";
 5. Indonesian first: a word that wordfreq finds clearly more often in English than in Indonesian
    text ("real", "were") is an English word that the dictionary happens to list;
 6. easy to spell: no old-spelling or foreign letter groups, no long consonant clusters;
 7. exclusions: id_exclude.txt, applied to the word and to its Hunspell stem, so excluding a root
    also excludes its derived forms;
 8. greedy selection in frequency order: a word is kept unless a kept word is its prefix or it
    is a prefix of a kept word (the list must be prefix-free), or it sounds or looks like a kept
    word (same "confusion skeleton", see ``skeleton``);
 9. the first 7,776 kept words, sorted, one a line.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from peluit.ground.files import PUBLIC, write_atomic

LIST_SIZE = 7776
HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "id.txt"
EXCLUDE = HERE / "id_exclude.txt"
HUNSPELL_DIR = Path("/usr/share/hunspell")

# The inputs the committed id.txt was built from. A different version may rank words
# differently, so it is refused unless --allow-other-inputs is given (and then the README's
# sha256 must be updated with the new list).
EXPECTED_INPUTS = {
    "wordfreq (PyPI)": "3.1.1",
    "wordfreq data small_id.msgpack.gz sha256": (
        "6fd891027cd6395b5c038c0e6402fa7e107ffd8973f862053246b897beb1bcd3"
    ),
    "hunspell (Debian)": "1.7.1-1",
    "hunspell-id (Debian)": "1:7.5.0-1",
    "id_ID.dic sha256": "1a1ab6f423bec47fa30d485dfde92039177aa6f9a6b123badb695d634064cc5e",
    "id_ID.aff sha256": "9c2a9ae523d1478451d5bc558d5405a79873a02c0ecd382065a01d864ed862ca",
}

WORD_SHAPE = re.compile(r"[a-z]{3,10}")
# Ten-letter words only fill what the shorter ones leave: since the fourth exclusion pass (issue
# 13) too few words of 3 to 9 letters survive. They are selected after every shorter word, so
# the list keeps every short word it would otherwise have.
SHORT = 9
# Letter groups of the pre-1972 spelling or of unassimilated loans: hard to spell from memory.
HARD_GROUPS = ("oe", "dj", "tj", "sj", "ch", "th", "ph", "ck", "q", "x")
# How much more common (in Zipf units, log10 per billion words) a word may be in English than in
# Indonesian before we treat it as English.
ENGLISH_MARGIN = 0.5
CONSONANT_RUN = re.compile(r"[^aeiou]{3,}")
# Hunspell flags of the pronoun clitics in hunspell-id's affix file (o0: -ku/-mu/-nya,
# O0/O1: ku-/kau-).
CLITIC_FLAGS = frozenset({"o0", "O0", "O1"})
CLITIC_ENDINGS = ("ku", "mu", "nya", "lah", "kah", "tah", "pun")


@dataclass
class Analysis:
    """What Hunspell says about one word: its stems and the affix flags used for each."""

    word: str
    readings: list[tuple[str, frozenset[str]]] = field(default_factory=list)

    @property
    def known(self) -> bool:
        return bool(self.readings)

    @property
    def stems(self) -> set[str]:
        return {stem for stem, _ in self.readings}

    @property
    def has_clitic(self) -> bool:
        """Some reading of the word carries a clitic or particle: a pronoun flag, or an ending
        such as -nya, -ku, -lah after its stem ("kaitannya", "bawalah"). Many of hunspell-id's
        suffix flags fold the clitics in, so the ending after the stem is checked as well. A
        root that merely ends in those letters ("buku", "bertemu", "sekolah") is kept."""
        for stem, flags in self.readings:
            if flags & CLITIC_FLAGS:
                return True
            at = self.word.rfind(stem)
            if at >= 0 and self.word[at + len(stem) :].endswith(CLITIC_ENDINGS):
                return True
        return False


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_versions() -> dict[str, str]:
    from importlib import metadata

    import wordfreq

    def deb_version(package: str) -> str:
        result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            ["/usr/bin/dpkg-query", "-W", "-f", "${Version}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.strip() or "not installed"

    data = Path(wordfreq.__file__).parent / "data" / "small_id.msgpack.gz"
    return {
        "wordfreq (PyPI)": metadata.version("wordfreq"),
        "wordfreq data small_id.msgpack.gz sha256": sha256_file(data),
        "hunspell (Debian)": deb_version("hunspell"),
        "hunspell-id (Debian)": deb_version("hunspell-id"),
        "id_ID.dic sha256": sha256_file(HUNSPELL_DIR / "id_ID.dic"),
        "id_ID.aff sha256": sha256_file(HUNSPELL_DIR / "id_ID.aff"),
    }


def read_exclusions(path: Path = EXCLUDE) -> tuple[frozenset[str], tuple[str, ...]]:
    """Return (whole words, parts) from an exclusion file (format described in the file)."""
    words: set[str] = set()
    parts: set[str] = set()
    for line in path.read_text("utf-8").splitlines():
        for entry in line.split("#", 1)[0].split():
            if entry.startswith("*") and entry.endswith("*") and len(entry) > 2:
                parts.add(entry[1:-1])
            else:
                words.add(entry)
    return frozenset(words), tuple(sorted(parts))


def is_excluded(
    word: str, stems: Iterable[str], words: frozenset[str], parts: Iterable[str]
) -> bool:
    if word in words or any(stem in words for stem in stems):
        return True
    return any(part in word for part in parts)


def candidates() -> list[str]:
    """wordfreq's Indonesian words, most frequent first. wordfreq stores frequencies in buckets
    and lists a bucket's words in a fixed order, so this order is deterministic."""
    import wordfreq

    return list(wordfreq.iter_wordlist("id", wordlist="small"))


def analyse(words: list[str]) -> dict[str, Analysis]:
    """Run Hunspell's morphological analysis (hunspell -m) over ``words`` in one process."""
    result = subprocess.run(  # noqa: S603 - fixed argument list, no shell
        ["/usr/bin/hunspell", "-d", str(HUNSPELL_DIR / "id_ID"), "-m", "-i", "utf-8"],
        input="".join(word + "\n" for word in words),
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"},
    )
    out: dict[str, Analysis] = {}
    for block in result.stdout.strip("\n").split("\n\n"):
        lines = block.split("\n")
        word = lines[0].split()[0]
        analysis = out.setdefault(word, Analysis(word))
        for line in lines:
            tokens = line.split()
            stems = [t[3:] for t in tokens if t.startswith("st:")]
            flags = frozenset(t[3:] for t in tokens if t.startswith("fl:"))
            if stems:
                analysis.readings.append((stems[0], flags))
    missing = set(words) - out.keys()
    if missing:
        raise RuntimeError(f"hunspell gave no answer for {len(missing)} words")
    return out


def indonesian_first(words: list[str]) -> set[str]:
    import wordfreq

    return {
        w
        for w in words
        if wordfreq.zipf_frequency(w, "en") < wordfreq.zipf_frequency(w, "id") + ENGLISH_MARGIN
    }


def easy_to_spell(word: str) -> bool:
    if any(group in word for group in HARD_GROUPS):
        return False
    # ng, ny, kh and sy are one sound each; three or more consonant sounds in a row are not.
    collapsed = re.sub("ng|ny|kh|sy", "N", word)
    return not CONSONANT_RUN.search(collapsed)


def skeleton(word: str) -> str:
    """A key shared by words that are easily confused when heard, read or typed. Two words with
    the same skeleton are never both kept. The classes are those Indonesian spelling itself
    wavers between (f/p/v: fikir/pikir, z/j: zaman/jaman, o/u: lobang/lubang, kh/k, sy/s),
    a silent h (mudah/muda, lihat/liat), doubled letters (saat/sat), and letter shapes that
    run together on a screen (rn/m)."""
    s = word.replace("rn", "m").replace("kh", "k").replace("sy", "s")
    s = s.translate(str.maketrans({"f": "p", "v": "p", "z": "j", "q": "k", "o": "u"}))
    s = re.sub(r"h(?=[aeiou]|$)", "", s)
    s = re.sub(r"(.)\1+", r"\1", s)
    return s


def prefixes(word: str) -> Iterator[str]:
    for end in range(3, len(word)):
        yield word[:end]


@dataclass
class Report:
    stages: list[tuple[str, int]] = field(default_factory=list)

    def stage(self, name: str, items: list[str]) -> list[str]:
        self.stages.append((name, len(items)))
        return items


def select(
    ranked: list[str],
    analyses: dict[str, Analysis],
    excluded_words: frozenset[str],
    excluded_parts: Iterable[str],
    report: Report,
) -> list[str]:
    words = report.stage("wordfreq candidates", ranked)
    words = report.stage("shape a-z, 3-10 letters", [w for w in words if WORD_SHAPE.fullmatch(w)])
    words = report.stage("known to hunspell-id", [w for w in words if analyses[w].known])
    words = report.stage("no clitic or particle", [w for w in words if not analyses[w].has_clitic])
    indonesian = indonesian_first(words)
    words = report.stage("Indonesian first", [w for w in words if w in indonesian])
    words = report.stage("easy to spell", [w for w in words if easy_to_spell(w)])
    words = report.stage(
        "not excluded",
        [w for w in words if not is_excluded(w, analyses[w].stems, excluded_words, excluded_parts)],
    )
    # Frequency order, all words of up to SHORT letters before any longer one (sort is stable).
    words = sorted(words, key=lambda w: len(w) > SHORT)
    kept: list[str] = []
    kept_set: set[str] = set()
    kept_prefixes: set[str] = set()
    kept_skeletons: set[str] = set()
    for word in words:
        if word in kept_prefixes or any(p in kept_set for p in prefixes(word)):
            continue
        key = skeleton(word)
        if key in kept_skeletons:
            continue
        kept.append(word)
        kept_set.add(word)
        kept_prefixes.update(prefixes(word))
        kept_skeletons.add(key)
    report.stage("prefix-free, no confusable pair", kept)
    if len(kept) < LIST_SIZE:
        raise RuntimeError(f"only {len(kept)} words survive the filters; {LIST_SIZE} are needed")
    return report.stage("final list", sorted(kept[:LIST_SIZE]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="build in memory and compare with --output"
    )
    parser.add_argument("--allow-other-inputs", action="store_true")
    args = parser.parse_args(argv)

    versions = input_versions()
    for name, value in versions.items():
        print(f"input  {name}: {value}")
    unexpected = [k for k, v in versions.items() if EXPECTED_INPUTS.get(k) != v]
    if unexpected and not args.allow_other_inputs:
        print(
            f"error: inputs differ from the recorded ones: {', '.join(unexpected)}", file=sys.stderr
        )
        return 2

    ranked = candidates()
    shaped = [w for w in ranked if WORD_SHAPE.fullmatch(w)]
    analyses = analyse(shaped)
    excluded_words, excluded_parts = read_exclusions()
    report = Report()
    words = select(ranked, analyses, excluded_words, excluded_parts, report)
    for name, count in report.stages:
        print(f"stage  {name}: {count}")
    text = "".join(word + "\n" for word in words)
    digest = hashlib.sha256(text.encode()).hexdigest()
    print(f"sha256 {digest}")
    if args.check:
        same = args.output.exists() and args.output.read_text("utf-8") == text
        print("check: identical" if same else "check: DIFFERENT", file=sys.stderr)
        return 0 if same else 1
    write_atomic(args.output, text.encode("utf-8"), mode=PUBLIC)  # shipped in the source tree
    print(f"wrote  {args.output} ({len(words)} words)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
