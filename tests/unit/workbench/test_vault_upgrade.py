"""A vault made by main at 3cb8afe (tests/fixtures/vault_v1) upgrades in place at the first
unlock by a member, keeps everything it held, and is then protected like a new vault."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from nacl.public import SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.encoding import b64encode
from crypto.identity import Card, ServerKey
from policies import auditlog
from tests.fixtures.workbench_vault import VaultFixture, build_inbox, report_item, vault_sql
from workbench import db, filestore, vault
from workbench.importer import ImportRefused, import_bundle

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "vault_v1"
FACTS = json.loads((FIXTURE / "fixture.json").read_text())
PEOPLE = FACTS["people"]


@pytest.fixture
def old(tmp_path):
    shutil.copytree(FIXTURE / "vault", tmp_path / "vault")
    return tmp_path / "vault"


def _person(name):
    return PEOPLE[name]["key_id"], PEOPLE[name]["passphrase"]


def test_the_fixture_is_a_vault_of_the_old_format(old):
    assert json.loads((old / "vault.json").read_text()) == {"format": "peluit-vault",
                                                             "version": 1}
    assert {r.version for r in vault.auditor_records(old)} == {1}
    assert "vault_seal" not in {n for (n,) in vault_sql(
        old, "SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_the_first_unlock_upgrades_in_place_and_keeps_everything(old):
    before = {t: vault_sql(old, f"SELECT count(*) FROM {t}")[0][0]  # noqa: S608
              for t in ("reports", "submissions", "cases", "replies", "audit_log")}
    lead = vault.unlock(old, *_person("Lead Ani"))
    assert lead.role == "lead" and lead.can_read_content
    assert json.loads((old / "vault.json").read_text())["version"] == vault.VERSION
    records = {r.name: r for r in vault.auditor_records(old)}
    assert set(records) == {"Lead Ani", "Auditor Budi", "Compliance Citra"}
    assert {r.version for r in records.values()} == {vault.VERSION}
    assert db.current_revision(db.make_engine(old)) == db.head_revision()
    after = {t: vault_sql(old, f"SELECT count(*) FROM {t}")[0][0]  # noqa: S608
             for t in before}
    assert after == {**before, "audit_log": before["audit_log"] + 1}  # + vault.upgrade
    entries = auditlog.load_vault(old)
    assert auditlog.verify(entries) == [] and entries[-1].action == "vault.upgrade"
    # The content is still there and still opens (text, and the file in its pack).
    engine = db.make_engine(old)
    with db.unlocked(lead.vault_key), Session(engine) as s:
        subs = s.scalars(select(db.Submission).order_by(db.Submission.seq)).all()
        assert subs[0].content["what"] == "Pungli di loket pelayanan"
        f = next(x for x in subs if x.kind == "file")
        data = b"".join(filestore.iter_plaintext(old, f, vault.vault_box_key(lead.vault_key)))
        assert data.startswith(b"%PDF-1.4 kuitansi")
        assert len(vault.box_keys(s, lead.vault_key)) == 4
    engine.dispose()
    # Every other member gets in too, compliance included; the removed one does not.
    budi = vault.unlock(old, *_person("Auditor Budi"))
    assert budi.vault_key == lead.vault_key
    citra = vault.unlock(old, *_person("Compliance Citra"))
    assert citra.role == "compliance" and citra.vault_key is None
    dedi_id, dedi_pass = _person("Auditor Dedi")
    (old / "auditors" / f"{dedi_id}.json").write_bytes(
        (FIXTURE / "removed-auditor-record.json").read_bytes())
    with pytest.raises(vault.VaultError):
        vault.unlock(old, dedi_id, dedi_pass)


def test_an_upgraded_vault_imports_the_next_bundle_and_refuses_the_old_one(old):
    lead = vault.unlock(old, *_person("Lead Ani"))
    server = ServerKey.from_bytes(FACTS["server_key"].encode())
    tv = VaultFixture(old, server, lead, FACTS["deployment"])
    with pytest.raises(ImportRefused, match="already imported"):
        import_bundle(lead, io.BytesIO((FIXTURE / "inbox-1.bundle").read_bytes()))
    result = import_bundle(lead, io.BytesIO(build_inbox(tv, [report_item("baru")], seq=2)))
    assert result.imported == 1


def test_after_the_upgrade_a_reactivated_removed_member_stays_out(old):
    vault.unlock(old, *_person("Lead Ani"))
    dedi_id, dedi_pass = _person("Auditor Dedi")
    (old / "auditors" / f"{dedi_id}.json").write_bytes(
        (FIXTURE / "removed-auditor-record.json").read_bytes())
    vault_sql(old, "UPDATE auditors SET active = 1 WHERE key_id = ?", (dedi_id,))
    with pytest.raises(vault.VaultError, match="auditors"):
        vault.unlock(old, dedi_id, dedi_pass)


def test_a_replaced_key_copy_in_an_old_vault_is_refused_before_the_upgrade(old):
    # On a version-1 vault the attacker's copy would be accepted by 3cb8afe; the upgrade checks
    # the key by opening the person's own secret with it first.
    key_id, passphrase = _person("Lead Ani")
    [(card,)] = vault_sql(old, "SELECT card FROM auditors WHERE key_id = ?", (key_id,))
    rf = old / "auditors" / f"{key_id}.json"
    rec = json.loads(rf.read_bytes())
    rec["vault_key"] = b64encode(SealedBox(Card.from_bytes(bytes(card)).box_key)
                                 .encrypt(bytes(32)))
    rf.write_text(json.dumps(rec))
    with pytest.raises(vault.VaultError, match="replaced"):
        vault.unlock(old, key_id, passphrase)
    assert json.loads((old / "vault.json").read_text())["version"] == 1  # nothing upgraded


def test_a_compliance_officer_cannot_be_the_one_to_upgrade(old):
    with pytest.raises(vault.VaultError, match="must unlock it once"):
        vault.unlock(old, *_person("Compliance Citra"))


def test_the_head_constant_is_the_newest_migration():
    assert db.head_revision() == db.HEAD
