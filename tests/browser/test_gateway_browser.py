"""The gateway in headless Chromium with JavaScript disabled (as Tor Browser at "Safest"):
sign in with passphrase and TOTP code, download the inbox bundle as a file, upload a reply
bundle through the file input. The real app behind the real HTTP server on loopback."""

from __future__ import annotations

import io
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from crypto.bundle import BundleReader
from dropbox_app.gateway import totp
from tests.fixtures.browser import CHROMEDRIVER, CHROMIUM, gone, make_driver
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    make_deployment,
    reply_bundle,
    server_trust,
    serving_gateway,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    dep = make_deployment(tmp_path, app=False)
    with serving_gateway(dep) as base:
        yield dep, base


@pytest.fixture
def chromium(tmp_path):
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are needed (tests/install-deps.sh all)")
    profile = Path(tempfile.mkdtemp(prefix="peluit-chromium-"))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = make_driver(profile, download_dir=downloads)
    # Headless Chromium only saves downloads when told to, through the DevTools protocol.
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver, downloads
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _by(driver, css):  # noqa: ANN001, ANN202
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _submit(driver, css) -> None:  # noqa: ANN001
    from selenium.webdriver.support.ui import WebDriverWait

    old = _by(driver, "html")
    _by(driver, css).click()
    WebDriverWait(driver, 20).until(gone(old))


def _wait_for_file(directory: Path, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in directory.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError("the bundle was not downloaded")


def test_transfer_in_a_browser_without_javascript(served, chromium, tmp_path):
    dep, base = served
    driver, downloads = chromium
    acct = create_account(dep, "ani")
    sub = add_submission(dep, b"laporan")

    driver.get(base + "/login")
    _by(driver, "#username").send_keys("ani")
    _by(driver, "#passphrase").send_keys(acct.passphrase)
    _by(driver, "#code").send_keys(totp.code_at(acct.totp_secret, dep.clock.timestamp()))
    _submit(driver, "form[action='/login'] button")
    assert _by(driver, "#pending-count").text == "1"

    # The button prepares the bundle and the page shows it; its link fetches the file.
    _submit(driver, "form[action='/inbox/prepare'] button")
    assert "1" in _by(driver, "#bundle-ready").text
    _by(driver, "#bundle-ready a").click()
    bundle = _wait_for_file(downloads)
    assert _by(driver, "#bundle-ready")  # the page stays, showing the bundle
    assert bundle.name.startswith("peluit-inbox-") and bundle.name.endswith(".bundle")
    reader = BundleReader(io.BytesIO(bundle.read_bytes()), server_trust(dep), "inbox",
                          lambda s: None, dep.cfg.deployment_id)
    assert reader.manifest.body["submissions"][0]["id"] == sub.submission_id

    replies = tmp_path / "replies.bundle"
    replies.write_bytes(reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "Kapan?")],
                                     acks=[sub.submission_id]))
    _by(driver, "#bundle").send_keys(str(replies))
    _submit(driver, "form[action='/replies'] button")
    assert _by(driver, "#accepted").text.startswith("Accepted")
    driver.get(base + "/")
    assert _by(driver, "#pending-count").text == "0"
