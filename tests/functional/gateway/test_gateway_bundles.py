"""Inbox bundles out and reply bundles in, through the real gateway app, with real files in the
real store. Each attack on the reply upload is its own test, and each checks that nothing of the
refused bundle remains (no reply row, no file, no status change, no acknowledgment)."""

import io
import os

import pytest
from sqlalchemy import func, select

from crypto import envelope, replyentry
from crypto.bundle import BundleReader
from crypto.identity import AuditorIdentity, Card
from dropbox_app.gateway import adminlog
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Reply, Report, Submission
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    login,
    page_csrf,
    reply_bundle,
    server_trust,
)


@pytest.fixture
def signed_in(deployment):
    login(deployment, create_account(deployment, "ani"))
    return deployment


def _download(dep, status=200):
    return dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}, status=status)


def _read_inbox(dep, data, trusted=None, last=None):
    reader = BundleReader(io.BytesIO(data), trusted or server_trust(dep), "inbox",
                          lambda s: last, dep.cfg.deployment_id)
    return reader, [m.read() for m in reader.members()]


def _upload(dep, data, status=200):
    return dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                        upload_files=[("bundle", "replies.bundle", data)], status=status)


def _store_files(dep):
    from dropbox_app.store import Store

    return sorted(Store(dep.store_dir).members())  # the full slots


def _counts(dep):
    with dep.db() as db:
        return (db.scalar(select(func.count(Reply.id))),
                db.scalar(select(func.count(Submission.id))
                          .where(Submission.acked_day.is_not(None))),
                sorted(db.scalars(select(Report.status))))


def test_inbox_page_shows_counts_and_sizes_only(signed_in):
    dep = signed_in
    a = add_submission(dep, b"rahasia laporan pertama")
    add_submission(dep, b"lampiran", report_id=a.report_id, reporter_key=a.reporter_key)
    page = dep.app.get("/")
    assert page.html.find(id="pending-count").text == "2"
    assert page.html.find(id="pending-reports").text == "1"
    assert "rahasia" not in page.text and a.report_id not in page.text


def test_inbox_bundle_streams_every_unacknowledged_submission(signed_in):
    dep = signed_in
    subs = [add_submission(dep, os.urandom(70_000 * (i + 1))) for i in range(3)]
    response = _download(dep)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.content_length == len(response.body)
    reader, blobs = _read_inbox(dep, response.body)
    entries = reader.manifest.body["submissions"]
    assert {e["id"] for e in entries} == {s.submission_id for s in subs}
    assert reader.manifest.seq == 1 and "rotate_to" not in reader.manifest.body
    for entry, blob in zip(entries, blobs, strict=True):
        assert blob == (dep.store_dir / entry["member"]).read_bytes()
        meta, _plain = envelope.open_bytes(blob, [dep.auditor.box])
        assert meta["submission"] == entry["id"] and meta["report"] == entry["report"]
    # The next download carries the next number and still every unacknowledged submission.
    again, _ = _read_inbox(dep, _download(dep).body, last=1)
    assert again.manifest.seq == 2 and len(again.manifest.body["submissions"]) == 3


def test_empty_inbox_offers_nothing(signed_in):
    page = _download(signed_in)
    assert "Nothing new" in page.text or "Tidak ada" in page.text
    assert page.content_type == "text/html"


def test_inbox_bundle_from_this_server_is_refused_by_another_deployment(signed_in):
    dep = signed_in
    add_submission(dep)
    data = _download(dep).body
    with pytest.raises(Exception, match="another deployment"):
        BundleReader(io.BytesIO(data), server_trust(dep), "inbox", lambda s: None, "0" * 32)


