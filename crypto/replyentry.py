"""Reply entries: what the workbench sends a reporter, in a shape that hides who sent it.

A reply bundle carries exactly one entry for every report its vault covers (workbench/cover.py:
every report seen in an imported inbox bundle, its own group's and the other group's alike,
whose reporter wrote within ``COVER_DAYS`` of the newest submission imported), all sealed to the
reporter's key and all of the same length. An entry holds the questions and messages written to
that report since the last bundle and its newest status, or nothing at all (a filler). So the
server sees every group write to every report in every bundle, and cannot tell which group works
on a report about the inspectorate (issue: conflicts of interest) from what comes back, nor read
a status.

An entry is ``MAGIC | version | the reporter's box key id | SealedBox(report id | entry id |
body)`` (``seal``), the body canonical JSON::

    {"items": [{"id": ..., "kind": "question"|"message", "text": ..., "n": int,
                ["attestation": ...], ["escrow": {...}]}, ...],
     ["status": {"status": ..., "n": int}], "pad": "000..."}

``items`` is empty in a filler or a status-only entry; an item's ``id`` is the workbench's id
of the question (an answer names it). ``pad`` brings every body of a bundle to
the same length (a power of two from 1 KiB, the longest one's bucket), so the entries are the
same size. ``n`` orders: questions and messages of one day in the order written, statuses so
that the reporter app shows the newest."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .encoding import canonical_json
from .keys import box_key_id

KIND = "entry"  # the only reply kind the server stores: the real kind is inside
ITEM_KINDS = ("question", "message")
# The coarse statuses a reporter may see; a closed case says how it ended
# (finished here, forwarded, handled with another report, archived, not followed up), never
# what was found.
STATUSES = ("received", "verification", "forwarded", "investigation", "finished", "duplicate",
            "archived", "not_processed")
MAGIC = b"PELUIT-R"
FORMAT_VERSION = 1
HEAD = len(MAGIC) + 1 + 16  # magic, version, the reporter's box key id
_IDS = struct.Struct("16s16s")  # report id, entry id (sealed)
OVERHEAD = HEAD + 48 + _IDS.size  # a sealed box adds an ephemeral key (32) and a MAC (16)
MIN_BODY = 1024
#: A report whose reporter has not written for this long (counted back from the newest
#: submission imported) drops out of the cover (a reply to it waits on the workbench until the
#: reporter writes again): the cost of cover is one entry per
#: covered report per bundle per group, so it must end somewhere. Both groups run the same code,
#: so they cover the same reports.
COVER_DAYS = 400
#: The longest body: a question of 100,000 characters (workbench/outbox.py) fits, escaped.
MAX_BODY = 1024 * 1024
#: What the workbench packs into one entry: questions and messages past it wait for the next
#: bundle (one of 100,000 characters always goes, alone).
PACK_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Entry:
    """An opened entry: its questions and messages (each a dict with ``id``, ``kind``,
    ``text``, ``n``, maybe ``attestation`` and ``escrow``) and its status, if any."""

    items: tuple[dict[str, Any], ...]
    status: str | None
    status_n: int
    length: int  # of the sealed body: a rewrite keeps it

    @property
    def filler(self) -> bool:
        return not self.items and self.status is None


def body(items: Sequence[dict[str, Any]], status: tuple[str, int] | None) -> dict[str, Any]:
    """The unpadded body: ``items`` (questions and messages, in order) and ``status`` (status,
    order)."""
    for item in items:
        if item.get("kind") not in ITEM_KINDS or not isinstance(item.get("id"), str):
            raise ValueError("an entry's item is a question or a message with an id")
    out: dict[str, Any] = {"items": [dict(i) for i in items]}
    if status is not None:
        out["status"] = {"status": status[0], "n": status[1]}
    return out


def padded(value: dict[str, Any], length: int) -> bytes:
    """``value`` as canonical JSON of exactly ``length`` bytes (a ``pad`` of zeros added)."""
    if "pad" in value:
        raise ValueError("pad is set here")
    bare = canonical_json({**value, "pad": ""})
    if len(bare) > length:
        raise ValueError("body longer than the length asked")
    out = canonical_json({**value, "pad": "0" * (length - len(bare))})
    assert len(out) == length
    return out


def uniform(values: Sequence[dict[str, Any]]) -> list[bytes]:
    """Every body padded to one length: the bucket of the longest."""
    length = bucket(max((len(canonical_json({**v, "pad": ""})) for v in values), default=0))
    if length > MAX_BODY:
        raise ValueError("an entry is longer than a reporter's browser session opens")
    return [padded(v, length) for v in values]


def seal(data: bytes, reporter_key: PublicKey, report_id: str, entry_id: str) -> bytes:
    """``MAGIC | version | the reporter's box key id | SealedBox(ids + body)``.

    Not an envelope (crypto/envelope.py): its 64 KiB chunks would make every entry of every
    covered report 64 KiB on the server and in the reporter's page. A sealed box of the padded
    body is a few hundred bytes over it. The reporter's key id is in the clear so the gateway can
    check each entry is sealed to its report's reporter; the report and entry ids are sealed in
    so an entry moved to another row does not open there."""
    plain = _IDS.pack(bytes.fromhex(report_id), bytes.fromhex(entry_id)) + data
    return (MAGIC + bytes([FORMAT_VERSION]) + box_key_id(reporter_key)
            + SealedBox(reporter_key).encrypt(plain))


def check(head: bytes, size: int, reporter_key: bytes) -> bool:
    """What the server can check of an entry from its first ``HEAD`` bytes and its size: the
    format, the reporter's key id, and a size an entry can have."""
    return (MIN_BODY <= size - OVERHEAD <= MAX_BODY
            and head[:len(MAGIC)] == MAGIC and head[len(MAGIC)] == FORMAT_VERSION
            and head[len(MAGIC) + 1:HEAD] == box_key_id(reporter_key))


