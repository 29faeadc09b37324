"""Importing inbox bundles, and the attacks on it that must fail (each its own test)."""

import io
import os
import sqlite3
import threading
import time
import types

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto import envelope
from crypto.bundle import BundleReader
from crypto.identity import ServerKey
from tests.fixtures.workbench_vault import (
    Item,
    add_person,
    build_inbox,
    make_vault,
    new_id,
    report_item,
    sealed_members,
)
from workbench import db, filestore, vault
from workbench.exporter import export_replies
from workbench.importer import ImportRefused, import_bundle


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


def run(tv, data):
    return import_bundle(tv.lead, io.BytesIO(data))


def snapshot(tv):
    """Everything that an import could change: table row counts, sequence state, files."""
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    try:
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("reports", "submissions", "bundle_sequences", "server_cards",
                            "audit_log")}
        seqs = conn.execute("SELECT * FROM bundle_sequences ORDER BY 1, 2").fetchall()
    finally:
        conn.close()
    files = sorted(p.name for p in (tv.path / "files").iterdir())
    return counts, seqs, files


def three_items():
    rep = report_item("Kepala dinas meminta setoran <script>alert(1)</script>")
    pdf = Item("file", b"%PDF-1.7 bukti transfer " * 5000, report=rep.report,
               reporter_key=rep.reporter_key, name="../../etc/bukti transfer.pdf")
    msg = Item("message", b'{"in_reply_to":null,"text":"tambahan"}', report=rep.report,
               reporter_key=rep.reporter_key)
    return [rep, pdf, msg]


def test_a_uniform_manifest_takes_each_kind_from_the_sealed_metadata(tv):
    # Today's server lists every submission as "submission"; the real kind is sealed.
    items = three_items()
    for it in items:
        it.manifest_kind = "submission"
    result = run(tv, build_inbox(tv, items, seq=1))
    assert result.imported == 3
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        report = s.get(db.Report, items[0].report)
        assert [x.kind for x in report.submissions] == ["report", "file", "message"]
        assert report.submissions[1].file_name == "../../etc/bukti transfer.pdf"


def test_a_uniform_manifest_refuses_an_unknown_sealed_kind(tv):
    items = three_items()
    items[2].manifest_kind = "submission"
    items[2].meta_override = {"kind": "submission"}
    with pytest.raises(ImportRefused, match="sealed metadata"):
        run(tv, build_inbox(tv, items, seq=1))


def test_import_files_each_submission_under_its_report(tv):
    items = three_items()
    result = run(tv, build_inbox(tv, items, seq=1))
    assert (result.imported, result.skipped, result.reports_created) == (3, 0, 1)
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        report = s.get(db.Report, items[0].report)
        assert bytes(report.reporter_key) == bytes(items[0].reporter_key)
        assert [x.kind for x in report.submissions] == ["report", "file", "message"]
        rep, f, msg = report.submissions
        assert rep.content["what"].startswith("Kepala dinas")
        assert msg.content == {"in_reply_to": None, "text": "tambahan"}
        assert f.file_name == "../../etc/bukti transfer.pdf" and f.size == len(items[1].body)
        key = vault.vault_box_key(tv.lead.vault_key)
        assert b"".join(filestore.iter_plaintext(tv.path, f, key)) == items[1].body


def test_a_copied_vault_reveals_nothing(tv):
    items = three_items()
    run(tv, build_inbox(tv, items, seq=1))
    everything = b"".join(p.read_bytes() for p in tv.path.rglob("*") if p.is_file())
    for secret in (b"Kepala dinas", b"bukti transfer", b"tambahan", b"%PDF",
                   bytes(items[0].reporter_key)):
        assert secret not in everything


def test_importing_twice_changes_nothing(tv):
    data = build_inbox(tv, three_items(), seq=1)
    run(tv, data)
    before = snapshot(tv)
    with pytest.raises(ImportRefused, match="already imported"):
        run(tv, data)
    assert snapshot(tv) == before


def test_a_submission_already_imported_is_skipped(tv):
    items = three_items()
    run(tv, build_inbox(tv, items[:2], seq=1))
    extra = Item("message", b'{"in_reply_to":null,"text":"lagi"}', report=items[0].report,
                 reporter_key=items[0].reporter_key)
    result = run(tv, build_inbox(tv, [*items[:2], extra], seq=2))
    assert (result.imported, result.skipped, result.reports_created) == (1, 2, 0)


