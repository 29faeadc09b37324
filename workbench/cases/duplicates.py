"""Likely duplicates: the same complaint sent again, or a letter copied to several units.

Each case gets a bottom-k sketch: the k smallest keyed hashes (BLAKE2b under a vault subkey) of
its normalised three-word shingles. Two sketches estimate the Jaccard similarity of the two
texts (Broder's bottom-k estimator), and cases sharing a few sketch values are the only
candidates worth comparing, which one indexed SQL query finds. The hashes are keyed so that the
stored sketches cannot be tested against guessed phrases without the vault key."""

from __future__ import annotations

import hashlib

from .text import tokens

K = 32
SHINGLE = 3
THRESHOLD = 0.5        # estimated Jaccard above which a case is flagged as a likely duplicate
MIN_SHARED = 3         # sketch values two cases must share to be compared at all


def _signed64(digest: bytes) -> int:
    # SQLite integers are signed 64-bit.
    return int.from_bytes(digest, "big", signed=True)


def sketch(text: str, key: bytes, k: int = K) -> list[int]:
    words = tokens(text)
    if len(words) < SHINGLE:
        shingles = {" ".join(words)} if words else set()
    else:
        shingles = {" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}
    hashes = {_signed64(hashlib.blake2b(s.encode(), key=key, digest_size=8).digest())
              for s in shingles}
    return sorted(hashes)[:k]


def similarity(a: list[int] | set[int], b: list[int] | set[int], k: int = K) -> float:
    """Estimated Jaccard similarity of the texts behind two bottom-k sketches."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    union = sorted(sa | sb)[:k]
    both = sum(1 for h in union if h in sa and h in sb)
    return both / len(union)