def bucket(length: int) -> int:
    """The length every body of a bundle is padded to: a power of two from 1 KiB, so the size
    of the longest tells only its order of magnitude."""
    out = MIN_BODY
    while out < length:
        out *= 2
    return out


def open_entry(data: bytes, key: PrivateKey, report_id: str, entry_id: str) -> Entry | None:
    """Open an entry of ``report_id`` stored as ``entry_id``; None if it does not open with
    ``key``, belongs elsewhere (a swapped entry) or is not an entry's body."""
    import json

    if len(data) < OVERHEAD or len(data) - OVERHEAD > MAX_BODY or data[:len(MAGIC)] != MAGIC \
            or data[len(MAGIC)] != FORMAT_VERSION:
        return None
    try:
        plain = SealedBox(key).decrypt(data[HEAD:])
        rid, eid = _IDS.unpack_from(plain)
        if rid.hex() != report_id or eid.hex() != entry_id:
            return None
        raw = plain[_IDS.size:]
        value = json.loads(raw.decode("utf-8"))
    except (CryptoError, ValueError, UnicodeDecodeError, struct.error):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return None
    items = tuple(i for i in value["items"] if isinstance(i, dict)
                  and i.get("kind") in ITEM_KINDS and isinstance(i.get("id"), str))
    status, n = None, 0
    part = value.get("status")
    if isinstance(part, dict) and isinstance(part.get("status"), str) \
            and isinstance(part.get("n"), int) and not isinstance(part.get("n"), bool):
        status, n = part["status"], part["n"]
    return Entry(items, status, n, len(raw))


def emptied(entry: Entry, item_id: str) -> dict[str, Any]:
    """What is left of ``entry`` once its reader deleted the item ``item_id``."""
    return body([i for i in entry.items if i.get("id") != item_id],
                (entry.status, entry.status_n) if entry.status is not None else None)
