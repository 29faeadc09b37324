"""Assignment and recusal on the workbench's own pages in headless Chromium with JavaScript off,
in Indonesian and English, against a real vault served on loopback: a lead assigns the case, an
auditor declares a conflict of interest with the plain form and is kept out of the case and its
list. Screenshots of the case page and the case list go to /tmp/shots/coi/ (1280 and 390 px)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy.orm import Session

from tests.fixtures.page_waits import click_page, get_page
from tests.fixtures.reporter_live import WIDTHS, whole_page
from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    PASS,
    add_person,
    make_vault,
    serving_workbench,
)
from workbench import db
from workbench.web import make_app

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/coi")
SECRET = "Auditor Dedi menerima amplop dari kepala dinas"
TEXT = {"id": {"people": "Orang yang menangani kasus ini", "excluded": "benturan kepentingan"},
        "en": {"people": "People on this case", "excluded": "conflict of interest"}}


@pytest.fixture
def served(tmp_path):
    tv = make_vault(tmp_path)
    dedi = add_person(tv, "Auditor Dedi", "auditor")
    engine = db.make_engine(tv.path)
    rid = os.urandom(16).hex()
    with db.unlocked(tv.lead.vault_key), Session(engine) as s, s.begin():
        s.add(db.Report(id=rid, reporter_key=os.urandom(32), received_day="2026-03-16"))
        s.add(db.Submission(id=os.urandom(16).hex(), seq=1, report_id=rid, kind="report",
                            received_day="2026-03-16", size=0, sha256="0" * 64, import_seq=1,
                            content={"category": "pungli", "what": SECRET}))
    engine.dispose()
    with serving_workbench(make_app(tv.path, demo_not_air_gapped=True)) as base:
        yield tv, dedi, base


def _login(d, base, key_id, passphrase, lang):
    d.delete_all_cookies()
    get_page(d, f"{base}/login?lang={lang}")
    Select(d.find_element(By.ID, "auditor")).select_by_value(key_id)
    d.find_element(By.ID, "passphrase").send_keys(passphrase)
    click_page(d, d.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))


def _shoot(d, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = d.current_url
    for which, (w, h) in WIDTHS.items():
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": w, "height": h, "deviceScaleFactor": 1,
                           "mobile": which == "phone"})
        get_page(d, url)
        (SHOTS / f"{name}-{which}.png").write_bytes(whole_page(d))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("lang", ["id", "en"])
def test_assign_and_recuse_in_the_browser(browser, served, lang):
    d = browser
    tv, dedi, base = served
    _login(d, base, tv.lead.key_id, PASS, lang)
    get_page(d, f"{base}/cases")
    click_page(d, d.find_element(By.CSS_SELECTOR, "main a[href*='/cases/']"
                                              ":not([href*='/cases/new'])"
                                              ":not([href*='/cases/deadlines'])"))
    case_url = d.current_url
    assert TEXT[lang]["people"] in d.page_source
    # the lead assigns the case to Dedi
    box = d.find_element(By.CSS_SELECTOR, f"input[name=member][value='{dedi.key_id}']")
    box.click()
    click_page(d, d.find_element(By.CSS_SELECTOR, "form[action$='/assign'] button"))
    assert "Auditor Dedi" in d.page_source
    _shoot(d, f"case-page-lead-{lang}")
    # Dedi sees the case, declares a conflict of interest, and is out
    _login(d, base, dedi.key_id, OTHER_PASS, lang)
    get_page(d, case_url)
    assert SECRET in d.page_source
    _shoot(d, f"case-page-auditor-{lang}")
    d.find_element(By.CSS_SELECTOR, "form[action$='/recuse'] input[name=confirm]").click()
    click_page(d, d.find_element(By.CSS_SELECTOR, "form[action$='/recuse'] button"))
    assert d.current_url.endswith("/cases")
    _shoot(d, f"case-list-after-recusal-{lang}")
    get_page(d, case_url)
    assert SECRET not in d.page_source and TEXT[lang]["excluded"] in d.page_source
    _shoot(d, f"case-page-excluded-{lang}")
