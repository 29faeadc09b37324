"""The reporter landing page shows the deployment's signed protection policy, and only that."""

from __future__ import annotations

import shutil

import pytest
import webtest

from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app.app import make_reporter_app
from dropbox_app.configurator import service
from dropbox_app.db import make_engine, upgrade
from dropbox_app.reporter.policy import Landing
from peluit.ground.clock import FixedClock
from policies import documents
from tests.fixtures.server_config import hand_config

NOW = 1_795_000_000.0  # 2026-11-19


@pytest.fixture
def deployment(tmp_path):
    url = f"sqlite:///{tmp_path / 'peluit.sqlite'}"
    upgrade(url)
    config = hand_config(tmp_path, url)
    engine = make_engine(url)
    yield config, engine
    engine.dispose()


def _app(config, engine):
    return webtest.TestApp(make_reporter_app(config, engine=engine, clock=FixedClock(NOW),
                                             argon2=TEST_PARAMS, kdf_slots=1))


def _install(config, officer):
    version = config.base_dir / "policy" / "1.0"
    shutil.copytree(documents.DEFAULT_DIR / "1.0", version)
    (version / "signature.json").unlink(missing_ok=True)
    return version


def test_signed_policy_is_shown_with_fingerprint(deployment):
    config, engine = deployment
    officer = AuditorIdentity.generate("Ibu Kepatuhan")
    version = _install(config, officer)
    app = _app(config, engine)
    # Unsigned: the built-in summary only, never the unsigned text.
    page = app.get("/")
    assert "Kebijakan Perlindungan Pelapor" not in page.text
    assert "Ibu Kepatuhan" not in page.text

    documents.sign_version(version, officer)
    page = app.get("/")
    fingerprint = documents.load_version(version).fingerprint
    assert "Kebijakan Perlindungan Pelapor" in page.text and "Pasal" in page.text
    assert fingerprint in page.text and "Ibu Kepatuhan" in page.text
    assert "Versi 1.0, berlaku mulai 2026-11-01" in page.text
    en = app.get("/?lang=en")
    assert "Reporter Protection Policy" in en.text and fingerprint in en.text
    assert "Kebijakan Perlindungan Pelapor" not in en.text
    # The pages promise the signed policy's deadlines.
    deadlines = service(app.app, Landing).deadlines
    assert (deadlines.first_response, deadlines.decision, deadlines.completion) == (3, 3, 75)

    # Tampered after signing: not shown.
    text = (version / "en.md").read_text()
    (version / "en.md").write_text(text.replace("75 working days", "750 working days"))
    en = app.get("/?lang=en")
    assert "Reporter Protection Policy" not in en.text and "750" not in en.text
    assert not service(app.app, Landing).deadlines


def test_untrusted_signer_is_not_shown(deployment, tmp_path):
    config, engine = deployment
    officer, stranger = AuditorIdentity.generate("Officer"), AuditorIdentity.generate("Other")
    version = _install(config, officer)
    documents.sign_version(version, stranger)
    (config.base_dir / "officer.card").write_bytes(officer.card().to_bytes())
    config = config.with_(raw={"reporter": {"policy_signers": ["officer.card"]}})
    assert "Kebijakan Perlindungan Pelapor" not in _app(config, engine).get("/").text
    documents.sign_version(version, officer)
    assert "Kebijakan Perlindungan Pelapor" in _app(config, engine).get("/").text


def test_markup_in_a_signed_policy_is_still_sanitised(deployment):
    config, engine = deployment
    officer = AuditorIdentity.generate("Officer")
    version = _install(config, officer)
    (version / "id.md").write_text("# Judul\n\n<script>alert(1)</script>\n\n"
                                   "[x](javascript:alert(1))\n")
    documents.sign_version(version, officer)
    page = _app(config, engine).get("/")
    assert "Judul" in page.text
    assert "alert(1)</script>" not in page.text and "javascript:" not in page.text
