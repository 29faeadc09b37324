"""Attacks on a locked vault by someone who can write its directory (issue 11, findings 1, 2).

Each test is the attacker's move, made with sqlite3 and file writes only, and bundles forged
with the public formats of docs/crypto.md; then the team uses the vault as usual. Each checks
the attacker's goal (the secret recovered, the report injected, the removed member back in),
not only that an error was raised."""

from __future__ import annotations

import contextlib
import io
import json
import os

import pytest
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import SealedBox
from sqlalchemy.orm import Session

from crypto.identity import Card, ServerKey
from crypto.kdf import TEST_PARAMS, subkey
from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    PASS,
    VaultFixture,
    add_person,
    build_inbox,
    make_vault,
    report_item,
    vault_sql,
)
from workbench import db, vault
from workbench.importer import ImportRefused, import_bundle

NEW_PASS = "a brand new colleague passphrase"


def _sql(tv, statement, params=()):
    """The attacker's hand: plain sqlite3 on the locked vault's file."""
    return vault_sql(tv.path, statement, params)


def _last_audit_action(tv):
    [(entry,)] = _sql(tv, "SELECT entry FROM audit_log ORDER BY seq DESC LIMIT 1")
    return json.loads(entry)["action"]


# --- finding 1: a vault key the attacker made ----------------------------------------------

def test_a_replaced_vault_key_copy_does_not_leak_a_new_colleagues_secret(tmp_path):
    tv = make_vault(tmp_path)
    lead_id = tv.lead.key_id
    # The attacker: a vault key of their own, sealed to the lead's public box key (the card is
    # in the database, in the clear), written over the lead's copy.
    mine = os.urandom(32)
    [(card,)] = _sql(tv, "SELECT card FROM auditors WHERE key_id = ?", (lead_id,))
    box_pk = Card.from_bytes(bytes(card)).box_key
    record_file = tv.path / "auditors" / f"{lead_id}.json"
    record = json.loads(record_file.read_bytes())
    from crypto.encoding import b64encode
    record["vault_key"] = b64encode(SealedBox(box_pk).encrypt(mine))
    record_file.write_text(json.dumps(record))

    # The lead comes in and adds a colleague, as on any day.
    refused = None
    try:
        lead = vault.unlock(tv.path, lead_id, PASS)
        engine = db.make_engine(tv.path)
        with db.unlocked(lead.vault_key), Session(engine) as s, s.begin():
            vault.add_auditor(s, lead, "Eka", "auditor", NEW_PASS, params=TEST_PARAMS)
        engine.dispose()
    except vault.VaultError as exc:
        refused = str(exc)

    # The attacker's goal: Eka's X25519 secret, from the database, with the key they made.
    recovered = []
    for key_id, raw in _sql(tv, "SELECT key_id, box_secret FROM auditors"):
        if key_id == lead_id or raw is None:
            continue
        raw = bytes(raw)
        col = subkey(mine, b"peluit-vault-col")
        for ad in (b"peluit-vault-column-v1\0auditor.box_secret",
                   b"peluit-vault-box-secret-v2\0" + key_id.encode()):
            with contextlib.suppress(NaclCryptoError):
                recovered.append(crypto_aead_xchacha20poly1305_ietf_decrypt(
                    raw[25:], ad, raw[1:25], col))
    assert recovered == []
    assert refused is not None and "key check" in refused and "\n" not in refused
    assert _sql(tv, "SELECT count(*) FROM auditors") == [(1,)]  # nothing written


# --- finding 2: trust anchors as plain rows ----------------------------------------------------

