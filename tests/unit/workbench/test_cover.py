"""The reports a vault covers cannot be changed in the file without its key
(workbench/cover.py, workbench/trust.py): a vault that covered fewer reports than the other group
would show the server which reports are whose, one that covered a report the server does not have
would have every bundle refused, and one whose row names another reporter key would seal to it."""

import io
import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.fixtures.workbench_vault import build_inbox, in_vault, make_vault, report_item
from workbench import db, outbox, trust
from workbench.exporter import ExportRefused, export_replies
from workbench.importer import import_bundle


def _open_checked(tv):
    engine = db.make_engine(tv.path)
    try:
        with trust.sealing(trust.seal_keys(tv.lead.vault_key)), Session(engine) as s, s.begin():
            return s.execute(select(db.CoverReport.report_id)).scalars().all()
    finally:
        engine.dispose()


def _tamper(tv, sql):
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    try:
        with conn:
            assert conn.execute(sql).rowcount >= 1
    finally:
        conn.close()


@pytest.fixture
def tv(tmp_path):
    tv = make_vault(tmp_path)
    items = [report_item(), report_item()]
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=1)))
    in_vault(tv, lambda s: outbox.queue_reply(s, items[0].report, tv.lead.key_id, "Kapan?"))
    assert len(_open_checked(tv)) == 2
    return tv


@pytest.mark.parametrize("sql", [
    "DELETE FROM cover_reports WHERE report_id = (SELECT min(report_id) FROM cover_reports)",
    "INSERT INTO cover_reports SELECT printf('%032d', 0), reporter_key, last_day, mac "
    "FROM cover_reports LIMIT 1",
])
def test_a_cover_row_dropped_or_planted_in_the_file_is_refused(tv, sql):
    """The vault's seal holds how many reports it covers: it refuses to open."""
    _tamper(tv, sql)
    with pytest.raises(trust.TamperedVault, match="cover reports"):
        _open_checked(tv)


@pytest.mark.parametrize("sql", [
    "UPDATE cover_reports SET last_day = '2020-01-01' "
    "WHERE report_id = (SELECT min(report_id) FROM cover_reports)",
    # the two rows' encrypted reporter keys swapped (each decrypts: the column is the same)
    "UPDATE cover_reports SET reporter_key = (SELECT reporter_key FROM cover_reports c2 "
    "WHERE c2.report_id != cover_reports.report_id)",
])
def test_a_cover_row_changed_in_the_file_stops_the_export(tv, tmp_path, sql):
    """Each row carries its MAC under the vault key: the export refuses, and writes nothing."""
    _tamper(tv, sql)
    out = tmp_path / "r.bundle"
    with pytest.raises(ExportRefused, match="changed outside the workbench"):
        export_replies(tv.lead, out)
    assert not out.exists()
