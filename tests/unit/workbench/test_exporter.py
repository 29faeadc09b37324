import io

import pytest

from crypto import bundle, replyentry
from tests.fixtures.workbench_vault import (
    add_person,
    build_inbox,
    in_vault,
    make_vault,
    report_item,
    sealed_members,
)
from workbench import outbox, vault
from workbench.exporter import ExportRefused, NothingToExport, export_replies
from workbench.importer import ImportRefused, import_bundle


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


def _read(tv, path, last=None):
    with open(path, "rb") as f:
        reader = bundle.BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                                     "reply", lambda _k: last, tv.deployment)
        members = {m.member.name: m.read() for m in reader.members()}
    return reader.manifest, members


def _entries(manifest, members):
    """report id -> (entry id, sealed bytes) of a reply bundle."""
    return {r["report"]: (r["id"], members[r["member"]]) for r in manifest.body["replies"]}


def test_export_carries_questions_statuses_and_acks(tv, tmp_path):
    items = [report_item(), report_item()]
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=1)))
    q = in_vault(tv, lambda s: outbox.queue_reply(s, items[0].report, tv.lead.key_id,
                                                "Kapan kejadiannya?").id)
    in_vault(tv, lambda s: outbox.queue_status(s, items[0].report, "verification", tv.lead.key_id))
    in_vault(tv, lambda s: outbox.queue_status(s, items[0].report, "investigation",
                                             tv.lead.key_id))
    result = export_replies(tv.lead, tmp_path / "r1.bundle")
    assert (result.seq, result.replies, result.statuses, result.acks) == (1, 1, 1, 2)
    assert (result.entries, result.held) == (2, 0)
    manifest, members = _read(tv, tmp_path / "r1.bundle")
    assert manifest.kind == "reply" and manifest.sender == tv.lead.key_id
    assert sorted(manifest.body["acks"]) == sorted(i.id for i in items)
    # Nothing in the clear tells which report was written to: one entry per report, one kind,
    # one size, no status.
    assert "statuses" not in manifest.body
    entries = _entries(manifest, members)
    assert set(entries) == {i.report for i in items}
    assert {r["kind"] for r in manifest.body["replies"]} == {"entry"}
    assert len({len(data) for _id, data in entries.values()}) == 1
    eid, sealed = entries[items[0].report]
    assert eid != q and b"Kapan" not in sealed  # the entry's id is not the question's
    opened = replyentry.open_entry(sealed, items[0].reporter, items[0].report, eid)
    assert [(i["id"], i["kind"], i["text"]) for i in opened.items] == [
        (q, "question", "Kapan kejadiannya?")]
    assert opened.status == "investigation"
    other_id, other = entries[items[1].report]
    filler = replyentry.open_entry(other, items[1].reporter, items[1].report, other_id)
    assert filler is not None and filler.filler
    # Only the reporter can open it: not even the auditors; and not as another entry.
    assert replyentry.open_entry(sealed, tv.lead.identity.box, items[0].report, eid) is None
    assert replyentry.open_entry(sealed, items[1].reporter, items[0].report, eid) is None
    assert replyentry.open_entry(sealed, items[0].reporter, items[0].report, other_id) is None


def test_questions_to_one_report_travel_in_its_one_entry_in_order(tv, tmp_path):
    """Two questions to one report: one entry, as for every other report, holding both."""
    item, other = report_item(), report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item, other], seq=1)))
    ids = [in_vault(tv, lambda s, t=t: outbox.queue_reply(s, item.report, tv.lead.key_id, t).id)
           for t in ("Kapan?", "Siapa saksinya?")]
    result = export_replies(tv.lead, tmp_path / "r1.bundle")
    assert (result.replies, result.held, result.entries) == (2, 0, 2)
    manifest, members = _read(tv, tmp_path / "r1.bundle")
    entries = _entries(manifest, members)
    assert len({len(d) for _e, d in entries.values()}) == 1
    eid, data = entries[item.report]
    opened = replyentry.open_entry(data, item.reporter, item.report, eid)
    assert [(i["id"], i["text"]) for i in opened.items] == list(zip(
        ids, ("Kapan?", "Siapa saksinya?"), strict=True))