def test_envelopes_sealed_to_a_colleague_open_too(tv):
    colleague = add_person(tv, "Budi", "auditor")
    item = report_item()
    members = sealed_members([item], [colleague.box.public_key])  # not to the lead
    assert run(tv, build_inbox(tv, [item], seq=1, members=members)).imported == 1


# --- attacks -------------------------------------------------------------------------------

def _flip(data: bytes, at: int) -> bytes:
    b = bytearray(data)
    b[at] ^= 1
    return bytes(b)


def test_changed_member_is_refused_and_nothing_imported(tv):
    data = build_inbox(tv, three_items(), seq=1)
    before = snapshot(tv)
    with pytest.raises(ImportRefused):
        run(tv, _flip(data, len(data) - 100))  # inside the last member
    assert snapshot(tv) == before


def test_changed_member_in_the_middle_leaves_no_file_behind(tv):
    items = three_items()
    data = build_inbox(tv, items, seq=1)
    before = snapshot(tv)
    with pytest.raises(ImportRefused):
        run(tv, _flip(data, len(data) - 50))
    assert snapshot(tv) == before
    assert not list((tv.path / "files").iterdir())


def test_missing_member_is_refused(tv):
    items = three_items()
    data = build_inbox(tv, items, seq=1)
    last = len(sealed_members(items[-1:], tv.recipients())[f"{items[-1].id}.env"])
    before = snapshot(tv)
    with pytest.raises(ImportRefused):
        run(tv, data[:-last])  # the last member cut off the end
    assert snapshot(tv) == before


def test_extra_member_appended_is_refused(tv):
    items = three_items()
    data = build_inbox(tv, items, seq=1)
    extra = envelope.seal_bytes(b'{"what":"palsu"}', tv.recipients(), {"v": 1})
    with pytest.raises(ImportRefused, match="after the last member"):
        run(tv, data + extra)
    assert snapshot(tv)[0]["submissions"] == 0


def test_signed_extra_member_without_a_submission_entry_is_refused(tv):
    items = three_items()
    members = sealed_members(items, tv.recipients())
    members["smuggled.env"] = envelope.seal_bytes(b"x", tv.recipients(), {"v": 1})
    with pytest.raises(ImportRefused, match="do not match"):
        run(tv, build_inbox(tv, items, seq=1, members=members))


def test_reordered_bundles_are_refused(tv):
    first = build_inbox(tv, [report_item()], seq=1)
    second = build_inbox(tv, [report_item()], seq=2)
    run(tv, second)
    with pytest.raises(ImportRefused, match="already imported or older"):
        run(tv, first)


def test_bundle_from_another_server_is_refused(tv):
    other = ServerKey.generate()
    with pytest.raises(ImportRefused, match="not from the pinned server"):
        run(tv, build_inbox(tv, [report_item()], seq=1, server=other))


def test_bundle_for_another_deployment_is_refused(tv):
    with pytest.raises(ImportRefused, match="another deployment"):
        run(tv, build_inbox(tv, [report_item()], seq=1, deployment="f" * 32))


def test_reply_bundle_is_not_an_inbox(tv):
    from crypto import bundle
    manifest = bundle.make_manifest("reply", tv.deployment, tv.server.signing, 1, [], {})
    out = io.BytesIO()
    bundle.write_bundle(out, manifest, tv.server.signing, lambda n: io.BytesIO())
    with pytest.raises(ImportRefused, match="expected a inbox bundle"):
        run(tv, out.getvalue())


def test_submission_moved_to_another_report_is_refused(tv):
    item = report_item()
    members = sealed_members([item], tv.recipients())
    item.report = new_id()  # the manifest now files it elsewhere; the sealed metadata does not
    with pytest.raises(ImportRefused, match="does not match the signed manifest"):
        run(tv, build_inbox(tv, [item], seq=1, members=members))


def test_reporter_key_swap_is_refused(tv):
    item = report_item()
    run(tv, build_inbox(tv, [item], seq=1))
    later = Item("message", b'{"in_reply_to":null,"text":"x"}', report=item.report,
                 reporter_key=PrivateKey.generate().public_key)  # replies would go to Mallory
    with pytest.raises(ImportRefused, match="another reporter key"):
        run(tv, build_inbox(tv, [later], seq=2))


def test_reporter_key_swap_within_one_bundle_is_refused(tv):
    item = report_item()  # a report the vault has never seen, so its key comes from the bundle
    later = Item("message", b'{"in_reply_to":null,"text":"x"}', report=item.report,
                 reporter_key=PrivateKey.generate().public_key)
    before = snapshot(tv)
    with pytest.raises(ImportRefused, match="another reporter key"):
        run(tv, build_inbox(tv, [item, later], seq=1))
    assert snapshot(tv) == before


