"""Full-text search over decrypted case text, held in memory only.

The vault keeps every complaint encrypted at rest, so a search index on disk would be a second
copy of the content (even a keyed-hash token index leaks which cases share words, and word
frequencies). This index is built from the decrypted text when the vault is unlocked, lives in
the workbench process, and is dropped when it locks; nothing of it is written anywhere.

Postings are sorted ``array('I')`` of case ids, four bytes per posting, so 100,000 cases of a
few hundred words take tens of megabytes. A query is the AND of its words; the last word also
matches as a prefix when it is not a word of the index itself, or when the query ends in ``*``
(typing "korup" finds "korupsi"; "dana" finds "dana", "dana*" also "danai"). Intersections run in C
(``set.intersection``) starting from the rarest word."""

from __future__ import annotations

import bisect
import gc
import threading
from array import array
from collections.abc import Iterable

from .text import token_set, tokens

MAX_PREFIX_EXPANSION = 64
MAX_QUERY_WORDS = 12


class SearchIndex:
    def __init__(self) -> None:
        self._postings: dict[str, array] = {}
        self._vocab: list[str] | None = []  # sorted, rebuilt lazily after new words
        self._lock = threading.Lock()
        self.documents = 0  # counted by add_many (unlock); informational only

    def add(self, case_id: int, text: str) -> None:
        """Index ``text`` under ``case_id`` (adding to what the case already has)."""
        with self._lock:
            self._add(case_id, token_set(text))

    def add_many(self, docs: Iterable[tuple[int, str]]) -> None:
        """Bulk load at unlock. Ids must come in ascending order and above every id already
        indexed, so that appending keeps each posting sorted."""
        with self._lock, _no_gc():
            fresh: dict[str, list[int]] = {}
            for case_id, text in docs:
                for t in token_set(text):
                    p = fresh.get(t)
                    if p is None:
                        fresh[t] = [case_id]
                    else:
                        p.append(case_id)
                self.documents += 1
            postings = self._postings
            for t, ids in fresh.items():
                p = postings.get(t)
                if p is None:
                    postings[t] = array("I", ids)
                elif p[-1] < ids[0]:
                    p.extend(ids)
                else:
                    for case_id in ids:
                        self._insert(p, case_id)
            self._vocab = None

    def _add(self, case_id: int, words: set[str]) -> None:
        for t in words:
            p = self._postings.get(t)
            if p is None:
                self._postings[t] = array("I", (case_id,))
                self._vocab = None
            else:
                self._insert(p, case_id)

    @staticmethod
    def _insert(p: array, case_id: int) -> None:
        i = bisect.bisect_left(p, case_id)
        if i == len(p) or p[i] != case_id:
            p.insert(i, case_id)

    def remove(self, case_id: int) -> int:
        """Take a case out of every posting (case disposal); returns the postings it left. Walks
        the whole vocabulary: disposal is rare, and a case's words are no longer known then."""
        removed = 0
        with self._lock:
            for t in list(self._postings):
                p = self._postings[t]
                i = bisect.bisect_left(p, case_id)
                if i < len(p) and p[i] == case_id:
                    p.pop(i)
                    removed += 1
                    if not p:
                        del self._postings[t]
                        self._vocab = None
        return removed

    def replace(self, case_id: int, old_text: str, new_text: str) -> None:
        """Re-index a case whose text changed from ``old_text`` to ``new_text``."""
        old, new = token_set(old_text), token_set(new_text)
        with self._lock:
            for t in old - new:
                p = self._postings.get(t)
                if p is None:
                    continue
                i = bisect.bisect_left(p, case_id)
                if i < len(p) and p[i] == case_id:
                    p.pop(i)
                if not p:
                    del self._postings[t]
                    self._vocab = None
            self._add(case_id, new - old)

    @property
    def empty(self) -> bool:
        return not self._postings

    def clear(self) -> None:
        with self._lock:
            self._postings.clear()
            self._vocab = []
            self.documents = 0

    def _expand(self, prefix: str) -> list[str]:
        vocab = self._vocab
        if vocab is None:
            vocab = self._vocab = sorted(self._postings)
        i = bisect.bisect_left(vocab, prefix)
        out = []
        while i < len(vocab) and vocab[i].startswith(prefix) and len(out) < MAX_PREFIX_EXPANSION:
            out.append(vocab[i])
            i += 1
        return out

    def search(self, query: str) -> set[int] | None:
        """Ids of the cases holding every word of ``query``; None when the query has no words
        (the caller then lists without a text condition)."""
        words = list(dict.fromkeys(tokens(query)))[:MAX_QUERY_WORDS]
        if not words:
            return None
        with self._lock:
            groups: list[list[array]] = []
            prefix = query.rstrip().endswith("*")
            for i, w in enumerate(words):
                if i == len(words) - 1 and (prefix or w not in self._postings):
                    matched = [self._postings[t] for t in self._expand(w)]
                else:
                    p = self._postings.get(w)
                    matched = [p] if p is not None else []
                if not matched:
                    return set()
                groups.append(matched)
            groups.sort(key=lambda g: sum(len(p) for p in g))
            result: set[int] = set()
            for p in groups[0]:
                result.update(p)
            for g in groups[1:]:
                if not result:
                    break
                if len(g) == 1:
                    result.intersection_update(g[0])
                else:
                    union: set[int] = set()
                    for p in g:
                        union.update(p)
                    result &= union
            return result


class _no_gc:  # noqa: N801 - used as a context manager, reads like one
    """Millions of small allocations and no cycles: the cyclic collector only costs time
    (about a fifth of a 100,000-case build). Reference counting still frees everything."""

    def __enter__(self) -> None:
        self.was = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was:
            gc.enable()