def test_an_inserted_server_card_and_a_deleted_deployment_do_not_let_a_forged_bundle_in(
        tmp_path):
    tv = make_vault(tmp_path)
    attacker = ServerKey.generate()
    _sql(tv, "INSERT INTO server_cards (key_id, card, pinned_day, active) VALUES (?, ?, ?, 1)",
         (attacker.key_id, attacker.card().to_bytes(), "2026-11-23"))
    _sql(tv, "DELETE FROM settings WHERE name = 'deployment'")
    # A bundle in the public format, signed by the attacker's key, for another deployment,
    # with a report sealed to the lead's public card.
    forged_tv = VaultFixture(tv.path, attacker, tv.lead, "f" * 32)
    injected = report_item("Laporan palsu: tuduhan terhadap pelapor")
    bundle = build_inbox(forged_tv, [injected], seq=1)

    refused = None
    try:
        lead = vault.unlock(tv.path, tv.lead.key_id, PASS)
        import_bundle(lead, io.BytesIO(bundle))
    except (vault.VaultError, ImportRefused) as exc:
        refused = str(exc)
    # The goal: the injected report in the vault.
    assert _sql(tv, "SELECT count(*) FROM reports WHERE id = ?", (injected.report,)) == [(0,)]
    assert _sql(tv, "SELECT count(*) FROM submissions") == [(0,)]
    assert refused and "server cards" in refused and "settings" in refused
    # The lead could still open the vault: the refusal is in the audit log.
    assert _last_audit_action(tv) == "vault.tampered"


def test_a_missing_deployment_id_is_a_refusal_never_a_skipped_check(tmp_path):
    # Even with a valid seal (say, a vault whose setting went missing some other way), the
    # import refuses rather than checking nothing.
    tv = make_vault(tmp_path)
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        s.delete(s.get(db.Setting, "deployment"))
    engine.dispose()
    with pytest.raises(ImportRefused, match="no deployment id"):
        import_bundle(tv.lead, io.BytesIO(build_inbox(
            VaultFixture(tv.path, tv.server, tv.lead, "f" * 32), [report_item()], seq=1)))


def test_a_lowered_sequence_number_does_not_let_an_old_bundle_be_replayed(tmp_path):
    tv = make_vault(tmp_path)
    old = build_inbox(tv, [report_item("laporan pertama")], seq=1)
    import_bundle(tv.lead, io.BytesIO(old))
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report_item("kedua")], seq=2)))
    imports_before = _sql(tv, "SELECT count(*) FROM audit_log WHERE entry LIKE "
                              "'%\"bundle.import\"%'")
    # The attacker lowers the sequence the vault accepted from the server key.
    _sql(tv, "UPDATE bundle_sequences SET seq = 0 WHERE direction = 'inbox'")
    replayed = None
    try:
        lead = vault.unlock(tv.path, tv.lead.key_id, PASS)
        replayed = import_bundle(lead, io.BytesIO(old))
    except (vault.VaultError, ImportRefused) as exc:
        assert "bundle sequences" in str(exc)
    # The goal: the old bundle accepted again.
    assert replayed is None
    assert _sql(tv, "SELECT count(*) FROM audit_log WHERE entry LIKE "
                    "'%\"bundle.import\"%'") == imports_before
    assert _last_audit_action(tv) == "vault.tampered"


def test_a_removed_auditor_set_active_again_stays_out(tmp_path):
    tv = make_vault(tmp_path)
    budi = add_person(tv, "Budi", "auditor")
    saved = (tv.path / "auditors" / f"{budi.key_id}.json").read_bytes()
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        vault.remove_auditor(s, tv.lead, "Budi")
    engine.dispose()
    vault.wipe_record(tv.path, budi.key_id)
    # The attacker (or Budi himself, with a copy) puts his record back and reactivates him.
    (tv.path / "auditors" / f"{budi.key_id}.json").write_bytes(saved)
    _sql(tv, "UPDATE auditors SET active = 1 WHERE key_id = ?", (budi.key_id,))
    got_in = None
    try:
        got_in = vault.unlock(tv.path, budi.key_id, OTHER_PASS)
    except vault.VaultError as exc:
        assert "auditors" in str(exc)
    assert got_in is None  # the goal: Budi holding the vault key again


