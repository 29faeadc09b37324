import dataclasses
import hashlib
import json
import sqlite3

import pytest
from nacl.signing import SigningKey

from crypto.encoding import canonical_json
from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from peluit.cli import main
from policies import auditlog
from policies.auditlog import GENESIS, AuditFormatError, Checkpoint, Entry, append, verify


def _log(n=6):
    entries, prev = [], None
    for i in range(n):
        prev = append(prev, at=f"2026-11-{10 + i:02d}T09:00Z", actor="a1b2", action="case.note",
                      case=f"c{i % 2}", details={"n": i, "field": "status"})
        entries.append(prev)
    return entries


def kinds(problems):
    return {p.kind for p in problems}


def test_chain_is_the_documented_format():
    e1, e2 = _log(2)
    raw = canonical_json({"seq": 1, "prev": GENESIS, "at": e1.at, "actor": "a1b2",
                          "action": "case.note", "case": "c0",
                          "details": {"field": "status", "n": 0}})
    assert e1.to_bytes() == raw
    assert e1.hash == hashlib.sha256(raw).hexdigest()
    assert e2.prev == e1.hash and e2.seq == 2


def test_intact_log_verifies():
    assert verify(_log()) == []
    assert verify([]) == []


def test_edited_entry_detected():
    log = _log()
    log[2] = dataclasses.replace(log[2], action="case.delete")
    problems = verify(log)
    assert kinds(problems) == {"edited"} and problems[0].seq == 3


def test_edited_entry_with_stored_hash_detected_even_at_the_tail():
    log = [dataclasses.replace(e, stored_hash=e.hash) for e in _log()]
    log[-1] = dataclasses.replace(log[-1], details={"n": 99})
    problems = verify(log)
    assert [(p.kind, p.seq) for p in problems] == [("edited", 6)]


def test_a_window_may_start_late_but_must_hold_together():
    log = _log(8)
    assert auditlog.verify_window(log[4:]) == []
    assert kinds(verify(log[4:])) == {"deleted"}  # a whole log may not
    assert auditlog.verify_window([]) == []
    gap = [*log[4:5], *log[6:]]
    assert [(p.kind, p.seq) for p in auditlog.verify_window(gap)] == [("deleted", 7)]
    edited = [*log[4:6], dataclasses.replace(log[6], actor="someone else"), *log[7:]]
    assert [(p.kind, p.seq) for p in auditlog.verify_window(edited)] == [("edited", 7)]


def test_deleted_entries_detected():
    log = _log()
    problems = verify(log[:2] + log[3:])
    assert kinds(problems) == {"deleted"} and "3" in problems[0].message
    assert kinds(verify(log[2:])) == {"deleted"}  # the first entries gone


def test_reordered_entries_detected():
    log = _log()
    log[2], log[3] = log[3], log[2]
    assert "reordered" in kinds(verify(log))


def test_inserted_entry_detected():
    log = _log()
    forged = append(log[1], at="2026-11-12T09:00Z", actor="x", action="case.close", case="c0")
    assert "inserted" in kinds(verify([*log[:2], forged, *log[2:]]))
    # a second chain start spliced in
    restart = append(None, at="2026-11-12T09:00Z", actor="x", action="case.close")
    assert "inserted" in kinds(verify([*log[:3], dataclasses.replace(restart, seq=4), *log[4:]]))


def test_truncation_and_rewrite_need_a_checkpoint():
    log = _log()
    officer = SigningKey.generate()
    cp = auditlog.sign_checkpoint(log[4], officer, signer="Compliance", at="2026-11-20")
    assert verify(log, [cp], [officer.verify_key]) == []
    # Truncating the tail leaves a valid chain, caught only by the checkpoint.
    assert verify(log[:3]) == []
    assert kinds(verify(log[:3], [cp])) == {"truncated"}
    # Rewriting from seq 3 on with fresh hashes: a valid chain, caught by the checkpoint.
    rewritten, prev = log[:2], log[1]
    for e in log[2:]:
        prev = append(prev, at=e.at, actor=e.actor, action="case.note", case=e.case,
                      details={"n": 0})
        rewritten.append(prev)
    assert verify(rewritten) == []
    assert kinds(verify(rewritten, [cp])) == {"rewritten"}


