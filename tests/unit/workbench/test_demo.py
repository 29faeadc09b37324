import webtest

from crypto.identity import Card, ServerKey
from workbench import airgap, demo, vault


def test_demo_vault_is_made_once_and_says_not_air_gapped(tmp_path):
    server = ServerKey.generate()
    first = demo.prepare(tmp_path, server.card().to_bytes(), "c" * 32)
    assert Card.from_bytes(first.card).kind == "auditor"
    assert len(first.passphrase.split()) == 6
    assert (tmp_path / demo.NOTE_FILE).stat().st_mode & 0o777 == 0o600
    again = demo.prepare(tmp_path, server.card().to_bytes(), "c" * 32)
    assert again.card is None and again.passphrase == first.passphrase
    assert vault.unlock(first.path, first.name, first.passphrase).role == "lead"
    page = webtest.TestApp(demo.make_app(first)).get("/login")
    assert airgap.BANNER in page.text