def test_envelope_for_another_group_is_left_for_it(tv):
    """A report about the inspectorate is sealed to the conflict group only: the inspectorate's
    vault imports the rest of the bundle, opens nothing of it, stores nothing of it, but
    acknowledges it like its own (the server keeps it until the conflict group acknowledged it
    too, dropbox_app/gateway/acks.py). Before recipient groups, the whole bundle was refused,
    and every report of the inspectorate's with it."""
    ours, theirs = report_item(), report_item("Kepala inspektorat meminta setoran")
    officer = PrivateKey.generate()
    members = {**sealed_members([ours], tv.recipients()),
               **sealed_members([theirs], [officer.public_key])}
    result = run(tv, build_inbox(tv, [ours, theirs], seq=1, members=members))
    assert (result.imported, result.other_group) == (1, 1)
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    try:
        reports = {r for (r,) in conn.execute("SELECT id FROM reports")}
        subs = {s for (s,) in conn.execute("SELECT id FROM submissions")}
    finally:
        conn.close()
    assert reports == {ours.report} and theirs.id not in subs
    # offered again in the next bundle (the conflict group has not acknowledged it yet):
    # left again, recorded once, nothing breaks
    again = run(tv, build_inbox(tv, [theirs], seq=2, members=sealed_members(
        [theirs], [officer.public_key])))
    assert (again.imported, again.other_group, again.skipped) == (0, 1, 0)
    with Session(db.make_engine(tv.path)) as s:
        assert s.scalar(select(func.count()).select_from(db.OtherGroupAck)) == 1


def test_other_groups_submissions_are_acknowledged_like_ours(tv, tmp_path):
    """The reply bundle acknowledges both, in one sorted list, once: a server reading the
    acknowledgments cannot tell which of them this group could open. Before, only ours."""
    ours, theirs = report_item(), report_item("Kepala inspektorat meminta setoran")
    officer = PrivateKey.generate()
    members = {**sealed_members([ours], tv.recipients()),
               **sealed_members([theirs], [officer.public_key])}
    run(tv, build_inbox(tv, [ours, theirs], seq=1, members=members))
    out = tmp_path / "r.bundle"
    export_replies(tv.lead, out)
    with out.open("rb") as f:
        manifest = BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                                "reply", lambda _k: 0, tv.deployment).manifest
    assert manifest.body["acks"] == sorted([ours.id, theirs.id])
    export_replies(tv.lead, tmp_path / "again.bundle")  # acknowledged once, not again
    with (tmp_path / "again.bundle").open("rb") as f:
        again = BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                             "reply", lambda _k: 1, tv.deployment).manifest
    assert again.body["acks"] == []


def test_malformed_content_is_refused(tv):
    item = Item("message", b'{"text": 5}')
    with pytest.raises(ImportRefused, match="not a message"):
        run(tv, build_inbox(tv, [item], seq=1))


def test_compliance_officer_cannot_import(tv):
    add_person(tv, "Citra", "compliance")
    citra = vault.unlock(tv.path, "Citra", "another long passphrase here")
    with pytest.raises(vault.VaultError):
        import_bundle(citra, io.BytesIO(build_inbox(tv, [report_item()], seq=1)))


def test_server_key_rotation_signed_by_the_old_key(tv):
    new = ServerKey.generate()
    rotate = {"rotate_to": new.card().to_bytes().decode()}
    result = run(tv, build_inbox(tv, [report_item()], seq=5, body_extra=rotate))
    assert result.rotated_to == new.key_id
    # Until the gateway switches, the old key still signs (and announces again): imported.
    again = run(tv, build_inbox(tv, [report_item()], seq=6, body_extra=rotate))
    assert again.imported == 1 and again.rotated_to == new.key_id and again.retired == []
    # The new key is trusted from sequence 1; once it signed, the old one no longer.
    first_new = run(tv, build_inbox(tv, [report_item()], seq=1, server=new))
    assert first_new.imported == 1 and first_new.retired == [tv.server.key_id]
    with pytest.raises(ImportRefused, match="not from the pinned server"):
        run(tv, build_inbox(tv, [report_item()], seq=7))


