"""The reporter landing page with a signed policy whose [conflict] section names the conflict
group (issue 19): the policy's footer names its members beside the signer, the page says where
reports about the inspectorate go, nothing is wider than a 390 px phone. JavaScript off;
screenshots in Indonesian and English at 1280 and 390 px under /tmp/shots/coi4/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from crypto.identity import AuditorIdentity
from dropbox_app import auditors, routing
from dropbox_app.gateway.adminlog import SHELL
from tests.fixtures import reporter_live
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.reporter_live import both_widths, fresh_desktop, get, viewport

pytestmark = pytest.mark.browser

FOOTER = {"id": "hanya dibaca oleh kelompok konflik kepentingan yang disebut dalam kebijakan ini: "
                "Pejabat Menteri.",
          "en": "read only by the conflict group this policy names: Pejabat Menteri."}


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/coi4"))
    yield from fresh_desktop(browser)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_landing_names_the_pinned_conflict_group(browser, live, lang):
    officer = AuditorIdentity.generate("Pejabat Menteri")
    with live.db() as s, s.begin():
        auditors.enroll(s, officer.card().to_bytes(), live.clock.day(), actor=SHELL,
                        group=routing.CONFLICT)
    pin_conflict(live.cfg.base_dir / "policy", [officer])
    d = browser
    get(d, f"{live.base}/?lang={lang}")
    assert FOOTER[lang] in d.find_element(By.CLASS_NAME, "policy-signature").text
    both_widths(d, f"landing-policy-conflict-{lang}")
    viewport(d, "phone")
    get(d, d.current_url)
    assert d.execute_script("return document.documentElement.scrollWidth") <= 390
    viewport(d, "desktop")
