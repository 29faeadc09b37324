"""The workbench's case page with an identity deposited in escrow, in headless Chromium with
JavaScript off, in Indonesian and English: the section says a deposit exists and nothing of it,
and the lead's written request goes out from a plain form. Screenshots at 1280 and 390 px in
/tmp/shots/escrow/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from crypto import escrow as escrow_crypto
from tests.fixtures import escrow as esc
from tests.fixtures import reporter_live
from tests.fixtures.page_waits import click_page
from tests.fixtures.reporter_live import by, fresh_desktop, viewport
from tests.fixtures.workbench_vault import (
    PASS,
    Item,
    build_inbox,
    make_vault,
    report_item,
    serving_workbench,
)
from workbench import importer

pytestmark = pytest.mark.browser

REASON = {"id": "Untuk permohonan perlindungan pelapor ke LPSK.",
          "en": "For the reporter's application for protection to LPSK."}


def get(driver, url: str) -> None:
    driver.get(url)  # the workbench's pages have no footer to wait for: the load event


@pytest.fixture
def workbench(tmp_path):

    from workbench.web import make_app

    tv = make_vault(tmp_path)
    people = esc.custodians(3)
    report = report_item("Kepala dinas meminta uang pelicin untuk setiap izin")
    dep = Item("deposit", b"", report=report.report, reporter=report.reporter)
    dep.body = escrow_crypto.seal_deposit(
        esc.IDENTITY, deposit_id=dep.id, report_id=report.report,
        reporter_secret=report.reporter, custodians=[p.card() for p in people],
        rule=escrow_crypto.Rule(2, 2))
    importer.import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report, dep], 1)))
    with serving_workbench(make_app(tv.path, demo_not_air_gapped=True)) as base:
        yield tv, base


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/escrow"))
    yield from fresh_desktop(browser)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_case_page_escrow_section(browser, workbench, lang):
    tv, base = workbench
    d = browser
    get(d, f"{base}/login?lang={lang}")
    from selenium.webdriver.support.ui import Select

    Select(by(d, "select[name=auditor]")).select_by_value(tv.lead.key_id)
    by(d, "input[name=passphrase]").send_keys(PASS)
    click_page(d, by(d, "form button[type=submit]"))
    get(d, f"{base}/cases")
    link = d.find_element(By.CSS_SELECTOR, "a[href^='/cases/'][href$='1'], a[href*='/cases/1']")
    click_page(d, link)
    section = by(d, "#escrow")
    assert section is not None
    main = by(d, "main").text
    for value in esc.IDENTITY.values():
        assert value not in main
    by(d, "textarea[name=reason]").send_keys(REASON[lang])
    for which in ("desktop", "phone"):
        viewport(d, which)
        get(d, d.current_url)
        reporter_live.shoot(d, f"workbench-case-{lang}-{which}")
    viewport(d, "desktop")
    get(d, d.current_url)
    by(d, "textarea[name=reason]").send_keys(REASON[lang])
    click_page(d, by(d, "form[action$='/escrow'] button[type=submit]"))
    rows = d.find_elements(By.CSS_SELECTOR, ".escrow-deposit tbody tr")
    assert len(rows) == 1
    for which in ("desktop", "phone"):
        viewport(d, which)
        get(d, d.current_url)
        reporter_live.shoot(d, f"workbench-case-requested-{lang}-{which}")
