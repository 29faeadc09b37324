"""What a reply bundle asks the server to do, checked before anything is done.

The signature has been verified by then (crypto.bundle.BundleReader); this checks the body's
shape so that a bundle from a buggy or compromised workbench is refused as a whole with one clear
reason, never half-applied."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crypto import replyentry
from crypto.bundle import Manifest

#: One kind: whether an entry holds a question, a message, a status or nothing is sealed inside
#: it (crypto/replyentry.py), so the server cannot tell which group works on which report.
REPLY_KINDS = (replyentry.KIND,)
STATUSES = replyentry.STATUSES  # what an entry may carry, sealed
_ID = re.compile(r"^[0-9a-f]{32}$")
#: An entry the reporter app opens in memory (dropbox_app/reporter/services.py): a larger one
#: could never be read there.
MAX_REPLY_BYTES = replyentry.OVERHEAD + replyentry.MAX_BODY


class BadReplyBundle(ValueError):
    """The bundle verified but asks for something the server will not do."""


@dataclass(frozen=True)
class PlannedReply:
    id: str
    report: str
    kind: str
    member: str


@dataclass(frozen=True)
class ReplyPlan:
    acks: tuple[str, ...]
    replies: tuple[PlannedReply, ...]
    statuses: tuple[tuple[str, str], ...]  # (report, status)
    server_key: str | None = None  # the newest server key the vault trusts: confirms a rotation

    @property
    def reports(self) -> set[str]:
        return {r.report for r in self.replies} | {r for r, _ in self.statuses}


def _list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key, [])
    if not isinstance(value, list):
        raise BadReplyBundle(f"{key} must be a list")
    return value


def _id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise BadReplyBundle(f"bad {what} id")
    return value


def plan(manifest: Manifest) -> ReplyPlan:
    body = manifest.body
    unknown = set(body) - {"acks", "replies", "statuses", "server_key"}
    if unknown:
        raise BadReplyBundle(f"unknown field {sorted(unknown)[0]!r} in the reply bundle")
    acks = tuple(_id(a, "submission") for a in _list(body, "acks"))
    if len(set(acks)) != len(acks):
        raise BadReplyBundle("a submission is acknowledged twice")

    replies = []
    for entry in _list(body, "replies"):
        if not isinstance(entry, dict) or set(entry) != {"id", "report", "kind", "member"}:
            raise BadReplyBundle("bad reply entry")
        rid = _id(entry["id"], "reply")
        if entry["kind"] not in REPLY_KINDS:
            raise BadReplyBundle("unknown reply kind")
        if entry["member"] != f"{rid}.env":
            raise BadReplyBundle("reply member must be named after the reply")
        replies.append(PlannedReply(rid, _id(entry["report"], "report"), entry["kind"],
                                    entry["member"]))
    # Exactly the declared replies travel as members: nothing extra to store, nothing missing.
    if sorted(r.member for r in replies) != sorted(m.name for m in manifest.members):
        raise BadReplyBundle("the bundle's members do not match its replies")
    if len({r.id for r in replies}) != len(replies):
        raise BadReplyBundle("a reply appears twice")
    for m in manifest.members:
        if m.size > MAX_REPLY_BYTES:
            raise BadReplyBundle("a reply is larger than allowed")
    # The cover's shape, checked here too: one entry per report, all of one size. A workbench
    # that broke it would show the server which reports it works on.
    if len({r.report for r in replies}) != len(replies):
        raise BadReplyBundle("two entries for one report")
    if len({m.size for m in manifest.members}) > 1:
        raise BadReplyBundle("the entries are not all the same size")

    if _list(body, "statuses"):
        # A status in the clear would tell the server which group works on the report.
        raise BadReplyBundle("statuses travel sealed in the entries")
    statuses: list[tuple[str, str]] = []
    server_key = body.get("server_key")
    if server_key is not None:
        server_key = _id(server_key, "server key")
    return ReplyPlan(acks, tuple(replies), tuple(statuses), server_key)
