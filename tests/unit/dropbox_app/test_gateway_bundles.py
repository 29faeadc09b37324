"""Inbox manifests and reply-bundle plans, without a database."""

import hashlib
import io
import secrets

import pytest

from crypto.bundle import BundleReader, Member, make_manifest
from crypto.identity import AuditorIdentity, Card, ServerKey
from dropbox_app.gateway import inbox, replyplan

DEP = secrets.token_hex(16)


def _pending(n=3):
    out, blobs = [], {}
    for _ in range(n):
        sid = secrets.token_hex(16)
        blob = secrets.token_bytes(1000 + n)
        blobs[f"{sid}.env"] = blob
        out.append(inbox.PendingSubmission(sid, secrets.token_hex(16), secrets.token_bytes(32),
                                           "file", f"{sid}.env", "2026-11-23", len(blob),
                                           hashlib.sha256(blob).hexdigest()))
    return out, blobs


def test_streamed_inbox_bundle_verifies_and_completes_once():
    key = ServerKey.generate()
    pending, blobs = _pending()
    manifest = inbox.inbox_manifest(pending, DEP, key, 7)
    done = []
    stream = inbox.StreamedBundle(manifest, key, lambda m: io.BytesIO(blobs[m]),
                                  on_complete=lambda: done.append(1))
    data = b"".join(stream)
    assert len(data) == inbox.bundle_length(manifest)
    assert done == [1]
    reader = BundleReader(io.BytesIO(data), {key.key_id: key.signing.verify_key}, "inbox",
                          lambda s: 6, DEP)
    assert [e["id"] for e in reader.manifest.body["submissions"]] == [p.id for p in pending]
    assert "rotate_to" not in reader.manifest.body
    assert [m.read() for m in reader.members()] == [blobs[p.member] for p in pending]


def test_aborted_stream_does_not_complete():
    key = ServerKey.generate()
    pending, blobs = _pending()
    done = []
    stream = inbox.StreamedBundle(inbox.inbox_manifest(pending, DEP, key, 1), key,
                                  lambda m: io.BytesIO(blobs[m]), lambda: done.append(1))
    next(stream)
    stream.close()
    assert done == []


def test_changed_store_member_stops_the_stream():
    key = ServerKey.generate()
    pending, blobs = _pending(1)
    manifest = inbox.inbox_manifest(pending, DEP, key, 1)
    blobs[pending[0].member] = b"x" * pending[0].size
    with pytest.raises(Exception, match="changed"):
        b"".join(inbox.StreamedBundle(manifest, key, lambda m: io.BytesIO(blobs[m])))


def test_rotation_card_travels_in_body():
    old, new = ServerKey.generate(), ServerKey.generate()
    m = inbox.inbox_manifest([], DEP, old, 3, rotate_to=new.card())
    card = Card.from_bytes(m.body["rotate_to"].encode())
    assert card.key_id == new.key_id and m.sender == old.key_id


def test_totals():
    pending, _ = _pending(4)
    assert inbox.totals(pending) == (4, 4, sum(p.size for p in pending))


def _reply_manifest(body, members):
    a = AuditorIdentity.generate("Ani")
    return make_manifest("reply", DEP, a.signing, 1, members, body)


def _member(name):
    return Member(name, 10, "0" * 64)


def test_plan_accepts_a_good_body():
    q, r, s = (secrets.token_hex(16) for _ in range(3))
    m = _reply_manifest({"acks": [s], "replies": [{"id": q, "report": r, "kind": "entry",
                                                    "member": f"{q}.env"}], "statuses": []},
                        [_member(f"{q}.env")])
    p = replyplan.plan(m)
    assert p.acks == (s,) and p.replies[0].report == r and p.statuses == ()
    assert p.reports == {r}


def test_plan_refuses_what_would_break_the_cover():
    """Whatever a workbench sends, the server stores only the cover's shape: entries, one per
    report, all one size, no status in the clear (crypto/replyentry.py)."""
    q, q2, r, r2 = (secrets.token_hex(16) for _ in range(4))

    def body(*replies, **extra):
        return {"acks": [], "replies": [{"id": i, "report": rep, "kind": k, "member": f"{i}.env"}
                                        for i, rep, k in replies], **extra}

    for kind in ("question", "message"):  # the real kind in the clear
        with pytest.raises(replyplan.BadReplyBundle, match="kind"):
            replyplan.plan(_reply_manifest(body((q, r, kind)), [_member(f"{q}.env")]))
    with pytest.raises(replyplan.BadReplyBundle, match="sealed"):
        replyplan.plan(_reply_manifest(
            body((q, r, "entry"), statuses=[{"report": r, "status": "verification"}]),
            [_member(f"{q}.env")]))
    with pytest.raises(replyplan.BadReplyBundle, match="two entries"):
        replyplan.plan(_reply_manifest(body((q, r, "entry"), (q2, r, "entry")),
                                       [_member(f"{q}.env"), _member(f"{q2}.env")]))
    with pytest.raises(replyplan.BadReplyBundle, match="same size"):
        replyplan.plan(_reply_manifest(body((q, r, "entry"), (q2, r2, "entry")),
                                       [_member(f"{q}.env"), Member(f"{q2}.env", 11, "0" * 64)]))


@pytest.mark.parametrize("mutate", [
    lambda b, q, r: b.update(extra=1),
    lambda b, q, r: b.update(acks="x"),
    lambda b, q, r: b.update(acks=["../etc"]),
    lambda b, q, r: b.update(acks=[q, q]),
    lambda b, q, r: b["replies"][0].update(kind="verdict"),
    lambda b, q, r: b["replies"][0].update(member="other.env"),
    lambda b, q, r: b["replies"][0].update(report="R"),
    lambda b, q, r: b["replies"].append(dict(b["replies"][0])),
    lambda b, q, r: b.update(statuses=[{"report": r, "status": "guilty"}]),
    lambda b, q, r: b.update(statuses=[{"report": r, "status": "finished"}] * 2),
])
def test_plan_refuses_bad_bodies(mutate):
    q, r = secrets.token_hex(16), secrets.token_hex(16)
    body = {"acks": [], "replies": [{"id": q, "report": r, "kind": "entry",
                                     "member": f"{q}.env"}], "statuses": []}
    mutate(body, q, r)
    with pytest.raises(replyplan.BadReplyBundle):
        replyplan.plan(_reply_manifest(body, [_member(f"{q}.env")]))


def test_plan_refuses_extra_or_missing_member():
    q, r = secrets.token_hex(16), secrets.token_hex(16)
    body = {"replies": [{"id": q, "report": r, "kind": "entry", "member": f"{q}.env"}]}
    with pytest.raises(replyplan.BadReplyBundle, match="members"):
        replyplan.plan(_reply_manifest(body, [_member(f"{q}.env"), _member("extra.env")]))
    with pytest.raises(replyplan.BadReplyBundle, match="members"):
        replyplan.plan(_reply_manifest(body, []))