def test_checkpoint_signature_and_trust():
    log = _log()
    officer, stranger = SigningKey.generate(), SigningKey.generate()
    cp = auditlog.sign_checkpoint(log[-1], officer, signer="Compliance", at="2026-11-20")
    again = Checkpoint.from_bytes(cp.to_bytes())
    assert again == cp
    assert kinds(verify(log, [cp], [stranger.verify_key])) == {"checkpoint"}
    obj = json.loads(cp.to_bytes())
    obj["seq"] = 2
    with pytest.raises(AuditFormatError, match="signature"):
        Checkpoint.from_bytes(canonical_json(obj))
    with pytest.raises(AuditFormatError):
        Checkpoint.from_bytes(b"{not json")


def test_entry_validation():
    with pytest.raises(AuditFormatError):
        Entry(seq=0, prev=GENESIS, at="x", actor="a", action="b")
    with pytest.raises(AuditFormatError):
        Entry(seq=1, prev="zz", at="x", actor="a", action="b")
    with pytest.raises(AuditFormatError):
        append(None, at="x", actor="a", action="b", details={"ratio": 0.5})
    with pytest.raises(AuditFormatError):
        Entry.from_dict({"seq": 1})


def _export(path, entries):
    path.write_bytes(b"".join(auditlog.export_lines(entries)))


def test_cli_verify_export(tmp_path, capsys):
    log = _log()
    good = tmp_path / "audit.jsonl"
    _export(good, log)
    assert main(["audit", "verify", str(good)]) == 0
    assert "intact: 6 entries" in capsys.readouterr().out

    lines = good.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines[:3] + lines[4:]))
    assert main(["audit", "verify", str(bad)]) == 1
    assert "deleted" in capsys.readouterr().out

    edited = tmp_path / "edited.jsonl"
    edited.write_bytes(b"".join(lines).replace(b'"case.note"', b'"case.view"', 1))
    assert main(["audit", "verify", str(edited)]) == 1
    assert "edited: seq 1" in capsys.readouterr().out


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b'{"seq": 1}\n')
    assert main(["audit", "verify", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: line 1") and err.count("\n") == 1
    assert main(["audit", "verify", str(tmp_path / "missing")]) == 1
    junk.write_bytes(b"\xff\xfe\n")
    assert main(["audit", "verify", str(junk)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_cli_verify_vault_sqlite_table(tmp_path, capsys):
    log = _log()
    db = tmp_path / "workbench.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, entry BLOB, hash TEXT)")
    conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?)",
                     [(e.seq, e.to_bytes(), e.hash) for e in log])
    conn.commit()
    assert main(["audit", "verify", str(tmp_path)]) == 0
    conn.execute("UPDATE audit_log SET entry = replace(entry, 'c1', 'c9') WHERE seq = 6")
    conn.commit()
    conn.close()
    assert main(["audit", "verify", str(tmp_path)]) == 1
    assert "edited: seq 6" in capsys.readouterr().out


def test_cli_checkpoint_round_trip(tmp_path, capsys, monkeypatch):
    import io

    officer = AuditorIdentity.generate("Kepatuhan")
    sealed = tmp_path / "officer.sealed"
    sealed.write_bytes(officer.seal("kata sandi", TEST_PARAMS))
    card = tmp_path / "officer.card"
    card.write_bytes(officer.card().to_bytes())
    log = _log()
    export = tmp_path / "audit.jsonl"
    _export(export, log)
    monkeypatch.setattr("sys.stdin", io.StringIO("kata sandi\n"))
    cp = tmp_path / "cp.json"
    assert main(["audit", "checkpoint", str(export), "--identity", str(sealed),
                 "--out", str(cp)]) == 0
    assert main(["audit", "verify", str(export), "--checkpoint", str(cp),
                 "--trust", str(card)]) == 0
    _export(export, log[:4])
    assert main(["audit", "verify", str(export), "--checkpoint", str(cp)]) == 1
    assert "truncated" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    assert main(["audit", "checkpoint", str(export), "--identity", str(sealed),
                 "--out", str(cp)]) == 1
    assert "wrong passphrase" in capsys.readouterr().err


def test_cli_vault_odd_path_and_unreadable_db(tmp_path, capsys):
    log = _log(3)
    vault = tmp_path / "a dir #1?"
    vault.mkdir()
    conn = sqlite3.connect(vault / "workbench.sqlite")
    conn.execute("CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, entry BLOB, hash TEXT)")
    conn.executemany("INSERT INTO audit_log VALUES (?, ?, ?)",
                     [(e.seq, e.to_bytes(), e.hash) for e in log])
    conn.commit()
    conn.close()
    assert main(["audit", "verify", str(vault)]) == 0
    (vault / "workbench.sqlite").write_bytes(b"not a database at all" * 100)
    assert main(["audit", "verify", str(vault)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: workbench.sqlite") and err.count("\n") == 1
