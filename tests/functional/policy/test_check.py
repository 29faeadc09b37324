"""`peluit policy check` against real deployments on disk: one that passes every control, and
for each control a copy with exactly that promise broken."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from crypto.identity import AuditorIdentity
from dropbox_app.facts import gather
from peluit.cli import main
from policies import auditlog, controls
from policies.controls import CONTROLS, run_controls
from tests.fixtures.policy_deployment import build_template, copy_deployment, write_workbench_audit


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    base = tmp_path_factory.mktemp("deployment") / "peluit"
    build_template(base)
    return base


@pytest.fixture
def deployment(template, tmp_path):
    return copy_deployment(template, tmp_path / "peluit")


def outcomes(cfg: Path) -> dict[str, controls.Result]:
    facts = gather(cfg)
    facts.workbench_deadlines = controls.load_workbench_deadlines(
        cfg.parent / "workbench-deadlines.json")
    facts.escrow_openings, facts.escrow_problems = controls.escrow_findings(
        auditlog.load_export(cfg.parent / "workbench-audit.jsonl"))
    policy = controls.policy_in_force(facts)
    return {o.control.id: o.result for o in run_controls(facts, policy)}


def _set(cfg: Path, old: str, new: str) -> None:
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new, 1))


def _sql(cfg: Path, statement: str) -> None:
    conn = sqlite3.connect(cfg.parent / "peluit.sqlite")
    conn.execute(statement)
    conn.commit()
    conn.close()


def _pin_signer(cfg: Path, who: AuditorIdentity) -> None:
    (cfg.parent / "officer.card").write_bytes(who.card().to_bytes())
    _set(cfg, "[reporter]\n", '[reporter]\npolicy_signers = ["officer.card"]\n')


def _write(cfg: Path, rel: str, data: bytes) -> None:
    (cfg.parent / rel).write_bytes(data)


def _drop_line(path: Path, number: int) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:number - 1] + lines[number:]))


UNPINNED_CONFLICT_CARD = (
    "INSERT INTO auditor_cards (key_id, card, name, fingerprint, active, enrolled_day, "
    f"recipient_group) VALUES ('{'ab' * 16}', x'00', 'Auditor Kawan', 'x', 1, '2026-11-20', "
    "'conflict')")


def _resign_without_conflict(cfg: Path) -> None:
    from policies import documents

    version = cfg.parent / "policy" / "1.0"
    header = version / documents.HEADER_FILE
    header.write_text(header.read_text().split("\n[conflict]\n")[0])
    documents.sign_version(version, AuditorIdentity.generate("Kepatuhan"))


def _longer_draft(cfg: Path, old: str, new: str) -> None:
    """A newer draft version beside the signed 1.0 that promises less (a longer target)."""
    import shutil

    draft = cfg.parent / "policy" / "1.1"
    shutil.copytree(cfg.parent / "policy" / "1.0", draft)
    (draft / "signature.json").unlink()
    _set(draft / "policy.toml", 'version = "1.0"', 'version = "1.1"')
    _set(draft / "policy.toml", old, new)


BREAK = {
    "NET-1": [lambda c: _set(c, 'listen = "127.0.0.1:8080"', 'listen = "0.0.0.0:8080"'),
              lambda c: _set(c, 'listen = "127.0.0.1:8081"', 'listen = "[::]:8081"')],
    "LOG-1": [lambda c: _set(c, "[deploy]", '[deploy]\naccess_log = "/var/log/x.log"'),
              lambda c: _write(c, "logs/access.log", b"127.0.0.1 GET /"),
              lambda c: _set(c.parent / "systemd" / "peluit-reporter.service",
                             "UMask=0077", "UMask=0077\nStandardOutput=append:/var/log/r.log")],
    "KEY-1": [lambda c: _sql(c, "UPDATE auditor_cards SET active = 0 WHERE name = 'Ani'"),
              lambda c: _sql(c, "DELETE FROM auditor_cards")],
    "COI-1": [lambda c: _sql(c, "UPDATE auditor_cards SET active = 0 "
                               "WHERE recipient_group = 'conflict'"),
              # the gateway's admin enrolled a card the signed policy does not name
              lambda c: _sql(c, UNPINNED_CONFLICT_CARD),
              # the signed policy names no conflict group at all
              lambda c: _resign_without_conflict(c),
              lambda c: _sql(c, "DELETE FROM auditor_cards WHERE recipient_group = 'conflict'"),
              # a group larger than the envelope's slots (only possible by editing the rows)
              lambda c: [_sql(c, "INSERT INTO auditor_cards (key_id, card, name, fingerprint, "
                                 f"active, enrolled_day, recipient_group) VALUES ('{i:032x}', "
                                 "x'00', 'x', 'x', 1, '2026-11-20', 'inspectorate')")
                         for i in range(20)]],
    "AUTH-1": [lambda c: _sql(c, "UPDATE gateway_users SET totp_secret = '' WHERE id = 'a2'"),
               lambda c: _sql(c, "DROP TABLE gateway_users")],
    "AUD-1": [  # an entry edited, the newest dropped, the first dropped, the log gone
        lambda c: _sql(c, "UPDATE admin_log SET entry = CAST(replace(CAST(entry AS TEXT), "
                          "'card.enroll', 'card.enrolx') AS BLOB) WHERE seq = 1"),
        lambda c: _sql(c, "DELETE FROM admin_log WHERE seq = (SELECT max(seq) FROM admin_log)"),
        lambda c: _sql(c, "DELETE FROM admin_log WHERE seq = 1"),
        lambda c: _sql(c, "DROP TABLE admin_log")],
    "KDF-1": [lambda c: _set(c, "argon2 = { t = 3,", "argon2 = { t = 1,"),
              lambda c: _set(c, "m = 65536", "m = 8192")],
    "SEC-1": [lambda c: _write(c, "secrets/deployment.salt", bytes(32)),
              lambda c: _write(c, "secrets/deployment.salt", b"changeme-changeme-changeme"),
              lambda c: os.chmod(c.parent / "secrets" / "server.key", 0o644),
              lambda c: _set(c, 'deployment_id = "', 'deployment_id = "' + "0" * 32 + '"\n#')],
    "RET-1": [lambda c: _set(c, "retention_days = 30", "retention_days = 90")],
    "STORE-1": [lambda c: _write(c, "store/" + "ab" * 16 + ".env", b"PELUIT-E garbage"),
                lambda c: _write(c, "store/laporan-korupsi.pdf", b"%PDF plaintext")],
    "POL-1": [lambda c: _set(c.parent / "policy" / "1.0" / "en.md", "75 working", "95 working"),
              lambda c: (c.parent / "policy" / "1.0" / "signature.json").unlink(),
              # only the pinned officer may sign, and this one did not
              lambda c: _pin_signer(c, AuditorIdentity.generate("Someone else"))],
    "POL-2": [lambda c: _set(c.parent / "workbench-deadlines.json", '"complete_days": 75',
                             '"complete_days": 60'),
              # the retaliation clock is a promise of the policy too (default 2 when left out)
              lambda c: _set(c.parent / "workbench-deadlines.json", '"complete_days": 75',
                             '"complete_days": 75, "retaliation_days": 5')],
    "POL-3": [lambda c: _longer_draft(c, "completion = 75", "completion = 90"),
              lambda c: _longer_draft(c, "retention_max_days = 30", "retention_max_days = 31")],
    # an identity opened with no consent recorded; the log edited to drop the consent
    "ESC-1": [lambda c: write_workbench_audit(c.parent / "workbench-audit.jsonl", consent=False),
              lambda c: _drop_line(c.parent / "workbench-audit.jsonl", 2)],
    "TOR-1": [lambda c: (c.parent / "tor/gateway/authorized_clients/ani.auth").unlink(),
              lambda c: _set(c.parent / "tor" / "torrc", "127.0.0.1:8081", "127.0.0.1:9999")],
    "TOR-2": [lambda c: _set(c.parent / "tor" / "torrc", "PoWDefensesEnabled 1",
                             "PoWDefensesEnabled 0")],
    "TOR-3": [lambda c: _set(c.parent / "tor" / "torrc", "SocksPort 0", "SocksPort 9050"),
              lambda c: _set(c.parent / "tor" / "torrc", "SocksPort 0\n", ""),
              lambda c: _set(c.parent / "tor" / "torrc", "SafeLogging 1", "SafeLogging 0")],
    "SYS-1": [lambda c: (c.parent / "systemd" / "peluit-gateway.service").write_text(
                  "[Service]\nExecStart=/bin/true\nNoNewPrivileges=yes\nPrivateTmp=yes\n"),
              lambda c: [p.unlink() for p in (c.parent / "systemd").iterdir()]],
}
# Breaking one thing can break what depends on it as well.
ALSO_FAILS = {"POL-1": {"RET-1", "POL-2", "COI-1"},  # COI-1: no signed [conflict] list
              # deleting every card deletes the conflict group's too
              "KEY-1": {"COI-1"},
              # the onion services forward to loopback, no longer where the app listens
              "NET-1": {"TOR-1", "TOR-2"}}


def test_every_control_has_a_breaking_fixture():
    assert set(BREAK) == {c.id for c in CONTROLS}


def test_good_deployment_passes_every_control(deployment):
    results = outcomes(deployment)
    failing = {k: r.evidence for k, r in results.items() if r.status != "pass"}
    assert failing == {}


CASES = [(cid, i) for cid, fns in BREAK.items() for i in range(len(fns))]


@pytest.mark.parametrize(("control_id", "variant"), CASES,
                         ids=[f"{c}-{i}" for c, i in CASES])
def test_breaking_one_promise_fails_that_control(deployment, control_id, variant):
    BREAK[control_id][variant](deployment)
    results = outcomes(deployment)
    assert results[control_id].status == "fail", results[control_id]
    others = {k for k, r in results.items() if r.status == "fail"} - {control_id}
    assert others <= ALSO_FAILS.get(control_id, set())


def test_coi1_names_the_conflict_card_the_signed_policy_does_not(deployment):
    """The gateway's admin (an employee of the inspectorate) enrolled a card of their own in
    the conflict group: COI-1 fails and names it (issue 19)."""
    _sql(deployment, UNPINNED_CONFLICT_CARD)
    result = outcomes(deployment)["COI-1"]
    assert result.status == "fail"
    named = [e for e in result.evidence if "Auditor Kawan" in e]
    assert named and "not named in the signed policy" in named[0]
    assert "ab" * 16 in named[0]


def test_coi1_says_why_when_the_policy_names_no_conflict_group(deployment):
    _resign_without_conflict(deployment)
    result = outcomes(deployment)["COI-1"]
    assert result.status == "fail"
    assert any("no [conflict] section" in e for e in result.evidence)


def test_the_stores_free_slots_are_not_malformed_envelopes(deployment):
    """A real store is a pool of slots, most of them empty (dropbox_app/store.py): a fresh
    deployment has hundreds. Found when `peluit policy check` first ran on a server installed
    by install.sh (tests/deploy/test_nspawn.py): every free slot failed STORE-1."""
    from dropbox_app.config import load
    from dropbox_app.store import Store

    Store(load(deployment).store_dir).refill(8)
    results = outcomes(deployment)
    assert results["STORE-1"].status == "pass", results["STORE-1"].evidence
    assert list(results["STORE-1"].evidence) == ["2 envelope(s), all well-formed"]


def test_unexpected_store_file_names_are_not_repeated(deployment):
    BREAK["STORE-1"][1](deployment)
    evidence = " ".join(outcomes(deployment)["STORE-1"].evidence)
    assert "laporan" not in evidence and "1 file(s)" in evidence


def test_cli_writes_reports_and_exit_codes(deployment, tmp_path, capsys):
    out = tmp_path / "report"
    args = ["policy", "check", "--config", str(deployment), "--out", str(out),
            "--workbench-deadlines", str(deployment.parent / "workbench-deadlines.json"),
            "--workbench-audit", str(deployment.parent / "workbench-audit.jsonl")]
    assert main(args) == 0
    report = json.loads((out / "check.json").read_text())
    assert report["passed"] and len(report["controls"]) == len(CONTROLS)
    assert all(c["status"] == "pass" and c["evidence"] for c in report["controls"])
    html = (out / "check.html").read_text()
    assert "<script" not in html and "NET-1" in html
    capsys.readouterr()

    BREAK["KDF-1"][0](deployment)
    assert main(args) == 1
    report = json.loads((out / "check.json").read_text())
    failed = [c for c in report["controls"] if c["status"] == "fail"]
    assert [c["id"] for c in failed] == ["KDF-1"]
    assert "t=1" in failed[0]["evidence"][0]
    assert "FAIL KDF-1" in capsys.readouterr().out


def test_workbench_policy_file_is_compared(deployment, tmp_path, capsys):
    wb = tmp_path / "workbench-policy.toml"
    wb.write_text("[calendar]\nacknowledge_days = 3\nverify_days = 3\ncomplete_days = 75\n")
    args = ["policy", "check", "--config", str(deployment), "--out", str(tmp_path / "r"),
            "--workbench-deadlines", str(wb)]
    assert main(args) == 0
    wb.write_text("[calendar]\ncomplete_days = 90\n")
    assert main(args) == 1
    assert "complete_days: workbench 90, policy 75" in capsys.readouterr().out
    wb.write_text("[calendar]\ncomplete_days = -1\n")
    assert main(args) == 1
    assert capsys.readouterr().err.startswith("peluit: ")


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["policy", "check", "--config", str(tmp_path / "none.toml"),
                 "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: cannot read") and err.count("\n") == 1
    bad = tmp_path / "peluit.toml"
    bad.write_text("[server\n")
    assert main(["policy", "check", "--config", str(bad), "--out", str(tmp_path)]) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_the_projects_own_torrc_and_units_pass(deployment):
    """The torrc that `peluit tor torrc` writes and the units deploy/ installs satisfy the
    controls as shipped (and a gateway with only the sealed client still counts as closed)."""
    import shutil

    from tor import services

    base = deployment.parent
    layout = services.Layout(base / "tor-real")
    layout.tor_dir.mkdir()
    services.setup(layout, owner=(os.getuid(), os.getgid()))
    (base / "tor" / "torrc").write_text(services.render_torrc(layout))
    units = Path(__file__).resolve().parents[3] / "deploy" / "systemd"
    for p in (base / "systemd").iterdir():
        p.unlink()
    for unit in units.glob("peluit*.service"):
        shutil.copy(unit, base / "systemd" / unit.name)
    results = outcomes(deployment)
    assert {k: r.evidence for k, r in results.items() if r.status != "pass"} == {}
    assert "peluit-retention.service" in " ".join(results["SYS-1"].evidence)


def test_pinned_signer_who_did_sign_passes(deployment):
    sig = json.loads((deployment.parent / "policy" / "1.0" / "signature.json").read_text())
    (deployment.parent / "officer.card").write_text(sig["card"])
    _set(deployment, "[reporter]\n", '[reporter]\npolicy_signers = ["officer.card"]\n')
    assert outcomes(deployment)["POL-1"].status == "pass"
    (deployment.parent / "officer.card").write_text("not a card")
    assert outcomes(deployment)["POL-1"].status == "fail"