def test_accepted_reply_bundle_stores_replies_statuses_and_acks(signed_in):
    dep = signed_in
    sub = add_submission(dep, b"laporan")
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "Kapan kejadiannya?")],
                        acks=[sub.submission_id], statuses=[(sub.report_id, "verification")])
    page = _upload(dep, data)
    assert page.html.find(id="accepted") is not None
    with dep.db() as db:
        reply = db.scalar(select(Reply))
        assert reply.report_id == sub.report_id and reply.kind == "entry"
        # The status travels sealed in the entry: the server's row never learns it.
        assert db.get(Report, sub.report_id).status == "received"
        assert db.get(Submission, sub.submission_id).acked_day == dep.clock.day()
    blob = (dep.store_dir / reply.member).read_bytes()
    assert reply.padded_size == len(blob)
    opened = replyentry.open_entry(blob, sub.reporter_key, sub.report_id, reply.id)
    assert [(i["kind"], i["text"]) for i in opened.items] == [("question", "Kapan kejadiannya?")]
    assert opened.status == "verification"
    # Acknowledged: no longer in the inbox.
    assert dep.app.get("/").html.find(id="pending-count").text == "0"
    assert not [n for n in _store_files(dep) if n.startswith(".tmp")]


def _assert_nothing_kept(dep, before_files, before_counts):
    assert _store_files(dep) == before_files
    assert _counts(dep) == before_counts


def _refused(dep, data, reason):
    files, counts = _store_files(dep), _counts(dep)
    page = _upload(dep, data, status=422)
    assert reason in page.html.find(id="refused").text
    _assert_nothing_kept(dep, files, counts)


def test_reply_bundle_signed_by_unenrolled_key_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    mallory = AuditorIdentity.generate("Mallory")
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")],
                        acks=[sub.submission_id], signer=mallory)
    _refused(dep, data, "not signed by an enrolled, active auditor card")


def test_reply_bundle_signed_by_disabled_card_refused(signed_in):
    from dropbox_app.auditors import set_active

    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")])
    with dep.db() as db, db.begin():
        set_active(db, dep.auditor.key_id, False, actor=SHELL, day=dep.clock.day())
    _refused(dep, data, "not signed by an enrolled, active auditor card")


def test_replayed_reply_bundle_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "satu")])
    _upload(dep, data)
    _refused(dep, data, "already accepted")


def test_reordered_reply_bundles_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    first = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "satu")], seq=1)
    second = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "dua")], seq=2)
    _upload(dep, second)
    _refused(dep, first, "already accepted")


def test_reply_bundle_for_another_deployment_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")],
                        deployment_id="ab" * 16)
    _refused(dep, data, "another Peluit server")


def test_reply_bundle_with_changed_member_refused(signed_in):
    dep = signed_in
    subs = [add_submission(dep), add_submission(dep)]
    data = bytearray(reply_bundle(dep, replies=[(s.report_id, s.reporter_key, "hi")
                                                for s in subs]))
    data[-100] ^= 1  # inside the last member, after the first one was already stored
    _refused(dep, bytes(data), "damaged or was changed")


def test_reply_bundle_with_missing_member_refused(signed_in):
    dep = signed_in
    subs = [add_submission(dep), add_submission(dep)]
    data = reply_bundle(dep, replies=[(s.report_id, s.reporter_key, "hi") for s in subs])
    _refused(dep, data[:-500], "damaged or was changed")


def test_reply_bundle_with_extra_member_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    extra = envelope.seal_bytes(b"x", [sub.reporter_key.public_key], {"v": 1})
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")],
                        extra_members=[("f" * 32 + ".env", extra)])
    _refused(dep, data, "something this server will not do")


def test_reply_bundle_with_bytes_after_the_last_member_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")])
    _refused(dep, data + b"\0", "damaged or was changed")


def test_reply_not_sealed_to_its_reporter_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    other = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")],
                        seal_to=other.reporter_key.public_key)
    _refused(dep, data, "not sealed to its reporter")


def test_reply_for_unknown_report_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[("c" * 32, sub.reporter_key, "hi")])
    _refused(dep, data, "report this server does not have")


def test_upload_without_csrf_or_session_refused(signed_in):
    dep = signed_in
    sub = add_submission(dep)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "hi")])
    files = _store_files(dep)
    dep.app.post("/replies", {"csrf_token": "forged"},
                 upload_files=[("bundle", "r.bundle", data)], status=400)
    dep.app.post("/replies", upload_files=[("bundle", "r.bundle", data)], status=400)
    assert _store_files(dep) == files
    dep.app.post("/logout", {"csrf_token": page_csrf(dep)})
    dep.app.post("/replies", {"csrf_token": page_csrf(dep, "/login")},
                 upload_files=[("bundle", "r.bundle", data)], status=303)
    assert _counts(dep)[0] == 0


