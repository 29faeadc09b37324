"""The gateway's home page with the nudge on, in headless Chromium without JavaScript, in
Indonesian and English: it says that something waits to be fetched and what the daily notice
does. Screenshots at 1280 and 390 px in /tmp/shots/daily/."""

from __future__ import annotations

from pathlib import Path

import pytest

from dropbox_app.gateway import totp
from tests.fixtures import reporter_live
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    make_deployment,
    serving_gateway,
)
from tests.fixtures.reporter_live import by, fresh_desktop, viewport

pytestmark = pytest.mark.browser

NUDGE = {"enabled": True, "at": "07:30", "to": ["tim@audit.example", "lead@audit.example"],
         "from": "peluit@audit.example", "relay": "relayexampleonionaddress.onion:25"}


@pytest.fixture
def served(tmp_path):
    dep = make_deployment(tmp_path, app=False)
    with serving_gateway(dep, dep.cfg.with_(raw={**dep.cfg.raw, "nudge": NUDGE})) as base:
        yield dep, base


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/daily"))
    yield from fresh_desktop(browser)


def test_gateway_home_with_the_nudge(browser, served):
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.fixtures.browser import gone

    dep, base = served
    d = browser
    acct = create_account(dep, "ani")
    add_submission(dep, b"laporan")
    d.get(base + "/login")
    by(d, "#username").send_keys("ani")
    by(d, "#passphrase").send_keys(acct.passphrase)
    by(d, "#code").send_keys(totp.code_at(acct.totp_secret, dep.clock.timestamp()))
    old = by(d, "html")
    by(d, "form[action='/login'] button").click()
    WebDriverWait(d, 20).until(gone(old))
    for lang, waiting, on in (("id", "Ada yang menunggu diambil", "Aktif: setiap hari pukul 07:30"),
                              ("en", "Something waits to be fetched",
                               "On: every day at 07:30")):
        d.get(f"{base}/?lang={lang}")
        assert waiting in by(d, "#nudge-waiting").text
        assert on in by(d, "#nudge").text and "2" in by(d, "#nudge").text
        for which in ("desktop", "phone"):
            viewport(d, which)
            d.get(f"{base}/?lang={lang}")
            reporter_live.shoot(d, f"gw-home-nudge-{lang}-{which}")
        viewport(d, "desktop")
