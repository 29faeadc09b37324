"""The inbox bundle: every submission the workbench has not acknowledged yet, in one signed file.

The manifest is built from what was recorded at ingest (member name, size, SHA-256), so making
it touches no envelope; the members are then streamed from the store block by block as the
response body (``crypto.bundle.iter_bundle`` re-hashes them on the way). Memory use is one block
plus the manifest, whatever the inbox holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from crypto.bundle import InboxEntry, Manifest, Member, iter_bundle, make_manifest
from crypto.encoding import b64encode
from crypto.identity import Card, ServerKey

from ..models import ROW_KIND

#: Entries per bundle: keeps the manifest far below crypto.bundle's 32 MiB limit (an entry is
#: about 300 bytes). What does not fit goes in the next bundle.
MAX_SUBMISSIONS_PER_BUNDLE = 20_000
BLOCK = 1 << 20


@dataclass(frozen=True)
class PendingSubmission(InboxEntry):
    """What the server knows about a submission: ids, sizes, the day; never content."""

    size: int
    sha256: str


def inbox_body(pending: Sequence[PendingSubmission], rotate_to: Card | None,
               admin_log: Sequence[dict] = ()) -> dict:
    body: dict = {"submissions": [
        {"id": p.id, "report": p.report, "reporter_key": b64encode(p.reporter_key),
         # One kind for every entry: the real one is inside the envelope (the workbench reads
         # it there), so the manifest does not tell a retaliation report from a file.
         "kind": ROW_KIND, "member": p.member, "day": p.day} for p in pending],
        # The newest entries of the admin log (adminlog.py), for the workbench to keep.
        "admin_log": list(admin_log)}
    if rotate_to is not None:
        # The new server card travels inside a bundle signed by the old key: the workbench
        # trusts it because the key it already pinned vouches for it.
        body["rotate_to"] = rotate_to.to_bytes().decode("utf-8")
    return body


def inbox_manifest(pending: Sequence[PendingSubmission], deployment: str, signer: ServerKey,
                   seq: int, rotate_to: Card | None = None,
                   today: dt.date | None = None, admin_log: Sequence[dict] = ()) -> Manifest:
    members = [Member(p.member, p.size, p.sha256) for p in pending]
    return make_manifest("inbox", deployment, signer.signing, seq, members,
                         inbox_body(pending, rotate_to, admin_log), today)


def bundle_name(deployment: str, signer: ServerKey, seq: int) -> str:
    return f"peluit-inbox-{deployment[:8]}-{signer.key_id[:8]}-{seq:06d}.bundle"


class StreamedBundle:
    """A WSGI app_iter over ``iter_bundle``. ``on_complete`` runs only when the last byte was
    produced; an aborted download leaves everything as it was. (A key rotation no longer
    finishes here: it waits for a workbench's confirmation, gateway/serverkey.py.)"""

    def __init__(self, manifest: Manifest, signer: ServerKey,
                 open_member: Callable[[str], BinaryIO],
                 on_complete: Callable[[], None] | None = None):
        self._blocks: Iterator[bytes] = iter_bundle(manifest, signer.signing, open_member)
        self._on_complete = on_complete
        self._finished = False

    def __iter__(self) -> StreamedBundle:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._blocks)
        except StopIteration:
            if not self._finished:
                self._finished = True
                if self._on_complete is not None:
                    self._on_complete()
            raise

    def close(self) -> None:
        close = getattr(self._blocks, "close", None)
        if close is not None:
            close()


def bundle_length(manifest: Manifest) -> int:
    """The exact size of the bundle, so the response can carry a Content-Length and a
    truncated download is noticed by the browser."""
    return 16 + len(manifest.to_bytes()) + 64 + sum(m.size for m in manifest.members)


def totals(pending: Iterable[PendingSubmission]) -> tuple[int, int, int]:
    """(submissions, reports, bytes): what the gateway may show about its inbox."""
    count = size = 0
    reports: set[str] = set()
    for p in pending:
        count += 1
        size += p.size
        reports.add(p.report)
    return count, len(reports), size
