"""The gateway's admin log at import: kept when it follows on from what earlier bundles showed,
reported (and not kept) when it was rewritten, cut short or has a hole, refused when it is not
an admin log at all. The submissions of the bundle are imported in every case but the last."""

import io

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policies import auditlog
from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    PASS,
    build_inbox,
    carried,
    gateway_log,
    make_vault,
    report_item,
)
from workbench import db
from workbench.importer import ImportRefused, import_bundle


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


def run(tv, seq, log, items=None):
    items = items if items is not None else [report_item()]
    body = {} if log is None else {"admin_log": carried(log)}
    return import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=seq, body_extra=body)))


def kept(tv):
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        return list(s.scalars(select(db.GatewayLogRow.seq).order_by(db.GatewayLogRow.seq)))


def test_entries_are_kept_once_and_the_next_bundle_adds_only_the_new_ones(tv):
    log = gateway_log(5)
    first = run(tv, 1, log[:3])
    assert [e.seq for e in first.gateway_log_new] == [1, 2, 3]
    assert first.gateway_log_problems == []
    second = run(tv, 2, log)  # the gateway sends its whole window again, two entries longer
    assert [e.seq for e in second.gateway_log_new] == [4, 5]
    assert kept(tv) == [1, 2, 3, 4, 5]
    # The audit log says what came in, on the vault's own chain.
    entry = auditlog.load_vault(tv.path)[-1]
    assert entry.details["gateway_log_new"] == 2 and entry.details["gateway_log_problems"] == []


def test_a_window_that_starts_later_is_fine_the_first_time(tv):
    log = gateway_log(8)
    result = run(tv, 1, log[5:])
    assert result.gateway_log_problems == [] and kept(tv) == [6, 7, 8]


def test_an_entry_rewritten_after_a_bundle_carried_it_is_reported(tv):
    log = gateway_log(3)
    run(tv, 1, log)
    # Root on the server edits entry 2 (hides whose card it was) and re-chains everything after.
    forged = [log[0]]
    forged.append(auditlog.append(forged[-1], at="2026-11-23", actor="root",
                                  action="card.enroll", details={"key_id": "0" * 32}))
    forged.append(auditlog.append(forged[-1], at="2026-11-23", actor="root",
                                  action="card.disable", details={"key_id": "0" * 32}))
    forged += gateway_log(1, start=forged[-1])
    result = run(tv, 2, forged)
    assert result.imported == 1  # the reporters' submissions still come in
    assert "gateway admin log rewritten: Entry 2 differs from the one an earlier bundle carried." \
        in result.gateway_log_problems
    assert kept(tv) == [1, 2, 3]  # nothing of the forged chain was kept
    assert auditlog.load_vault(tv.path)[-1].details["gateway_log_problems"]


def test_a_log_cut_short_is_reported(tv):
    log = gateway_log(4)
    run(tv, 1, log)
    result = run(tv, 2, log[:2])
    assert result.gateway_log_problems == ["gateway admin log truncated: An earlier bundle "
                                           "carried entries up to 4; this one ends at 2."]
    # A body without any log, after one was seen, is the same thing.
    result = run(tv, 3, None)
    assert any("truncated" in p for p in result.gateway_log_problems)


def test_entries_never_shown_are_reported_as_a_hole(tv):
    log = gateway_log(9)
    run(tv, 1, log[:2])
    result = run(tv, 2, log[6:])  # 3 to 6 were dropped before any bundle carried them
    assert result.gateway_log_problems == [
        "gateway admin log deleted: Entries 3 to 6 were never shown to the workbench."]
    assert kept(tv) == [1, 2]


def test_an_entry_that_does_not_match_its_own_hash_is_reported(tv):
    log = gateway_log(3)
    raw = carried(log)
    raw[1]["details"] = {"key_id": "f" * 32}  # content changed, stored hash left as it was
    body = {"admin_log": raw}
    result = import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report_item()], seq=1,
                                                           body_extra=body)))
    assert any(p.startswith("gateway admin log edited: The entries do not hold together at "
                            "entry 2 ") for p in result.gateway_log_problems)
    assert kept(tv) == []


