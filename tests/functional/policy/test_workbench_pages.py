"""The compliance officer's statistics and policy pages on the real workbench app."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import webtest

from crypto.identity import AuditorIdentity
from peluit.ground.clock import Clock, FixedClock
from peluit.ground.services import replace_service
from policies import documents
from tests.fixtures.workbench_vault import PASS, add_person, login, make_vault
from workbench.web import make_app

COMPLIANCE_PASS = "compliance passphrase x"
NOW = dt.datetime(2026, 11, 16, 3, 0, tzinfo=dt.UTC)
SECRET = "Kepala seksi meminta uang pelicin"


@pytest.fixture
def setup(tmp_path):
    tv = make_vault(tmp_path)
    officer = add_person(tv, "Compliance Citra", "compliance", COMPLIANCE_PASS)
    app = make_app(tv.path, demo_not_air_gapped=True)
    replace_service(app, FixedClock(NOW), Clock)

    def client(key_id, passphrase):
        c = webtest.TestApp(app)
        login(c, key_id, passphrase)
        return c

    return tv, client(tv.lead.key_id, PASS), client(officer.key_id, COMPLIANCE_PASS)


def _intake(client, n, channel, category):
    for _ in range(n):
        form = client.get("/cases/new").forms[1]  # [0] is the logout form
        for k, v in {"channel": channel, "received": "2026-11-10", "category": category,
                     "what": SECRET, "who_name": "Pak X"}.items():
            form[k] = v
        form.submit(status=303)


def test_statistics_page_hides_small_counts_and_content(setup):
    _tv, lead, officer = setup
    _intake(lead, 6, "letter", "corruption")
    _intake(lead, 2, "email", "pungli")
    page = officer.get("/compliance/statistics")
    assert "Statistik pelaporan pelanggaran" in page.text and "<svg" in page.text
    assert "&lt; 5" in page.text and SECRET not in page.text and "Pak X" not in page.text
    csv = officer.get("/compliance/statistics.csv")
    assert csv.content_type == "text/csv"
    assert "category,pungli,< 5" in csv.text and "category,corruption,*" in csv.text
    assert "summary,cases,8" in csv.text
    en = officer.get("/compliance/statistics?lang=en")
    assert "Whistleblowing statistics" in en.text


def test_policy_page_shows_only_a_signed_policy(setup):
    tv, _lead, officer = setup
    page = officer.get("/compliance/policy")
    assert "tidak memuat kebijakan perlindungan" in page.text
    version = tv.path / "policy" / "1.0"
    shutil.copytree(documents.DEFAULT_DIR / "1.0", version)
    (version / "signature.json").unlink(missing_ok=True)
    assert "Kebijakan Perlindungan Pelapor" not in officer.get("/compliance/policy").text
    signer = AuditorIdentity.generate("Compliance Citra")
    documents.sign_version(version, signer)
    page = officer.get("/compliance/policy")
    assert "Kebijakan Perlindungan Pelapor" in page.text
    assert documents.load_version(version).fingerprint in page.text
    (version / "id.md").write_text("# Palsu\n")
    assert "Palsu" not in officer.get("/compliance/policy").text


def test_policy_page_names_the_conflict_group(setup):
    """The signed policy's [conflict] members, beside its signer, in both languages (issue 19:
    the compliance officer sees whom they signed in as the readers of reports about the
    inspectorate)."""
    from tests.fixtures.conflict_policy import pin_conflict

    tv, _lead, officer = setup
    member = AuditorIdentity.generate("Pejabat Menteri")
    pin_conflict(tv.path / "policy", [member])
    for lang, words in (("id", "hanya dibaca oleh kelompok konflik kepentingan"),
                        ("en", "read only by the conflict group this policy names")):
        page = officer.get(f"/compliance/policy?lang={lang}")
        found = page.html.find(id="policy-conflict")
        assert found is not None and words in found.text
        assert "Pejabat Menteri" in page.text and member.card().fingerprint in page.text
