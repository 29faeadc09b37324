"""The gateway's admin page with the auditor cards' recipient groups, in headless Chromium with
JavaScript off (issue 19): the warning while the conflict group has no active card, the group
chosen when a card is pasted and shown again on the fingerprint check, the card listed in its
group afterwards and the warning gone; nothing wider than a 390 px phone. Screenshots in
Indonesian and English at 1280 and 390 px go to /tmp/shots/coi3/; those of a conflict card the
signed policy does not name (issue 19: only pinned cards read reports about the inspectorate),
then names, to /tmp/shots/coi4/."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from crypto.identity import AuditorIdentity
from dropbox_app.gateway import totp
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.gateway import card_text, create_account, make_deployment, serving_gateway
from tests.fixtures.page_waits import get_page, submit_page
from tests.fixtures.reporter_live import (
    WIDTHS,
    first_screen,
    fresh_desktop,
    page_size,
    viewport,
    whole_page,
)

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots/coi3")
PINNING_SHOTS = Path("/tmp/shots/coi4")


@pytest.fixture(autouse=True)
def _desktop(browser):
    yield from fresh_desktop(browser)


@pytest.fixture
def served(tmp_path):
    dep = make_deployment(tmp_path, app=False)   # one inspectorate card, "Ani Auditor"
    admin = create_account(dep, "root", "admin")
    code = totp.code_at(admin.totp_secret, dep.clock.timestamp())
    with serving_gateway(dep) as base:
        yield base, admin, code, dep


def _shoot(d, name: str, shots: Path = SHOTS) -> int:
    """The page at both widths, first screen and whole page; returns its width at 390 px."""
    shots.mkdir(parents=True, exist_ok=True)
    url, phone_width = d.current_url, 0
    for which in WIDTHS:
        viewport(d, which)
        if url.startswith("http") and "/admin/cards" not in url:  # a POST's page is not re-got
            get_page(d, url)
        size = page_size(d)
        if which == "phone":
            phone_width = size["width"]
        (shots / f"{name}-{which}.png").write_bytes(first_screen(d))
        (shots / f"{name}-{which}-full.png").write_bytes(whole_page(d, size))
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return phone_width


def _text(d, element_id: str) -> str:
    found = d.find_elements(By.ID, element_id)
    return found[0].text if found else ""


def test_card_groups_and_the_conflict_group_warning(browser, served):
    d, (base, admin, code, dep) = browser, served
    d.delete_all_cookies()
    get_page(d, f"{base}/login")
    d.find_element(By.ID, "username").send_keys("root")
    d.find_element(By.ID, "passphrase").send_keys(admin.passphrase)
    d.find_element(By.ID, "code").send_keys(code)
    submit_page(d, "form[action='/login'] button")
    too_wide = []
    warning = {"id": "Kelompok konflik kepentingan tidak memiliki kartu aktif yang disebut",
               "en": "The conflict group has no active card that the signed protection policy"}
    for lang in ("id", "en"):
        get_page(d, f"{base}/admin?lang={lang}")
        assert warning[lang] in _text(d, "no-conflict-group")
        if (w := _shoot(d, f"gw-admin-no-conflict-{lang}")) > WIDTHS["phone"][0]:
            too_wide.append(("no-conflict", lang, w))

    # Enroll the minister's officer in the conflict group, on the page, without JavaScript.
    officer = AuditorIdentity.generate("Pejabat Menteri")
    for lang in ("id", "en"):
        get_page(d, f"{base}/admin?lang={lang}")
        d.find_element(By.ID, "card").send_keys(card_text(officer))
        Select(d.find_element(By.ID, "card-group")).select_by_value("conflict")
        submit_page(d, "form[action='/admin/cards/check'] button")
        assert ("Kelompok konflik kepentingan" if lang == "id" else "Conflict group") in _text(
            d, "card-group")
        if (w := _shoot(d, f"gw-card-check-conflict-{lang}")) > WIDTHS["phone"][0]:
            too_wide.append(("check", lang, w))
    d.find_element(By.CSS_SELECTOR, "input[name=compared]").click()
    submit_page(d, "form[action='/admin/cards'] button")
    # Enrolled, but the signed policy does not name it: never a recipient, and the page says so
    # (the warning stays; the card's row and a notice name it).
    unnamed = {"id": "tidak disebut", "en": "not named"}
    for lang in ("id", "en"):
        get_page(d, f"{base}/admin?lang={lang}")
        assert warning[lang] in _text(d, "no-conflict-group")
        assert "Pejabat Menteri" in _text(d, "conflict-unpinned")
        row = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#cards tr")
               if "Pejabat Menteri" in r.text]
        assert row and unnamed[lang] in row[0]
        if (w := _shoot(d, f"gw-admin-unpinned-{lang}", PINNING_SHOTS)) > WIDTHS["phone"][0]:
            too_wide.append(("unpinned", lang, w))
    pin_conflict(dep.cfg.base_dir / "policy", [officer])  # the officer names it and signs
    for lang in ("id", "en"):
        get_page(d, f"{base}/admin?lang={lang}")
        assert _text(d, "no-conflict-group") == "" and _text(d, "conflict-unpinned") == ""
        if (w := _shoot(d, f"gw-admin-pinned-{lang}", PINNING_SHOTS)) > WIDTHS["phone"][0]:
            too_wide.append(("pinned", lang, w))
        row = [r.text for r in d.find_elements(By.CSS_SELECTOR, "#cards tr")
               if "Pejabat Menteri" in r.text]
        assert row and ("Kelompok konflik kepentingan" if lang == "id"
                        else "Conflict group") in row[0]
        if (w := _shoot(d, f"gw-admin-with-conflict-{lang}")) > WIDTHS["phone"][0]:
            too_wide.append(("with-conflict", lang, w))
    assert too_wide == []
