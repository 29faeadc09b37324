import json

import pytest
from sqlalchemy.orm import Session

from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from tests.fixtures.workbench_vault import (
    DEPLOYMENT,
    OTHER_PASS,
    PASS,
    add_person,
    make_vault,
)
from workbench import db, vault


def test_init_lays_out_the_vault(tmp_path):
    tv = make_vault(tmp_path)
    assert vault.is_vault(tv.path)
    assert (tv.path / db.DB_FILE).is_file() and (tv.path / "files").is_dir()
    assert (tv.path.stat().st_mode & 0o777) == 0o700
    [record] = vault.auditor_records(tv.path)
    assert record.role == "lead" and record.sealed_vault_key is not None
    raw = (tv.path / "auditors" / f"{record.key_id}.json").read_bytes()
    assert bytes(tv.lead.identity.box).hex() not in raw.hex()
    assert not list(tmp_path.glob(".vault.init-*"))  # nothing left half-made


def test_unlock_gives_the_same_vault_key_to_every_auditor(tmp_path):
    tv = make_vault(tmp_path)
    add_person(tv, "Budi", "auditor")
    a = vault.unlock(tv.path, "Lead Ani", PASS)
    b = vault.unlock(tv.path, "Budi", OTHER_PASS)
    assert a.vault_key == b.vault_key == tv.lead.vault_key
    assert (a.role, b.role) == ("lead", "auditor")


def test_wrong_passphrase_is_refused(tmp_path):
    tv = make_vault(tmp_path)
    with pytest.raises(vault.VaultError, match="wrong passphrase"):
        vault.unlock(tv.path, "Lead Ani", PASS + "x")


def test_compliance_officer_never_holds_the_vault_key(tmp_path):
    tv = make_vault(tmp_path)
    add_person(tv, "Citra", "compliance")
    record = vault.find_record(tv.path, "Citra")
    assert record.sealed_vault_key is None  # not even sealed: the passphrase cannot reach it
    c = vault.unlock(tv.path, "Citra", OTHER_PASS)
    assert c.vault_key is None and not c.can_read_content
    with pytest.raises(vault.VaultError):
        c.require_content()
    engine = db.make_engine(tv.path)
    with Session(engine) as s, pytest.raises(vault.VaultError, match="only an auditor or a lead"):
        vault.add_auditor(s, c, "Dodi", "auditor", OTHER_PASS, params=TEST_PARAMS)
    engine.dispose()


def test_promoting_a_compliance_officer_in_the_database_does_not_give_content(tmp_path):
    tv = make_vault(tmp_path)
    add_person(tv, "Citra", "compliance")
    engine = db.make_engine(tv.path)
    with Session(engine) as s, s.begin():
        s.execute(db.Auditor.__table__.update().where(db.Auditor.name == "Citra")
                  .values(role="lead"))
    engine.dispose()
    with pytest.raises(vault.VaultError, match=r"changed outside the workbench \(auditors\)"):
        vault.unlock(tv.path, "Citra", OTHER_PASS)


def test_init_refuses_bad_input(tmp_path):
    tv = make_vault(tmp_path)
    server_card = tv.server.card().to_bytes()
    with pytest.raises(vault.VaultError, match="not empty"):
        vault.init(tv.path, "X", PASS, server_card, DEPLOYMENT, params=TEST_PARAMS)
    auditor_card = AuditorIdentity.generate("A").card().to_bytes()
    with pytest.raises(vault.VaultError, match="not a server card"):
        vault.init(tmp_path / "v2", "X", PASS, auditor_card, DEPLOYMENT, params=TEST_PARAMS)
    forged = json.loads(server_card)
    forged["name"] = "evil"
    with pytest.raises(vault.VaultError, match="not valid"):
        vault.init(tmp_path / "v3", "X", PASS, json.dumps(forged).encode(), DEPLOYMENT,
                   params=TEST_PARAMS)
    with pytest.raises(vault.VaultError, match="at least"):
        vault.init(tmp_path / "v4", "X", "short", server_card, DEPLOYMENT, params=TEST_PARAMS)
    with pytest.raises(vault.VaultError, match="deployment id"):
        vault.init(tmp_path / "v5", "X", PASS, server_card, "nothex", params=TEST_PARAMS)
    assert not (tmp_path / "v2").exists() and not (tmp_path / "v4").exists()


def test_duplicate_names_and_unknown_roles_are_refused(tmp_path):
    tv = make_vault(tmp_path)
    with pytest.raises(vault.VaultError, match="already has"):
        add_person(tv, "Lead Ani", "auditor")
    with pytest.raises(vault.VaultError, match="unknown role"):
        add_person(tv, "Eko", "admin")


def test_idle_web_sessions_expire_and_lock(tmp_path):
    from workbench.web.security import SessionStore

    tv = make_vault(tmp_path)
    now = [0.0]
    store = SessionStore(idle_seconds=60, clock=lambda: now[0])
    s = store.new()
    s.unlocked = vault.unlock(tv.path, "Lead Ani", PASS)
    now[0] = 59
    assert store.get(s.token) is s
    now[0] = 120
    assert store.get(s.token) is None
    assert s.unlocked.vault_key is None  # the key was dropped, not just the cookie