def test_garbage_upload_gets_a_clear_refusal(signed_in):
    page = _upload(signed_in, b"not a bundle at all" * 10, status=422)
    assert "Traceback" not in page.text and page.html.find(id="refused")


def test_key_rotation_old_key_announces_new_then_new_signs(signed_in):
    dep = signed_in
    admin = create_account(dep, "root", "admin")
    dep.app.post("/logout", {"csrf_token": page_csrf(dep)})
    login(dep, admin)
    old_trust = server_trust(dep)
    add_submission(dep)
    first, _ = _read_inbox(dep, _download(dep).body, trusted=old_trust)
    dep.app.post("/admin/server-key/rotate", {"csrf_token": page_csrf(dep, "/admin"),
                                             "confirm": "yes"},
                 status=303)
    # A second rotation waits for the first to be announced.
    dep.app.post("/admin/server-key/rotate", {"csrf_token": page_csrf(dep, "/admin"),
                                             "confirm": "yes"},
                 status=409)
    announcing, _ = _read_inbox(dep, _download(dep).body, trusted=old_trust,
                                last=first.manifest.seq)
    new_card = Card.from_bytes(announcing.manifest.body["rotate_to"].encode())
    assert announcing.manifest.sender != new_card.key_id
    # Sent in full, but no workbench confirmed it: the old key signs and announces again.
    again, _ = _read_inbox(dep, _download(dep).body, trusted=old_trust,
                           last=announcing.manifest.seq)
    assert again.manifest.body["rotate_to"] == announcing.manifest.body["rotate_to"]
    assert dep.server_key().key_id != new_card.key_id
    # A reply bundle naming another key confirms nothing.
    _upload(dep, reply_bundle(dep, server_key=dep.server_key().key_id))
    assert dep.server_key().key_id != new_card.key_id
    # An enrolled auditor's reply bundle that trusts the new key: the new key takes over.
    page = _upload(dep, reply_bundle(dep, server_key=new_card.key_id))
    assert page.html.find(id="key-confirmed") is not None
    assert dep.server_key().key_id == new_card.key_id
    # From now on the new key signs, with its own sequence; the old key is no longer trusted.
    after = _download(dep).body
    reader, _ = _read_inbox(dep, after, trusted={new_card.key_id: new_card.sign_key})
    assert reader.manifest.sender == new_card.key_id and reader.manifest.seq == 1
    with pytest.raises(Exception, match="not trusted"):
        _read_inbox(dep, after, trusted=old_trust)
    with dep.db() as db:
        switch = [e for e in adminlog.for_bundle(db) if e["action"] == "serverkey.switch"]
    assert switch[-1]["details"]["confirmed_by"] == dep.auditor.key_id


def test_a_refused_reply_bundle_confirms_no_rotation(signed_in):
    from dropbox_app.gateway import serverkey

    dep = signed_in
    old = dep.server_key()
    with dep.db() as db, db.begin():
        new = serverkey.rotate(db, dep.cfg.server_key_file, dep.clock.day(), actor=SHELL)
    # Confirms the right key, but for another deployment: refused, and nothing switches.
    _upload(dep, reply_bundle(dep, server_key=new.key_id, deployment_id="0" * 32), status=422)
    assert dep.server_key().key_id == old.key_id


def test_aborted_announcing_download_keeps_the_old_key(signed_in):
    from dropbox_app.gateway import serverkey

    dep = signed_in
    add_submission(dep)
    old = dep.server_key()
    with dep.db() as db, db.begin():
        serverkey.rotate(db, dep.cfg.server_key_file, dep.clock.day(), actor=SHELL)
    from webtest import TestRequest

    token = page_csrf(dep)
    req = TestRequest.blank("/inbox", method="POST", POST={"csrf_token": token})
    req.headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in dep.app.cookiejar)
    # Call the WSGI app directly, read the first block, then hang up like a broken connection.
    chunks = dep.app.app(req.environ, lambda status, headers, exc_info=None: None)
    assert next(iter(chunks)).startswith(b"PELUIT-B")
    chunks.close()
    assert dep.server_key().key_id == old.key_id
    assert serverkey.pending(dep.cfg.server_key_file) is not None


