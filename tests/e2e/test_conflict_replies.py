"""What comes back from the workbenches does not tell which group works on a report (issue 19).

Two real workbench vaults, the inspectorate's and the conflict group's, import the same inbox
bundle; each asks its reporter a question and moves the status, and carries a reply bundle back.
The attacker reads the server: the bundles as they are uploaded (a live server, or its
operator), its database, its store and its admin log. Their goal: learn which reports the
conflict group works on, i.e. which reports are about the inspectorate. Before reply bundles
covered every report, the conflict group's bundle named exactly its own reports (with their
statuses in the clear): this test failed there. The reporters then read what was written to
them, and one deletes a question: that must not tell either."""

from __future__ import annotations

import io

from sqlalchemy import select

from crypto.bundle import BundleReader
from dropbox_app.gateway import adminlog
from dropbox_app.models import Reply, Report
from dropbox_app.reporter import services
from dropbox_app.store import Store
from tests.fixtures.conflict_groups import download, export, submit, two_groups, upload
from tests.fixtures.workbench_vault import in_vault
from workbench import outbox
from workbench.importer import import_bundle


def _shape(dep, data: bytes, signer) -> dict[str, tuple]:
    """What a live server sees of one reply bundle, per report: how many entries, their kind,
    their size, and any status in the clear."""
    reader = BundleReader(io.BytesIO(data), {signer.key_id: signer.signing.verify_key},
                          "reply", lambda _k: None, dep.cfg.deployment_id)
    sizes = {m.name: m.size for m in reader.manifest.members}
    out: dict[str, list] = {}
    for r in reader.manifest.body["replies"]:
        out.setdefault(r["report"], []).append((r["kind"], sizes[r["member"]]))
    clear = {s["report"]: s["status"] for s in reader.manifest.body.get("statuses", [])}
    return {rep: (len(v), tuple(sorted(v)), clear.get(rep)) for rep, v in out.items()} | {
        rep: (0, (), st) for rep, st in clear.items() if rep not in out}


def _rows(dep, reports: list[str]) -> dict[str, tuple]:
    """What the database says of each report: its row and its entries' rows, ids taken out."""
    with dep.db() as db:
        out = {}
        for rid in reports:
            report = db.get(Report, rid)
            entries = db.scalars(select(Reply).where(Reply.report_id == rid)).all()
            out[rid] = (report.status, report.created_day, tuple(sorted(
                (e.kind, e.padded_size, e.created_day, e.read_day) for e in entries)))
        return out


def _uploads(dep) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    with dep.db() as db:
        for entry in adminlog.newest(db, 10_000):
            if entry.action == "replies.upload":
                d = entry.details
                out.setdefault(d["signer"], []).append((d["replies"], d["statuses"]))
    return out


