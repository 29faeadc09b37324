"""The auditor's day in headless Chromium with JavaScript off, in Indonesian and English:
unlock, the home page, the Transfers page, an inbox bundle imported from the UI (the progress
page, then what came in), the new report on the home page and its case page with every clock,
a question asked there, the web report, the deadlines page, a reply bundle exported from the UI.
Screenshots at 1280 and 390 px in /tmp/shots/daily/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures import reporter_live
from tests.fixtures.page_waits import click_page
from tests.fixtures.reporter_live import by, fresh_desktop, viewport
from tests.fixtures.workbench_vault import (
    PASS,
    build_inbox,
    make_vault,
    report_item,
    serving_workbench,
)

pytestmark = pytest.mark.browser


def click(driver, element) -> None:
    click_page(driver, element, timeout=30)  # 30 s: an import and an export run behind some


def shoot_both(driver, name: str, reload: bool = True) -> None:
    """Screenshots at both widths; ``reload=False`` for the answer to a POST (its URL is the
    form's action, which a GET would not find): the viewport change lays the page out again."""
    url = driver.current_url
    for which in ("desktop", "phone"):
        viewport(driver, which)
        if reload:
            driver.get(url)
        reporter_live.shoot(driver, f"{name}-{which}")
    viewport(driver, "desktop")
    if reload:
        driver.get(url)


@pytest.fixture
def workbench(tmp_path):

    from workbench.web import make_app

    tv = make_vault(tmp_path)
    drop = tmp_path / "usb"
    drop.mkdir()
    (drop / "peluit-inbox-0123abcd-4567ef89-000001.bundle").write_bytes(build_inbox(
        tv, [report_item("Kepala dinas meminta uang pelicin untuk setiap izin")], 1))
    app = make_app(tv.path, demo_not_air_gapped=True,
                   settings={"workbench.transfer_dirs": str(drop)})
    with serving_workbench(app) as base:
        yield tv, base, drop


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/daily"))
    yield from fresh_desktop(browser)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_auditors_day(browser, workbench, lang):
    tv, base, drop = workbench
    d = browser
    d.get(f"{base}/login?lang={lang}")
    shoot_both(d, f"01-unlock-{lang}")
    Select(by(d, "select[name=auditor]")).select_by_value(tv.lead.key_id)
    by(d, "input[name=passphrase]").send_keys(PASS)
    click(d, by(d, "form button[type=submit]"))
    shoot_both(d, f"02-home-empty-{lang}")
    click(d, by(d, "nav a[href$='/transfers']"))
    assert "peluit-inbox-0123abcd-4567ef89-000001.bundle" in by(d, "#import").text
    shoot_both(d, f"03-transfers-{lang}")
    click(d, by(d, "form[action$='/transfers/import'] button[type=submit]"))
    WebDriverWait(d, 60, poll_frequency=0.5).until(
        lambda dr: dr.find_elements(By.ID, "import-done"))  # the page refreshes itself
    assert "1" in by(d, "#import-done").text
    shoot_both(d, f"04-imported-{lang}")
    click(d, by(d, "main a[href$='/']"))
    new = by(d, "#inbox-new")
    assert "(1)" in new.text
    shoot_both(d, f"05-home-new-report-{lang}")
    click(d, by(d, "#inbox-new a"))
    report_link = by(d, "#report-link").get_attribute("href")
    shoot_both(d, f"06-case-{lang}")
    by(d, "#question").send_keys({"id": "Kapan tepatnya kejadian itu?",
                                  "en": "When exactly did it happen?"}[lang])
    click(d, by(d, "form#ask button[type=submit]"))
    assert {"id": "Kapan tepatnya", "en": "When exactly"}[lang] in by(d, "main").text
    shoot_both(d, f"06a-case-asked-{lang}")
    d.get(report_link)
    assert by(d, "#case-link") is not None
    shoot_both(d, f"06b-report-{lang}")
    d.get(f"{base}/cases/deadlines")
    shoot_both(d, f"07-deadlines-{lang}")
    d.get(f"{base}/transfers")
    click(d, by(d, "form[action$='/transfers/export'] button[type=submit]"))
    assert "1" in by(d, "#export-done").text  # the question goes out
    assert [p for p in drop.iterdir() if p.name.startswith("peluit-replies-")]
    shoot_both(d, f"08-exported-{lang}", reload=False)