def test_what_does_not_fit_one_entry_waits_for_the_next_bundle(tv, tmp_path):
    """Past ``PACK_LIMIT`` the rest waits, in order: the server sees one entry per report."""
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    texts = ["a" * 90_000, "b" * 90_000, "c" * 90_000, "pendek"]
    ids = [in_vault(tv, lambda s, t=t: outbox.queue_reply(s, item.report, tv.lead.key_id, t).id)
           for t in texts]
    first = export_replies(tv.lead, tmp_path / "r1.bundle")
    assert (first.replies, first.held) == (2, 2)  # "pendek" would fit: it does not overtake
    second = export_replies(tv.lead, tmp_path / "r2.bundle")
    assert (second.replies, second.held) == (2, 0)
    got = []
    for name, last in (("r1.bundle", None), ("r2.bundle", 1)):
        manifest, members = _read(tv, tmp_path / name, last=last)
        (eid, data), = _entries(manifest, members).values()
        got += [i["id"] for i in replyentry.open_entry(data, item.reporter, item.report,
                                                       eid).items]
    assert got == ids


def test_the_other_groups_reports_are_covered_too(tv, tmp_path):
    """A report sealed to another group: this vault cannot open it, but writes a filler to its
    reporter in every bundle, as the other group does to this group's reports."""
    from nacl.public import PrivateKey

    ours, theirs = report_item(), report_item("Laporan tentang Inspektorat")
    members = sealed_members([ours], tv.recipients())
    members.update(sealed_members([theirs], [PrivateKey.generate().public_key]))
    result = import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [ours, theirs], seq=1,
                                                           members=members)))
    assert result.other_group == 1
    export_replies(tv.lead, tmp_path / "r1.bundle")
    manifest, data = _read(tv, tmp_path / "r1.bundle")
    entries = _entries(manifest, data)
    assert set(entries) == {ours.report, theirs.report}
    eid, sealed = entries[theirs.report]
    assert replyentry.open_entry(sealed, theirs.reporter, theirs.report, eid).filler
    assert replyentry.open_entry(sealed, tv.lead.identity.box, theirs.report, eid) is None


def test_a_report_silent_too_long_leaves_the_cover_and_its_question_waits(tv, tmp_path):
    """Counted back from the newest submission imported: the clock does not matter, so two
    groups that imported the same bundles cover the same reports."""
    old = report_item(day="2024-01-02")
    new = report_item(day="2026-11-23")
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [old, new], seq=1)))
    in_vault(tv, lambda s: outbox.queue_reply(s, old.report, tv.lead.key_id, "Masih di sana?"))
    result = export_replies(tv.lead, tmp_path / "r1.bundle")
    assert (result.replies, result.held, result.entries) == (0, 1, 1)
    manifest, data = _read(tv, tmp_path / "r1.bundle")
    assert set(_entries(manifest, data)) == {new.report}
    # The reporter writes again: the report is back in the cover, the question goes.
    again = type(old)("message", b'{"text": "saya kembali", "in_reply_to": null}',
                      report=old.report, reporter=old.reporter, day="2026-11-24")
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [again], seq=2)))
    result = export_replies(tv.lead, tmp_path / "r2.bundle")
    assert (result.replies, result.held, result.entries) == (1, 0, 2)


def test_a_server_cannot_swap_the_key_of_a_report_this_vault_cannot_open(tv):
    """Every entry, filler or not, is sealed to the key the first bundle gave for its report.
    A later bundle naming another key for the same report is refused, whichever group the
    report is for (a server that swapped it would read the other group's questions)."""
    from nacl.public import PrivateKey

    theirs = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(
        tv, [theirs], seq=1,
        members=sealed_members([theirs], [PrivateKey.generate().public_key]))))
    swapped = report_item(report=theirs.report)  # a new reporter key for the same report
    with pytest.raises(ImportRefused, match="another reporter key"):
        import_bundle(tv.lead, io.BytesIO(build_inbox(
            tv, [swapped], seq=2,
            members=sealed_members([swapped], [PrivateKey.generate().public_key]))))


