"""Acknowledgments do not tell which group a submission went to (issue 19).

Two real workbench vaults, the inspectorate's and the conflict group's (the minister's
designated officer), each import the same inbox bundle from the gateway and carry a reply bundle
back. The attacker is someone who reads the seized server — its database and its admin log —
after each upload: the inspectorate itself, or the server's operators. Their goal: learn which
submissions the conflict group handled (and so which reports are about the inspectorate), or
have the inspectorate's acknowledgment delete a report about it before the conflict group has
fetched it. Runs on SQLite and on PostgreSQL, like the routing tests."""

from __future__ import annotations

import io
import re

from sqlalchemy import inspect, text

from dropbox_app.auditors import set_active
from dropbox_app.gateway import adminlog, downloads, retention
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Submission
from tests.fixtures.conflict_groups import download, export, submit, two_groups, upload
from tests.fixtures.gateway import reply_bundle
from workbench.importer import import_bundle

_ID = re.compile(r"^[0-9a-f]{32}$")  # random ids (of the submission, its report) tell nothing


def _submit(dep, to, data: bytes) -> str:
    return submit(dep, to, data).submission_id


def _observe(dep, sids: list[str]) -> dict[str, tuple]:
    """What the observer can tie to each submission: its row, and every row of every table that
    names its id, with the ids themselves taken out."""
    seen: dict[str, list] = {sid: [] for sid in sids}
    with dep.engine.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).mappings():
                values = {k: (bytes(v) if isinstance(v, memoryview) else v)
                          for k, v in row.items()}
                for sid in sids:
                    if any(isinstance(v, str) and sid in v for v in values.values()):
                        seen[sid].append((table, tuple(sorted(
                            (k, v) for k, v in values.items()
                            if not (isinstance(v, str) and (sid in v or _ID.match(v)))
                            and k not in ("member", "sha256", "seq")))))
    return {sid: tuple(sorted(rows)) for sid, rows in seen.items()}


def _acks_per_signer(dep) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    with dep.db() as db:
        for entry in adminlog.newest(db, 10_000):
            if entry.action == "replies.upload":
                out.setdefault(entry.details["signer"], []).append(entry.details["acks"])
    return out


def test_acknowledgments_do_not_tell_which_group_handled_a_submission(dep, tmp_path):
    ours, theirs = two_groups(dep, tmp_path)
    ordinary = [_submit(dep, ours, b"pungli di loket %d" % n) for n in range(2)]
    about_them = [_submit(dep, theirs, b"kepala inspektorat minta setoran")]
    sids = ordinary + about_them
    bundle = download(dep)
    got_ours = import_bundle(ours.lead, io.BytesIO(bundle))
    got_theirs = import_bundle(theirs.lead, io.BytesIO(bundle))
    assert (got_ours.imported, got_ours.other_group) == (2, 1)
    assert (got_theirs.imported, got_theirs.other_group) == (1, 2)

    upload(dep, export(ours, tmp_path, "ours.bundle"), "ours.bundle")
    after_ours = _observe(dep, sids)
    upload(dep, export(theirs, tmp_path, "theirs.bundle"), "theirs.bundle")
    after_both = _observe(dep, sids)
    # Whenever the observer looks, a report about the inspectorate looks like any other.
    for snapshot in (after_ours, after_both):
        assert len(set(snapshot.values())) == 1, snapshot
    # The admin log: both groups acknowledged as many submissions.
    counts = _acks_per_signer(dep)
    assert counts == {ours.lead.key_id: [3], theirs.lead.key_id: [3]}
    # Once both acknowledged, every submission is acknowledged (retention counts from there).
    with dep.db() as db:
        assert all(db.get(Submission, sid).acked_day == dep.clock.day() for sid in sids)
        assert downloads.pending(db) == []
    # Retention deletes them with their acknowledgments (the foreign key holds on PostgreSQL).
    with dep.db() as db, db.begin():
        later = dep.clock.today().replace(year=dep.clock.today().year + 1)
        assert retention.run(db, dep.store_dir, later, 30, actor=SHELL).deleted == 3
    assert _observe(dep, sids) == {sid: () for sid in sids}


def test_the_inspectorate_cannot_delete_what_the_conflict_group_has_not_fetched(dep, tmp_path):
    """The inspectorate's card acknowledges the report about it (a hand-made bundle: the server
    cannot tell it from its own workbench's): the report stays on the server, in the inbox,
    until the conflict group acknowledged it too."""
    ours, theirs = two_groups(dep, tmp_path)
    about_them = _submit(dep, theirs, b"kepala inspektorat minta setoran")
    upload(dep, reply_bundle(dep, acks=[about_them], signer=ours.lead.identity))
    with dep.db() as db, db.begin():
        assert db.get(Submission, about_them).acked_day is None
        far = dep.clock.today().replace(year=dep.clock.today().year + 5)
        assert retention.run(db, dep.store_dir, far, 30, actor=SHELL).deleted == 0
        assert [p.id for p in downloads.pending(db)] == [about_them]
    got = import_bundle(theirs.lead, io.BytesIO(download(dep)))
    assert got.imported == 1
    upload(dep, export(theirs, tmp_path, "theirs.bundle"), "theirs.bundle")
    with dep.db() as db:
        assert db.get(Submission, about_them).acked_day == dep.clock.day()


def test_a_group_without_active_cards_holds_nothing_back(dep, tmp_path):
    """The conflict group's last card is disabled (in the admin log, which both groups'
    bundles carry): what waited only for its acknowledgment is settled by the next retention
    run, and deleted ``retention_days`` after that, not at once."""
    ours, theirs = two_groups(dep, tmp_path)
    sid = _submit(dep, ours, b"pungli di loket")
    upload(dep, reply_bundle(dep, acks=[sid], signer=ours.lead.identity))
    with dep.db() as db, db.begin():
        assert db.get(Submission, sid).acked_day is None
        set_active(db, theirs.lead.key_id, False, actor=SHELL, day=dep.clock.day())
    with dep.db() as db, db.begin():
        assert retention.run(db, dep.store_dir, dep.clock.today(), 30, actor=SHELL).deleted == 0
        assert db.get(Submission, sid).acked_day == dep.clock.day()
        assert downloads.pending(db) == []