def test_what_comes_back_does_not_tell_which_group_works_on_a_report(dep, tmp_path):
    ours, theirs = two_groups(dep, tmp_path)
    ordinary = submit(dep, ours, b"pungli di loket")
    about_them = submit(dep, theirs, b"kepala inspektorat minta setoran")
    reports = [ordinary.report_id, about_them.report_id]
    bundle = download(dep)
    import_bundle(ours.lead, io.BytesIO(bundle))
    import_bundle(theirs.lead, io.BytesIO(bundle))

    # Each group works on its own report: a question and a status.
    for tv, sub, text in ((ours, ordinary, "Kapan kejadiannya?"),
                          (theirs, about_them, "Siapa yang menerima setoran?")):
        in_vault(tv, lambda s, tv=tv, sub=sub, text=text: (
            outbox.queue_reply(s, sub.report_id, tv.lead.key_id, text),
            outbox.queue_status(s, sub.report_id, "verification", tv.lead.key_id)))
    ours_bundle = export(ours, tmp_path, "ours.bundle")
    theirs_bundle = export(theirs, tmp_path, "theirs.bundle")

    # The live server: each bundle touches every report alike, no status in the clear; and
    # the two groups' bundles look alike.
    shapes = [_shape(dep, ours_bundle, ours.lead.identity),
              _shape(dep, theirs_bundle, theirs.lead.identity)]
    for shape in shapes:
        assert set(shape) == set(reports), shape
        assert len(set(shape.values())) == 1, shape
        assert next(iter(shape.values()))[2] is None  # no clear status
    assert set(shapes[0].values()) == set(shapes[1].values())

    upload(dep, ours_bundle, "ours.bundle")
    upload(dep, theirs_bundle, "theirs.bundle")
    # The seized server: both reports' rows alike; the admin log counts alike.
    rows = _rows(dep, reports)
    assert rows[ordinary.report_id] == rows[about_them.report_id], rows
    assert _uploads(dep) == {ours.lead.key_id: [(2, 0)], theirs.lead.key_id: [(2, 0)]}

    # Each reporter reads the question of the group that has the report, and its status; the
    # other group's entry is nothing to them.
    store = Store(dep.store_dir)
    with dep.db() as db, db.begin():
        threads = {sub.report_id: services.read_thread(db, store, dep.clock,
                                                       db.get(Report, sub.report_id),
                                                       sub.reporter_key)
                   for sub in (ordinary, about_them)}
    assert [r.text for r in threads[ordinary.report_id].replies] == ["Kapan kejadiannya?"]
    assert [r.text for r in threads[about_them.report_id].replies] == [
        "Siapa yang menerima setoran?"]
    assert {t.status for t in threads.values()} == {"verification"}
    rows = _rows(dep, reports)
    assert rows[ordinary.report_id] == rows[about_them.report_id], rows  # all read, alike

    # The reporter of the report about the inspectorate deletes the question: every entry of
    # that report is sealed again, so the server cannot tell which one held it.
    with dep.db() as db:
        before = {r.id: r.member for r in db.scalars(select(Reply).where(
            Reply.report_id == about_them.report_id))}
        sizes = {r.id: r.padded_size for r in db.scalars(select(Reply))}
    question = threads[about_them.report_id].replies[0]
    with dep.db() as db, db.begin():
        services.delete_reply(db, store, db.get(Report, about_them.report_id),
                              about_them.reporter_key, question)
    with dep.db() as db:
        after = {r.id: r.member for r in db.scalars(select(Reply).where(
            Reply.report_id == about_them.report_id))}
        assert {r.id: r.padded_size for r in db.scalars(select(Reply))} == sizes
    assert set(after) == set(before) and len(after) == 2
    assert all(after[i] != before[i] for i in before), "only the real entry was rewritten"
    for i, member in after.items():
        assert (dep.store_dir / member).stat().st_size == sizes[i]
    for member in before.values():  # the old copies wiped (the slot stays, empty)
        assert (dep.store_dir / member).stat().st_size == 0
    with dep.db() as db, db.begin():
        thread = services.read_thread(db, store, dep.clock,
                                      db.get(Report, about_them.report_id),
                                      about_them.reporter_key)
    assert thread.replies == [] and thread.status == "verification"


def test_a_conversation_in_many_bundles_stays_covered(dep, tmp_path):
    """The acknowledgment message and two questions the same day, then a status the next:
    every bundle of both groups still has one entry of one size per report, and the reporter
    reads them in the order written."""
    ours, theirs = two_groups(dep, tmp_path)
    subs = [submit(dep, ours, b"pungli di loket"), submit(dep, theirs, b"kepala inspektorat")]
    bundle = download(dep)
    import_bundle(ours.lead, io.BytesIO(bundle))
    import_bundle(theirs.lead, io.BytesIO(bundle))
    for text in ("Laporan Anda kami terima.", "Kapan?", "Di mana?"):
        in_vault(theirs, lambda s, t=text: outbox.queue_reply(s, subs[1].report_id,
                                                               theirs.lead.key_id, t))
    bundles = [(theirs, export(theirs, tmp_path, "t1.bundle")),
               (ours, export(ours, tmp_path, "o1.bundle"))]
    in_vault(theirs, lambda s: outbox.queue_status(s, subs[1].report_id, "investigation",
                                                    theirs.lead.key_id))
    bundles.append((theirs, export(theirs, tmp_path, "t2.bundle")))
    for n, (tv, data) in enumerate(bundles):
        shape = _shape(dep, data, tv.lead.identity)
        assert set(shape) == {s.report_id for s in subs} and len(set(shape.values())) == 1
        upload(dep, data, f"b{n}.bundle")
    assert _rows(dep, [s.report_id for s in subs])[subs[0].report_id] == _rows(
        dep, [s.report_id for s in subs])[subs[1].report_id]
    with dep.db() as db, db.begin():
        thread = services.read_thread(db, Store(dep.store_dir), dep.clock,
                                      db.get(Report, subs[1].report_id), subs[1].reporter_key)
    assert [r.text for r in thread.replies] == ["Laporan Anda kami terima.", "Kapan?",
                                                "Di mana?"]
    assert thread.status == "investigation"