def test_a_raised_role_gives_no_lead_powers(tmp_path):
    tv = make_vault(tmp_path)
    budi = add_person(tv, "Budi", "auditor")
    _sql(tv, "UPDATE auditors SET role = 'lead' WHERE key_id = ?", (budi.key_id,))
    refused = None
    try:
        as_budi = vault.unlock(tv.path, budi.key_id, OTHER_PASS)
        engine = db.make_engine(tv.path)
        with db.unlocked(as_budi.vault_key), Session(engine) as s, s.begin():
            vault.remove_auditor(s, as_budi, "Lead Ani")  # what only a lead may do
        engine.dispose()
    except vault.VaultError as exc:
        refused = str(exc)
    # The goal: the lead removed by an auditor.
    assert _sql(tv, "SELECT active FROM auditors WHERE key_id = ?", (tv.lead.key_id,)) == [(1,)]
    assert refused and "auditors" in refused
    assert _last_audit_action(tv) == "vault.tampered"


def test_a_deleted_seal_is_not_an_old_vault_to_upgrade(tmp_path):
    # Downgrade: remove the seal and mark the vault and the record as version 1, so that the
    # upgrade would sign over the attacker's rows. The row-bound secrets say otherwise.
    tv = make_vault(tmp_path)
    attacker = ServerKey.generate()
    _sql(tv, "INSERT INTO server_cards (key_id, card, pinned_day, active) VALUES (?, ?, ?, 1)",
         (attacker.key_id, attacker.card().to_bytes(), "2026-11-23"))
    _sql(tv, "DELETE FROM vault_seal")
    (tv.path / "vault.json").write_text('{"format": "peluit-vault", "version": 1}')
    rf = tv.path / "auditors" / f"{tv.lead.key_id}.json"
    rec = json.loads(rf.read_bytes())
    for k in ("vault", "seal_key", "key_check"):
        rec.pop(k, None)
    rec["version"] = 1
    rf.write_text(json.dumps(rec))
    with pytest.raises(vault.VaultError, match="not sealed"):
        vault.unlock(tv.path, tv.lead.key_id, PASS)
    assert _sql(tv, "SELECT count(*) FROM vault_seal") == [(0,)]  # nothing signed over


def test_a_lowered_reply_sequence_does_not_let_an_export_reuse_a_number(tmp_path):
    # The gateway refuses a reply bundle whose number it has seen; an attacker who lowers the
    # vault's reply sequence would make the next export collide with (or replay) an old one.
    from workbench import outbox
    from workbench.exporter import export_replies

    tv = make_vault(tmp_path)
    item = report_item()
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    export_replies(tv.lead, tmp_path / "r1.bundle")
    engine = db.make_engine(tv.path)
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        outbox.queue_reply(s, item.report, tv.lead.key_id, "Kapan?")
    engine.dispose()
    _sql(tv, "UPDATE bundle_sequences SET seq = 0 WHERE direction = 'reply'")
    with pytest.raises(vault.VaultError, match="bundle sequences"):
        export_replies(tv.lead, tmp_path / "r2.bundle")
    assert not (tmp_path / "r2.bundle").exists()  # the goal: a bundle numbered 1 again
    assert _last_audit_action(tv) == "vault.tampered"


def test_the_cli_refuses_in_one_line_naming_what_changed(tmp_path, capsys):
    from peluit.cli import main

    tv = make_vault(tmp_path)
    attacker = ServerKey.generate()
    _sql(tv, "INSERT INTO server_cards (key_id, card, pinned_day, active) VALUES (?, ?, ?, 1)",
         (attacker.key_id, attacker.card().to_bytes(), "2026-11-23"))
    _sql(tv, "DELETE FROM settings WHERE name = 'deployment'")
    forged = tmp_path / "forged.bundle"
    injected = report_item("Laporan palsu")
    forged.write_bytes(build_inbox(VaultFixture(tv.path, attacker, tv.lead, "f" * 32),
                                   [injected], seq=1))
    (tmp_path / "p").write_text(PASS + "\n")
    code = main(["workbench", "import", str(forged), "--vault", str(tv.path),
                 "--passphrase-file", str(tmp_path / "p"), "--demo-not-air-gapped"])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    [line] = [x for x in err if not x.startswith("***")]  # one line besides the demo banner
    assert "server cards, settings" in line and "refused" in line
    assert _sql(tv, "SELECT count(*) FROM reports WHERE id = ?", (injected.report,)) == [(0,)]