def test_the_old_key_cannot_announce_a_second_new_key(tv):
    """A thief of the old server key, after the vault learned the real new key, announces a key
    of their own: refused, and the vault still trusts only the real pair."""
    real, thief = ServerKey.generate(), ServerKey.generate()
    run(tv, build_inbox(tv, [], seq=5, body_extra={"rotate_to": real.card().to_bytes().decode()}))
    with pytest.raises(ImportRefused, match="another new server key"):
        run(tv, build_inbox(tv, [report_item()], seq=6,
                            body_extra={"rotate_to": thief.card().to_bytes().decode()}))
    with pytest.raises(ImportRefused, match="not from the pinned server"):
        run(tv, build_inbox(tv, [report_item()], seq=1, server=thief))


def test_rotation_to_a_bad_card_is_refused(tv):
    with pytest.raises(ImportRefused, match="not valid"):
        run(tv, build_inbox(tv, [report_item()], seq=1, body_extra={"rotate_to": "{}"}))
    assert snapshot(tv)[0]["server_cards"] == 1


def test_import_is_audited_without_content(tv):
    run(tv, build_inbox(tv, three_items(), seq=1))
    from policies import auditlog
    entries = auditlog.load_vault(tv.path)
    assert [e.action for e in entries] == ["bundle.import"]
    assert auditlog.verify(entries) == []
    with Session(db.make_engine(tv.path)) as s:
        assert s.scalar(select(func.count()).select_from(db.AuditLogRow)) == 1


