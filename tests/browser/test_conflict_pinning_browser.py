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


WORKBENCH = {"id": "hanya dibaca oleh kelompok konflik kepentingan yang disebut dalam "
                   "kebijakan ini",
             "en": "read only by the conflict group this policy names"}


def test_workbench_policy_page_names_the_pinned_conflict_group(browser, tmp_path):
    """The compliance officer's policy page on the workbench: the members beside the signer,
    each with their key fingerprint, in id and en, no wider than a phone."""
    from selenium.webdriver.support.ui import Select

    from tests.fixtures.page_waits import get_page, submit_page
    from tests.fixtures.reporter_live import first_screen, page_size, whole_page
    from tests.fixtures.workbench_vault import add_person, make_vault, serving_workbench
    from workbench.web import make_app

    tv = make_vault(tmp_path)
    officer = add_person(tv, "Compliance Citra", "compliance", "compliance passphrase x")
    member = AuditorIdentity.generate("Pejabat Menteri")
    pin_conflict(tv.path / "policy", [member])
    shots = Path("/tmp/shots/coi4")
    shots.mkdir(parents=True, exist_ok=True)
    d = browser
    with serving_workbench(make_app(tv.path, demo_not_air_gapped=True)) as base:
        get_page(d, f"{base}/login")
        Select(d.find_element(By.ID, "auditor")).select_by_value(officer.key_id)
        d.find_element(By.ID, "passphrase").send_keys("compliance passphrase x")
        submit_page(d, "main form button[type=submit]")
        for lang in ("id", "en"):
            url = f"{base}/compliance/policy?lang={lang}"
            get_page(d, url)
            assert WORKBENCH[lang] in d.find_element(By.ID, "policy-conflict").text
            assert member.card().fingerprint in d.find_element(By.TAG_NAME, "main").text
            for which in ("desktop", "phone"):
                viewport(d, which)
                get_page(d, url)
                size = page_size(d)
                name = f"wb-policy-conflict-{lang}-{which}"
                (shots / f"{name}.png").write_bytes(first_screen(d))
                (shots / f"{name}-full.png").write_bytes(whole_page(d, size))
                if which == "phone":
                    # the conflict group's lines fit the phone, and so does the page: the
                    # policy text's service-target table scrolls inside its own box
                    right = d.execute_script(
                        "const p = document.getElementById('policy-conflict');"
                        "return Math.max(p.getBoundingClientRect().right,"
                        " p.nextElementSibling.getBoundingClientRect().right)")
                    assert right <= 390
                    assert d.execute_script(
                        "return document.documentElement.scrollWidth") <= 390
            viewport(d, "desktop")
