"""`peluit audit verify` and `peluit audit checkpoint` on a real workbench vault, and a policy
signed with the compliance officer's workbench identity."""

from __future__ import annotations

import io
import shutil
import sqlite3

import pytest
from sqlalchemy.orm import Session

from crypto.identity import ServerKey
from crypto.kdf import TEST_PARAMS
from peluit.cli import main
from policies import documents
from tests.fixtures.workbench_vault import vault_sql
from workbench import audit, db, vault

PASS = "kata sandi yang cukup panjang sekali"


@pytest.fixture
def vault_dir(tmp_path):
    path = tmp_path / "vault"
    lead, _card = vault.init(path, "Pimpinan", PASS, ServerKey.generate().card().to_bytes(),
                             "ab" * 16, params=TEST_PARAMS)
    engine = db.make_engine(path)
    try:
        with Session(engine) as session, session.begin(), db.unlocked(lead.vault_key):
            vault.add_auditor(session, lead, "Kepatuhan", "compliance", PASS, params=TEST_PARAMS)
            for i in range(5):
                audit.record(session, lead.key_id, "case.note", case=f"c{i % 2}",
                             details={"n": i}, at=f"2026-11-2{i}T09:00Z")
    finally:
        engine.dispose()
    return path


def _officer_record(path):
    return next(r for r in (path / "auditors").iterdir()
                if '"role": "compliance"' in r.read_text())


def test_verify_and_checkpoint_a_real_vault(vault_dir, tmp_path, monkeypatch, capsys):
    assert main(["audit", "verify", str(vault_dir)]) == 0
    assert "intact" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
    cp = tmp_path / "checkpoint.json"
    assert main(["audit", "checkpoint", str(vault_dir), "--identity",
                 str(_officer_record(vault_dir)), "--out", str(cp)]) == 0
    assert main(["audit", "verify", str(vault_dir), "--checkpoint", str(cp)]) == 0

    copy = tmp_path / "copy"
    shutil.copytree(vault_dir, copy)
    vault_sql(copy, "DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
    assert main(["audit", "verify", str(copy)]) == 0  # the chain alone cannot see this
    assert main(["audit", "verify", str(copy), "--checkpoint", str(cp)]) == 1
    assert "truncated" in capsys.readouterr().out


@pytest.mark.parametrize(("statement", "kind"), [
    ("UPDATE audit_log SET entry = replace(entry, 'case.note', 'case.view') WHERE seq = 3",
     "edited"),
    ("DELETE FROM audit_log WHERE seq = 2", "deleted"),
    ("UPDATE audit_log SET seq = 100 WHERE seq = 2", "reordered"),
])
def test_tampered_vault_is_reported(vault_dir, capsys, statement, kind):
    vault_sql(vault_dir, statement)
    assert main(["audit", "verify", str(vault_dir)]) == 1
    assert kind in capsys.readouterr().out


def test_reordered_rows_are_reported(vault_dir, capsys):
    # Rewrite the table with entries 2 and 3 swapped, each keeping its content and hash.
    conn = sqlite3.connect(vault_dir / db.DB_FILE)
    rows = {s: (e, h) for s, e, h in conn.execute("SELECT seq, entry, hash FROM audit_log")}
    conn.execute("DELETE FROM audit_log")
    order = [1, 3, 2, 4, 5]
    conn.executemany("INSERT INTO audit_log (seq, entry, hash) VALUES (?, ?, ?)",
                     [(i + 100, *rows[s]) for i, s in enumerate(order)])
    conn.commit()
    conn.close()
    assert main(["audit", "verify", str(vault_dir)]) == 1
    assert "reordered" in capsys.readouterr().out


def test_policy_signed_with_the_workbench_identity(vault_dir, tmp_path, monkeypatch, capsys):
    version = tmp_path / "policy" / "1.0"
    shutil.copytree(documents.DEFAULT_DIR / "1.0", version)
    (version / "signature.json").unlink(missing_ok=True)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASS + "\n"))
    assert main(["policy", "sign", str(version), "--identity",
                 str(_officer_record(vault_dir))]) == 0
    assert documents.verify_version(version).signer == "Kepatuhan"
    lead_record = next(r for r in (vault_dir / "auditors").iterdir()
                       if '"role": "lead"' in r.read_text())
    assert main(["policy", "sign", str(version), "--identity", str(lead_record)]) == 1
    assert "not a compliance officer" in capsys.readouterr().err