def test_next_export_has_only_what_is_new_and_the_next_seq(tv, tmp_path):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    export_replies(tv.lead, tmp_path / "r1.bundle")
    # Nothing new: a bundle all the same, its one entry a filler (a group that exported only
    # when it had something to say would date its work for the server).
    quiet = export_replies(tv.lead, tmp_path / "r2.bundle")
    assert (quiet.seq, quiet.replies, quiet.acks, quiet.entries) == (2, 0, 0, 1)
    manifest, members = _read(tv, tmp_path / "r2.bundle", last=1)
    (eid, data), = _entries(manifest, members).values()
    assert replyentry.open_entry(data, item.reporter, item.report, eid).filler
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, tv.lead.key_id, "Siapa saksinya?"))
    result = export_replies(tv.lead, tmp_path / "r3.bundle")
    assert (result.seq, result.replies, result.acks) == (3, 1, 0)
    manifest, _ = _read(tv, tmp_path / "r3.bundle", last=2)
    assert manifest.seq == 3 and manifest.body["acks"] == []


def test_a_vault_that_covers_no_report_has_nothing_to_export(tv, tmp_path):
    with pytest.raises(NothingToExport):
        export_replies(tv.lead, tmp_path / "r1.bundle")
    assert not (tmp_path / "r1.bundle").exists()


def test_each_auditor_has_their_own_sequence(tv, tmp_path):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    export_replies(tv.lead, tmp_path / "a.bundle")
    add_person(tv, "Budi", "auditor")
    budi = vault.unlock(tv.path, "Budi", "another long passphrase here")
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, budi.key_id, "Ada bukti lain?"))
    assert export_replies(budi, tmp_path / "b.bundle").seq == 1


def test_export_never_overwrites_a_file(tv, tmp_path):
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report_item()], seq=1)))
    (tmp_path / "r.bundle").write_bytes(b"older bundle not yet carried")
    with pytest.raises(ExportRefused, match="exists already"):
        export_replies(tv.lead, tmp_path / "r.bundle")
    assert (tmp_path / "r.bundle").read_bytes() == b"older bundle not yet carried"


def test_compliance_officer_cannot_export(tv, tmp_path):
    add_person(tv, "Citra", "compliance")
    citra = vault.unlock(tv.path, "Citra", "another long passphrase here")
    with pytest.raises(vault.VaultError):
        export_replies(citra, tmp_path / "r.bundle")


def test_bad_replies_are_refused(tv):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    for text in ("", "   ", "x" * (outbox.MAX_REPLY_CHARS + 1)):
        with pytest.raises(outbox.OutboxError):
            in_vault(tv, lambda s, t=text: outbox.queue_reply(s, item.report, "k" * 32, t))
    with pytest.raises(outbox.OutboxError):
        in_vault(tv, lambda s: outbox.queue_reply(s, "0" * 32, "k" * 32, "halo"))
    with pytest.raises(outbox.OutboxError):
        in_vault(tv, lambda s: outbox.queue_status(s, item.report, "guilty", "k" * 32))


def test_a_lost_bundle_can_be_sent_again_under_a_new_number(tv, tmp_path):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    q = in_vault(tv, lambda s: outbox.queue_reply(s, item.report, tv.lead.key_id, "Halo?").id)
    in_vault(tv, lambda s: outbox.queue_status(s, item.report, "verification", tv.lead.key_id))
    export_replies(tv.lead, tmp_path / "lost.bundle")
    (tmp_path / "lost.bundle").unlink()
    with pytest.raises(ExportRefused, match="cannot resend from 2"):
        export_replies(tv.lead, tmp_path / "again.bundle", resend_from=2)
    result = export_replies(tv.lead, tmp_path / "again.bundle", resend_from=1)
    assert (result.seq, result.replies, result.statuses, result.acks) == (2, 1, 1, 1)
    manifest, members = _read(tv, tmp_path / "again.bundle", last=1)
    (eid, data), = _entries(manifest, members).values()
    sent = replyentry.open_entry(data, item.reporter, item.report, eid)
    assert [i["id"] for i in sent.items] == [q] and sent.status == "verification"
    assert manifest.body["acks"] == [item.id]
    # A colleague's resend does not carry what the lead sent.
    add_person(tv, "Budi", "auditor")
    budi = vault.unlock(tv.path, "Budi", "another long passphrase here")
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, budi.key_id, "Dari Budi"))
    export_replies(budi, tmp_path / "b1.bundle")
    (tmp_path / "b1.bundle").unlink()
    result = export_replies(budi, tmp_path / "b2.bundle", resend_from=1)
    assert (result.replies, result.statuses, result.acks) == (1, 0, 0)