@pytest.mark.parametrize("bad", [
    "not a list",
    [{"seq": 1}],
    [{**carried(gateway_log(1))[0], "hash": None}],
    [{**carried(gateway_log(1))[0], "extra": 1}],
    [{**carried(gateway_log(1))[0], "seq": "1"}],
    [{**carried(gateway_log(1))[0], "details": ["not", "an", "object"]}],
    [{**carried(gateway_log(1))[0], "actor": "x" * 5000}],
])
def test_what_is_not_an_admin_log_refuses_the_bundle(tv, bad):
    data = build_inbox(tv, [report_item()], seq=1, body_extra={"admin_log": bad})
    with pytest.raises(ImportRefused, match="admin log"):
        import_bundle(tv.lead, io.BytesIO(data))
    with db.unlocked(tv.lead.vault_key), Session(db.make_engine(tv.path)) as s:
        assert s.scalar(select(func.count(db.Submission.id))) == 0


def test_the_import_command_prints_new_entries_and_warns_on_problems(tv, tmp_path, capsys):
    from peluit.cli import main

    log = gateway_log(3)
    (tmp_path / "p").write_text(PASS + "\n")
    args = ["--vault", str(tv.path), "--as", "Lead Ani", "--passphrase-file",
            str(tmp_path / "p"), "--demo-not-air-gapped"]
    for seq, part in ((1, log), (2, log[:1])):
        (tmp_path / f"{seq}.bundle").write_bytes(build_inbox(
            tv, [report_item()], seq=seq, body_extra={"admin_log": carried(part)}))
    assert main(["workbench", "import", str(tmp_path / "1.bundle"), *args]) == 0
    out = capsys.readouterr().out
    assert "Gateway admin actions new to this vault:" in out
    assert f"#1 2026-11-23 root: card.enroll (key_id={0:032x}, name=Auditor 0)" in out
    assert main(["workbench", "import", str(tmp_path / "2.bundle"), *args]) == 0
    assert "WARNING: gateway admin log truncated" in capsys.readouterr().err


def test_a_lead_forgets_after_a_restore_and_the_next_import_takes_the_new_entries(
        tv, tmp_path, capsys):
    from peluit.cli import main

    log = gateway_log(5)
    run(tv, 1, log)
    # The server was restored from an older backup (its log ends at 3) and went on from there.
    restored = log[:3] + gateway_log(2, start=log[2])
    assert any("rewritten" in p for p in run(tv, 2, restored).gateway_log_problems)
    (tmp_path / "p").write_text(PASS + "\n")
    args = ["--vault", str(tv.path), "--as", "Lead Ani", "--passphrase-file",
            str(tmp_path / "p"), "--demo-not-air-gapped"]
    assert main(["workbench", "gateway-log", "forget-after", "3", *args]) == 0
    assert "Forgot 2 entries after #3" in capsys.readouterr().out
    assert auditlog.load_vault(tv.path)[-1].action == "gateway_log.forget"
    result = run(tv, 3, restored)
    assert result.gateway_log_problems == [] and [e.seq for e in result.gateway_log_new] == [4, 5]
    assert main(["workbench", "gateway-log", "show", "--last", "2", *args]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in shown] == ["#4", "#5"]


def test_only_a_lead_may_forget(tv):
    from tests.fixtures.workbench_vault import add_person
    from workbench import gatewaylog, vault

    run(tv, 1, gateway_log(2))
    add_person(tv, "Budi", "auditor")
    budi = vault.unlock(tv.path, "Budi", OTHER_PASS)
    with Session(db.make_engine(tv.path)) as s, s.begin(), pytest.raises(vault.VaultError):
        gatewaylog.forget_after(s, budi, 0)
    assert kept(tv) == [1, 2]