def test_small_order_reporter_key_is_refused(tv):
    item = report_item()
    entry = {**item.entry(), "reporter_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    with pytest.raises(ImportRefused, match="unusable reporter key"):
        run(tv, build_inbox(tv, [item], seq=1, entries=[entry]))


def test_a_time_finer_than_a_day_is_refused(tv):
    item = report_item()
    entry = {**item.entry(), "day": "2026-11-23T09:41:00"}
    with pytest.raises(ImportRefused, match="bad day"):
        run(tv, build_inbox(tv, [item], seq=1, entries=[entry]))


def test_a_large_file_damaged_at_its_end_leaves_nothing(tv):
    import threading

    rep = report_item()
    big = Item("file", os.urandom(3 * 1024 * 1024), report=rep.report,
               reporter_key=rep.reporter_key)  # more than the pack worker's queue holds
    data = build_inbox(tv, [rep, big], seq=1)
    before = snapshot(tv)
    with pytest.raises(ImportRefused):
        run(tv, _flip(data, len(data) - 20))
    assert snapshot(tv) == before and not list((tv.path / "files").iterdir())
    assert not [t for t in threading.enumerate() if t.name == "pack-writer"]
    assert run(tv, data).imported == 2  # the intact bundle still goes in afterwards


def test_an_empty_bundle_only_moves_the_sequence_on(tv):
    result = run(tv, build_inbox(tv, [], seq=3))
    assert (result.imported, result.skipped) == (0, 0)
    assert snapshot(tv)[1] == [("inbox", tv.server.key_id, 3)]
    assert not list((tv.path / "files").iterdir())
    with pytest.raises(ImportRefused):
        run(tv, build_inbox(tv, [report_item()], seq=2))


# --- large imports: rows inserted in batches, the pack made durable as it grows --------------

def _many_items(n_reports: int, files_each: int) -> list[Item]:
    items = []
    for i in range(n_reports):
        rep = report_item(f"laporan {i}")
        items.append(rep)
        items += [Item("file", os.urandom(100 + 7000 * j), report=rep.report,
                       reporter_key=rep.reporter_key, name=f"bukti-{i}-{j}.bin")
                  for j in range(files_each)]
    return items


def test_rows_inserted_in_batches_while_importing_are_all_there(tv, monkeypatch):
    from workbench import importer
    monkeypatch.setattr(importer._Batch, "INSERT_EVERY", 3)  # many batches, some waiting on files
    items = _many_items(4, 4)
    result = run(tv, build_inbox(tv, items, seq=1))
    assert (result.imported, result.reports_created) == (20, 4)
    assert result.plaintext_bytes == sum(len(it.body) for it in items)
    key = vault.vault_box_key(tv.lead.vault_key)
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        subs = s.scalars(select(db.Submission).order_by(db.Submission.seq)).all()
        assert [x.id for x in subs] == [it.id for it in items]  # in bundle order
        for sub, it in zip(subs, items, strict=True):
            assert sub.report_id == it.report
            if it.kind == "file":
                assert sub.file_name == it.name and sub.size == len(it.body)
                assert b"".join(filestore.iter_plaintext(tv.path, sub, key)) == it.body


def test_a_late_fault_undoes_the_rows_of_earlier_batches(tv, monkeypatch):
    from workbench import importer
    monkeypatch.setattr(importer._Batch, "INSERT_EVERY", 2)
    data = build_inbox(tv, _many_items(3, 3), seq=1)
    before = snapshot(tv)
    with pytest.raises(ImportRefused):
        run(tv, _flip(data, len(data) - 100))  # the last member, long after the first inserts
    assert snapshot(tv) == before
    assert not list((tv.path / "files").iterdir())


def test_the_pack_is_synced_while_it_grows(tv, monkeypatch):
    synced: list[int] = []
    real = os.fdatasync

    def spy(fd):
        synced.append(os.fstat(fd).st_size)
        real(fd)

    class HandedOver(threading.Event):
        """A flush request the writer hands over: it goes on once the flusher has taken it.
        Otherwise, on a loaded machine, the flusher thread may not run before the import ends,
        and the writer rightly leaves durability to finish()'s fsync: nothing to see here."""

        def set(self) -> None:
            super().set()
            deadline = time.monotonic() + 10
            while self.is_set() and time.monotonic() < deadline:
                time.sleep(0.001)

    monkeypatch.setattr(filestore, "threading",
                        types.SimpleNamespace(Thread=threading.Thread, Event=HandedOver))
    monkeypatch.setattr(filestore.PackWriter, "FLUSH_EVERY", 64 * 1024)
    monkeypatch.setattr(filestore.os, "fdatasync", spy)
    items = _many_items(2, 5)
    run(tv, build_inbox(tv, items, seq=1))
    (pack,) = (tv.path / "files").iterdir()
    # Synced part-way through, not only once at the end (finish() uses fsync).
    assert synced and min(synced) < pack.stat().st_size


# --- who the gateway sealed to --------------------------------------------------------------

def test_a_bundle_sealed_to_the_team_only_raises_no_alarm(tv):
    result = run(tv, build_inbox(tv, three_items(), seq=1))
    assert not result.foreign_keys and not result.foreign_submissions
    assert not result.unexpected_members


def test_submissions_also_sealed_to_a_stranger_are_flagged_and_logged(tv):
    from crypto.keys import box_key_id
    from workbench import audit

    rogue = PrivateKey.generate()  # a card someone enrolled on the gateway behind the team
    items = three_items()
    members = sealed_members(items[:2], [tv.lead.identity.box.public_key, rogue.public_key])
    members.update(sealed_members(items[2:], tv.recipients()))  # enrolled after this one
    result = run(tv, build_inbox(tv, items, seq=1, members=members))
    assert result.imported == 3  # the team still gets its reports
    assert result.foreign_keys == {box_key_id(rogue.public_key).hex()}
    assert result.foreign_submissions == 2
    with Session(db.make_engine(tv.path)) as s:
        entry = audit.last_entry(s)
    assert entry.action == "bundle.import"
    assert entry.details["foreign_keys"] == [box_key_id(rogue.public_key).hex()]
    assert entry.details["foreign_submissions"] == 2


def test_submissions_sealed_to_a_removed_colleague_are_named(tv):
    colleague = add_person(tv, "Budi", "auditor")
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s, s.begin():
        vault.remove_auditor(s, tv.lead, "Budi")
    item = report_item()
    members = sealed_members([item], [tv.lead.identity.box.public_key,
                                      colleague.box.public_key])
    result = run(tv, build_inbox(tv, [item], seq=1, members=members))
    assert result.unexpected_members == {"Budi"} and not result.foreign_keys


def test_a_planted_other_group_row_does_not_hide_one_of_ours(tv, tmp_path):
    """Someone who can write the vault file but not unlock it plants an ``other_group_acks``
    row with the id of a submission still on its way (the table is not under the vault's seal):
    the submission is imported all the same, and the reply bundle acknowledges it once."""
    ours = report_item()
    with Session(db.make_engine(tv.path)) as s, s.begin():
        s.add(db.OtherGroupAck(id=ours.id, import_seq=1))
    result = run(tv, build_inbox(tv, [ours], seq=1))
    assert (result.imported, result.other_group) == (1, 0)
    out = tmp_path / "r.bundle"
    export_replies(tv.lead, out)
    with out.open("rb") as f:
        manifest = BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                                "reply", lambda _k: 0, tv.deployment).manifest
    assert manifest.body["acks"] == [ours.id]