def _export_killed_after_rename(tv, out):
    """Run an export in a child that dies (as under kill -9: no cleanup runs) right after the
    bundle's rename, before the vault's commit."""
    import os

    from workbench import exporter

    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        try:
            exporter.fsync_dir = lambda _path: os._exit(9)
            export_replies(tv.lead, out)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 9


def test_an_export_killed_after_its_rename_is_made_again_under_its_number(tv, tmp_path):
    """The window the crash sweep (tests/faults) never hit: the file was in place, the vault
    had not recorded it. Before, the next export to that name was refused ('exists already')
    and one to another name made a second, different bundle numbered 1: the gateway refuses
    whichever comes second as a replay."""
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, tv.lead.key_id, "Siapa saksinya?"))
    out = tmp_path / "r1.bundle"
    _export_killed_after_rename(tv, out)
    assert out.exists()  # complete and signed, but the vault did not record it

    result = export_replies(tv.lead, out)
    assert (result.seq, result.replies, result.acks) == (1, 1, 1)
    manifest, _ = _read(tv, out)
    assert manifest.seq == 1 and len(manifest.body["replies"]) == 1
    # And once recorded, the same name is refused again: a bundle that may still have to go.
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, tv.lead.key_id, "Kapan?"))
    with pytest.raises(ExportRefused, match="exists already"):
        export_replies(tv.lead, out)


def test_a_file_that_is_not_our_unrecorded_bundle_is_never_removed(tv, tmp_path):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    out = tmp_path / "r1.bundle"
    out.write_bytes(b"someone's document")
    with pytest.raises(ExportRefused, match="exists already"):
        export_replies(tv.lead, out)
    assert out.read_bytes() == b"someone's document"


def test_the_export_tells_its_progress_entry_by_entry(tv, tmp_path):
    """What the CLI's bar draws (workbench.cli.ProgressBar): entries sealed of the total, and
    the bytes sealed so far."""
    items = [report_item() for _ in range(3)]
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=1)))
    for item, text in zip(items, ("Kapan?", "Siapa saksinya?", "Di mana?"), strict=True):
        in_vault(tv, lambda s, i=item, t=text: outbox.queue_reply(s, i.report, tv.lead.key_id, t))
    seen = []
    export_replies(tv.lead, tmp_path / "r1.bundle", progress=lambda *a: seen.append(a))
    assert [(done, total) for done, total, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    sizes = [nbytes for *_, nbytes in seen]
    assert sizes == sorted(sizes) and sizes[0] > 0


def test_a_cover_too_large_for_one_bundle_is_refused_clearly(tv, tmp_path, monkeypatch):
    """Every bundle must cover every report, so it cannot be split: past what one manifest
    holds (about 120,000 reports) the export says so, and nothing is written or counted."""
    from crypto import bundle as crypto_bundle

    items = [report_item() for _ in range(3)]
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=1)))
    monkeypatch.setattr(crypto_bundle, "MAX_MANIFEST", 600)
    with pytest.raises(ExportRefused, match="cover 3 reports"):
        export_replies(tv.lead, tmp_path / "r.bundle")
    assert not (tmp_path / "r.bundle").exists()
    monkeypatch.undo()
    assert export_replies(tv.lead, tmp_path / "r.bundle").seq == 1  # nothing was counted