def test_reply_named_like_a_submission_cannot_replace_it(signed_in):
    import hashlib

    from crypto.bundle import Member, make_manifest, write_bundle

    dep = signed_in
    sub = add_submission(dep)
    from dropbox_app.models import Submission

    with dep.db() as db:
        member = db.get(Submission, sub.submission_id).member
    original = (dep.store_dir / member).read_bytes()
    rid = sub.submission_id  # a workbench bug or a hostile one reuses a submission's id
    (data,) = replyentry.uniform([replyentry.body(
        [{"id": rid, "kind": "question", "text": "x"}], None)])
    blob = replyentry.seal(data, sub.reporter_key.public_key, sub.report_id, rid)
    manifest = make_manifest("reply", dep.cfg.deployment_id, dep.auditor.signing, 1,
                             [Member(f"{rid}.env", len(blob), hashlib.sha256(blob).hexdigest())],
                             {"replies": [{"id": rid, "report": sub.report_id,
                                           "kind": "entry", "member": f"{rid}.env"}]})
    out = io.BytesIO()
    write_bundle(out, manifest, dep.auditor.signing, lambda n: io.BytesIO(blob))
    _refused(dep, out.getvalue(), "repeats a reply")
    assert (dep.store_dir / member).read_bytes() == original


class _PausingReader(io.BytesIO):
    """A bundle source that stops where the members begin until told to go on: the upload has
    then claimed its sequence number but written no file yet."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.members_at = 16 + int.from_bytes(data[12:16], "big") + 64
        self.paused, self.go = __import__("threading").Event(), __import__("threading").Event()

    def read(self, n=-1):  # noqa: ANN001, ANN201
        if self.tell() >= self.members_at and not self.go.is_set():
            self.paused.set()
            assert self.go.wait(30)
        return super().read(n)


@pytest.mark.parametrize("earlier_bundle", [False, True])
def test_same_bundle_uploaded_twice_at_once_keeps_the_first(deployment, earlier_bundle):
    """Two uploads of one bundle race: the first has claimed the sequence number and is still
    streaming members when the second passes every check; the second then waits at the claim
    for the first's transaction and is refused as a replay, before it writes any file over the
    first one's. For a key's first bundle (the primary key decides) and a later one (the
    conditional update decides)."""
    import threading

    from dropbox_app.gateway import replies
    from dropbox_app.store import Store

    dep = deployment
    store = Store(dep.store_dir)
    sub = add_submission(dep)
    if earlier_bundle:
        with dep.db() as db, db.begin():
            replies.accept(db, store, io.BytesIO(reply_bundle(dep)), dep.cfg.deployment_id,
                           dep.clock.day(), actor=SHELL)
    data = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "satu")])
    outcome = {}

    def upload(name, src) -> None:  # noqa: ANN001
        with dep.db() as db:
            db.begin()
            try:
                replies.accept(db, store, src, dep.cfg.deployment_id, dep.clock.day(),
                               actor=SHELL)
                db.commit()
                outcome[name] = "accepted"
            except replies.ReplyRejected as exc:
                db.rollback()
                outcome[name] = exc.message

    slow = _PausingReader(data)
    first = threading.Thread(target=upload, args=("first", slow))
    first.start()
    assert slow.paused.wait(30)
    second = threading.Thread(target=upload, args=("second", io.BytesIO(data)))
    second.start()
    second.join(1.0)
    assert second.is_alive(), outcome  # waiting at the claim
    slow.go.set()
    first.join(30)
    second.join(30)
    assert outcome == {"first": "accepted", "second": replies.REPLAYED}
    with dep.db() as db:
        replies_rows = [r for r in db.scalars(select(Reply)) if r.report_id == sub.report_id]
    [reply] = replies_rows
    opened = replyentry.open_entry((dep.store_dir / reply.member).read_bytes(),
                                   sub.reporter_key, sub.report_id, reply.id)
    assert [i["text"] for i in opened.items] == ["satu"]
