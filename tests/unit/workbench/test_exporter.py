import io
import json

import pytest

from crypto import bundle, envelope
from crypto.errors import NotARecipientError
from tests.fixtures.workbench_vault import (
    add_person,
    build_inbox,
    in_vault,
    make_vault,
    report_item,
)
from workbench import outbox, vault
from workbench.exporter import ExportRefused, NothingToExport, export_replies
from workbench.importer import import_bundle


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


def _read(tv, path, last=None):
    with open(path, "rb") as f:
        reader = bundle.BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                                     "reply", lambda _k: last, tv.deployment)
        members = {m.member.name: m.read() for m in reader.members()}
    return reader.manifest, members


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
    manifest, members = _read(tv, tmp_path / "r1.bundle")
    assert manifest.kind == "reply" and manifest.sender == tv.lead.key_id
    assert sorted(manifest.body["acks"]) == sorted(i.id for i in items)
    assert manifest.body["statuses"] == [{"report": items[0].report, "status": "investigation"}]
    assert manifest.body["replies"] == [{"id": q, "report": items[0].report, "kind": "question",
                                         "member": f"{q}.env"}]
    sealed = members[f"{q}.env"]
    assert b"Kapan" not in sealed
    meta, body = envelope.open_bytes(sealed, [items[0].reporter])
    assert meta == {"v": 1, "kind": "question", "report": items[0].report, "reply": q}
    assert json.loads(body) == {"text": "Kapan kejadiannya?"}
    # Only the reporter can open it: not even the auditors.
    with pytest.raises(NotARecipientError):
        envelope.open_bytes(sealed, [tv.lead.identity.box])


def test_next_export_has_only_what_is_new_and_the_next_seq(tv, tmp_path):
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    export_replies(tv.lead, tmp_path / "r1.bundle")
    with pytest.raises(NothingToExport):
        export_replies(tv.lead, tmp_path / "r2.bundle")
    assert not (tmp_path / "r2.bundle").exists()
    in_vault(tv, lambda s: outbox.queue_reply(s, item.report, tv.lead.key_id, "Siapa saksinya?"))
    result = export_replies(tv.lead, tmp_path / "r2.bundle")
    assert (result.seq, result.replies, result.acks) == (2, 1, 0)
    manifest, _ = _read(tv, tmp_path / "r2.bundle", last=1)
    assert manifest.seq == 2 and manifest.body["acks"] == []


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
    manifest, _members = _read(tv, tmp_path / "again.bundle", last=1)
    assert manifest.body["replies"][0]["id"] == q and manifest.body["acks"] == [item.id]
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


def test_the_export_tells_its_progress_reply_by_reply(tv, tmp_path):
    """What the CLI's bar draws (workbench.cli.ProgressBar): replies sealed of the total, and
    the bytes sealed so far."""
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    for text in ("Kapan?", "Siapa saksinya?", "Di mana?"):
        in_vault(tv, lambda s, t=text: outbox.queue_reply(s, item.report, tv.lead.key_id, t))
    seen = []
    export_replies(tv.lead, tmp_path / "r1.bundle", progress=lambda *a: seen.append(a))
    assert [(done, total) for done, total, _ in seen] == [(1, 3), (2, 3), (3, 3)]
    sizes = [nbytes for *_, nbytes in seen]
    assert sizes == sorted(sizes) and sizes[0] > 0
