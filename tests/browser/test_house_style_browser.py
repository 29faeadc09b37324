"""The workbench and the gateway in a real browser, wearing the house style sheet
(peluit/ground/static/house.css): WCAG 2.2 AA by axe-core (the same audit as the reporter pages,
tests/browser/test_accessibility.py), and, with JavaScript off, every page fits a 390 px phone
without the page itself scrolling sideways (a wide table scrolls inside its own box).
Screenshots of each page in Indonesian and English at 1280 and 390 px go to /tmp/shots/look/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import webtest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from dropbox_app.gateway import totp
from tests.fixtures.axe import AXE, RUN, TAGS
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    make_deployment,
    serving_gateway,
)
from tests.fixtures.page_waits import get_page, submit_page
from tests.fixtures.reporter_live import WIDTHS, first_screen, page_size, viewport, whole_page
from tests.fixtures.workbench_vault import PASS, login, make_vault, serving_workbench
from workbench.web import make_app

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/look")
LANGS = ("id", "en")


@dataclass
class Served:
    workbench: str
    lead: str          # the lead's key id on the workbench
    gateway: str
    admin: object      # the gateway admin account (passphrase, TOTP secret)
    code: str          # the admin's TOTP code at the gateway's fixed clock


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    tv = make_vault(tmp_path / "wb")
    app = make_app(tv.path, demo_not_air_gapped=True)
    client = webtest.TestApp(app)
    login(client, tv.lead.key_id)
    # A few registered complaints, so the list, a case, the deadlines and the statistics have
    # something to show; the statistics still suppress every count under 5.
    for i, (channel, category) in enumerate([("letter", "corruption")] * 6
                                            + [("email", "pungli")] * 2):
        form = client.get("/cases/new").forms[1]  # [0] is the logout form
        for k, v in {"channel": channel, "received": f"2026-11-{10 + i % 3:02d}",
                     "category": category, "what": "Pungutan liar di loket tiga",
                     "who_name": "Pak X"}.items():
            form[k] = v
        form.submit(status=303)
    dep = make_deployment(tmp_path / "gw", app=False)
    admin = create_account(dep, "root", "admin")
    create_account(dep, "ani")
    add_submission(dep, b"laporan")
    with serving_workbench(app) as workbench, serving_gateway(dep) as gateway:
        yield Served(workbench, tv.lead.key_id, gateway, admin,
                     totp.code_at(admin.totp_secret, dep.clock.timestamp()))


def _workbench_login(d, s: Served, lang: str) -> None:
    d.delete_all_cookies()
    get_page(d, f"{s.workbench}/login?lang={lang}")
    Select(d.find_element(By.ID, "auditor")).select_by_value(s.lead)
    d.find_element(By.ID, "passphrase").send_keys(PASS)
    submit_page(d, "main form button[type=submit]")


def _gateway_login(d, s: Served) -> None:
    d.delete_all_cookies()
    get_page(d, f"{s.gateway}/login")
    d.find_element(By.ID, "username").send_keys("root")
    d.find_element(By.ID, "passphrase").send_keys(s.admin.passphrase)
    d.find_element(By.ID, "code").send_keys(s.code)
    submit_page(d, "form[action='/login'] button")


def _first_case(d, s: Served) -> str:
    get_page(d, f"{s.workbench}/cases")
    return d.find_element(By.CSS_SELECTOR, "main td.nowrap a[href*='/cases/']"
                          ).get_attribute("href")


def _pages(d, s: Served) -> list[tuple[str, str]]:
    """(name, url) of the unlocked workbench pages the audit covers."""
    case = _first_case(d, s)
    return [("wb-home", f"{s.workbench}/"), ("wb-cases", f"{s.workbench}/cases"),
            ("wb-case", case), ("wb-case-done", f"{case}?done=review"),  # after a step
            ("wb-deadlines", f"{s.workbench}/cases/deadlines"),
            ("wb-statistics", f"{s.workbench}/compliance/statistics"),
            ("wb-retention", f"{s.workbench}/cases/retention")]


def _axe(d, name: str, problems: list) -> None:
    assert len(d.find_elements(By.TAG_NAME, "h1")) == 1, name
    url = d.current_url
    for which in WIDTHS:
        viewport(d, which)
        get_page(d, url)
        d.execute_script(AXE.read_text("utf-8"))
        for v in d.execute_async_script(RUN, TAGS):
            if v["impact"] in ("serious", "critical"):
                problems.append((name, which, v["id"], v["nodes"][:3]))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_workbench_and_gateway_pages_meet_wcag_22_aa(browser_js, served):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tests/install-deps.sh all")
    d, s = browser_js, served
    d.set_script_timeout(60)
    problems: list = []
    for lang in LANGS:
        d.delete_all_cookies()
        get_page(d, f"{s.workbench}/login?lang={lang}")
        _axe(d, f"wb-login-{lang}", problems)
        _workbench_login(d, s, lang)
        for name, url in _pages(d, s):
            get_page(d, url)
            _axe(d, f"{name}-{lang}", problems)
        d.delete_all_cookies()
        get_page(d, f"{s.gateway}/login?lang={lang}")
        _axe(d, f"gw-login-{lang}", problems)
    # One sign-in on the gateway (a TOTP code is good once); the language by its switch.
    _gateway_login(d, s)
    for lang in LANGS:
        for name, path in (("gw-inbox", "/"), ("gw-admin", "/admin")):
            get_page(d, f"{s.gateway}{path}?lang={lang}")
            _axe(d, f"{name}-{lang}", problems)
    assert problems == [], "\n".join(map(str, problems))


def _shoot(d, name: str) -> int:
    """Screenshots of the page at both widths (first screen and whole page) through the
    DevTools protocol, which works with JavaScript off; returns the page's width at 390 px."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, phone_width = d.current_url, 0
    for which in WIDTHS:
        viewport(d, which)
        get_page(d, url)
        size = page_size(d)
        if which == "phone":
            phone_width = size["width"]
        (SHOTS / f"{name}-{which}.png").write_bytes(first_screen(d))
        (SHOTS / f"{name}-{which}-full.png").write_bytes(whole_page(d, size))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return phone_width


def test_pages_fit_a_phone_with_javascript_off(browser, served):
    """The workbench's navigation wraps and wide tables scroll in their own box: no page is
    wider than a 390 px phone. The house style sheet reaches every app."""
    d, s = browser, served
    too_wide: list = []
    for lang in LANGS:
        _workbench_login(d, s, lang)
        for name, url in _pages(d, s):
            get_page(d, url)
            sheets = [e.get_attribute("href") for e in
                      d.find_elements(By.CSS_SELECTOR, "link[rel=stylesheet]")]
            assert any(h.endswith("/house/house.css") for h in sheets), name
            if (w := _shoot(d, f"{name}-{lang}")) > WIDTHS["phone"][0]:
                too_wide.append((name, lang, w))
        d.delete_all_cookies()
        get_page(d, f"{s.gateway}/login?lang={lang}")
        _shoot(d, f"gw-login-{lang}")
    _gateway_login(d, s)
    for lang in LANGS:
        for name, path in (("gw-inbox", "/"), ("gw-admin", "/admin")):
            get_page(d, f"{s.gateway}{path}?lang={lang}")
            if (w := _shoot(d, f"{name}-{lang}")) > WIDTHS["phone"][0]:
                too_wide.append((name, lang, w))
    assert too_wide == []
