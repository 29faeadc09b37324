import sqlite3

import pytest
from sqlalchemy.orm import Session

from workbench import db, trust

KEY = bytes(range(32))
OTHER = bytes(32)


@pytest.fixture
def engine(tmp_path):
    e = db.make_engine(tmp_path)
    db.create_schema(e)
    with e.begin() as conn:  # what vault.init does: the (empty) trust records, sealed
        trust.reseal(conn, trust.seal_keys(KEY))
    yield e
    e.dispose()


def _store(engine, **fields):
    with db.unlocked(KEY), Session(engine) as s, s.begin():
        s.add(db.Report(id="r" * 32, reporter_key=b"k" * 32, channel="web",
                        received_day="2026-11-23"))
        s.add(db.Submission(id="s" * 32, seq=1, report_id="r" * 32, kind="file",
                            received_day="2026-11-23", import_seq=1, **fields))


def test_encrypted_columns_round_trip_and_leave_no_plaintext(engine, tmp_path):
    _store(engine, content={"what": "Korupsi dana desa"}, file_name="rahasia.pdf",
           content_type="application/pdf", size=12345, sha256="ab" * 32)
    with db.unlocked(KEY), Session(engine) as s:
        sub = s.get(db.Submission, "s" * 32)
        assert sub.content == {"what": "Korupsi dana desa"}
        assert (sub.file_name, sub.size, sub.sha256) == ("rahasia.pdf", 12345, "ab" * 32)
    engine.dispose()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob(db.DB_FILE + "*"))
    for secret in (b"Korupsi", b"rahasia", b"12345", b"abababab", b"application/pdf"):
        assert secret not in raw


def test_locked_vault_reads_and_writes_nothing(engine):
    _store(engine, content={"what": "x"}, size=1, sha256="00" * 32)
    with Session(engine) as s, pytest.raises(db.VaultLockedError):
        s.get(db.Submission, "s" * 32)
    with Session(engine) as s, pytest.raises(Exception) as exc, s.begin():
        s.add(db.Reply(id="q" * 32, seq=1, report_id="r" * 32, kind="question", text="halo",
                       author="a" * 32, created_day="2026-11-23"))
    assert isinstance(db.vault_error_of(exc.value), db.VaultLockedError)
    assert "halo" not in str(exc.value)  # bound values never appear in error messages


def test_another_key_does_not_decrypt(engine):
    _store(engine, content={"what": "x"}, size=1, sha256="00" * 32)
    # Refused at once: the trust records' seal does not verify under another key.
    with db.unlocked(OTHER), Session(engine) as s, pytest.raises(trust.TamperedVault):
        s.get(db.Submission, "s" * 32)
    with Session(engine) as s, pytest.raises(db.TamperedError):
        s.info[trust.SKIP] = True  # and the column itself does not decrypt either
        with db.unlocked(OTHER):
            s.get(db.Submission, "s" * 32)


def test_a_value_moved_to_another_column_does_not_decrypt(engine, tmp_path):
    _store(engine, content={"what": "x"}, file_name="a.pdf", content_type="text/plain",
           size=1, sha256="00" * 32)
    engine.dispose()
    conn = sqlite3.connect(tmp_path / db.DB_FILE)
    conn.execute("UPDATE submissions SET content_type = file_name")
    conn.commit()
    conn.close()
    with db.unlocked(KEY), Session(engine) as s, pytest.raises(db.TamperedError):
        s.get(db.Submission, "s" * 32)


def test_unlocked_is_scoped(engine):
    assert not db.is_unlocked()
    with db.unlocked(KEY):
        assert db.is_unlocked()
        with db.unlocked(None):
            assert not db.is_unlocked()
    assert not db.is_unlocked()
