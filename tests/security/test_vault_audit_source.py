"""`peluit audit verify` on a vault reads only the real log (issue 11, finding 3).

The attacker can write the vault directory while it is locked. The real log has lost its newest
entries (deleted with sqlite3), which a compliance officer's signed checkpoint covers; the
attacker plants a clean copy of the log where the old verifier looked first. The goal: the
deletion goes unreported. It must be reported or the directory refused."""

from __future__ import annotations

import shutil
import sqlite3

from sqlalchemy.orm import Session

from crypto.identity import AuditorIdentity
from peluit.cli import main
from policies import auditlog
from tests.fixtures.workbench_vault import make_vault
from workbench import audit, db


def _vault_with_checkpoint(tmp_path):
    tv = make_vault(tmp_path)
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as session, session.begin():
        for i in range(6):
            audit.record(session, tv.lead.key_id, "case.view", case=f"2026-{i:06d}")
    engine.dispose()
    entries = auditlog.load_vault(tv.path)
    officer = AuditorIdentity.generate("Kepatuhan")
    cp = auditlog.sign_checkpoint(entries[-1], officer.signing, signer="Kepatuhan",
                                  at="2026-11-23")
    cp_path = tmp_path / "checkpoint.json"
    cp_path.write_bytes(cp.to_bytes())
    clean = b"".join(auditlog.export_lines(entries))
    # The attack on the real log: the newest two entries go.
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    top = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (top - 2,))
    conn.commit()
    conn.close()
    return tv, cp_path, clean


def test_the_real_log_shows_the_deletion(tmp_path, capsys):
    tv, cp, _clean = _vault_with_checkpoint(tmp_path)
    assert main(["audit", "verify", str(tv.path), "--checkpoint", str(cp)]) == 1
    out = capsys.readouterr().out
    assert "truncated" in out
    assert f"table audit_log of {tv.path / db.DB_FILE}" in out  # says which source


def test_a_planted_audit_jsonl_does_not_hide_it(tmp_path, capsys):
    tv, cp, clean = _vault_with_checkpoint(tmp_path)
    (tv.path / "audit.jsonl").write_bytes(clean)
    code = main(["audit", "verify", str(tv.path), "--checkpoint", str(cp)])
    captured = capsys.readouterr()
    assert code != 0  # the attacker's goal, "intact", is not reached
    assert "intact" not in captured.out
    assert "audit.jsonl" in captured.err and "refused" in captured.err
    assert captured.err.count("\n") == 1


def test_a_second_database_does_not_hide_it(tmp_path, capsys):
    tv, cp, clean = _vault_with_checkpoint(tmp_path)
    # A copy of the vault database from before the deletion, under a name sorting first.
    shutil.copy(tmp_path / "vault" / db.DB_FILE, tv.path / "a.sqlite")
    conn = sqlite3.connect(tv.path / "a.sqlite")
    conn.execute("DELETE FROM audit_log")
    conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?)",
                     _rows(clean))
    conn.commit()
    conn.close()
    code = main(["audit", "verify", str(tv.path), "--checkpoint", str(cp)])
    captured = capsys.readouterr()
    assert code != 0 and "intact" not in captured.out
    assert "a.sqlite" in captured.err and "refused" in captured.err


def _rows(clean: bytes):
    rows = []
    for n, line in enumerate(clean.splitlines(), 1):
        e = auditlog.parse_line(line, f"line {n}")
        rows.append((e.seq, e.to_bytes(), e.hash))
    return rows
