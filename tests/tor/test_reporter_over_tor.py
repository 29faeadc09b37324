"""The real reporter app (``peluit serve reporter``) behind the reporter onion, reached only
through the private Tor network: by a plain SOCKS client, and by headless Chromium with
JavaScript off running the whole reporter journey at the .onion address."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from crypto.envelope import open_bytes
from crypto.identity import AuditorIdentity
from tests.fixtures.tornet import chromium_over_tor

pytestmark = [pytest.mark.tor, pytest.mark.slow]


def _peluit(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "peluit", *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def deployment(tornet, tmp_path_factory):
    """A deployment made with the admin's commands, served by `peluit serve reporter` on the
    port the reporter onion points at."""
    data = tmp_path_factory.mktemp("deployment")
    layout = tornet.layout
    _peluit("init", "--data-dir", str(data),
            "--reporter-listen", f"127.0.0.1:{layout.reporter_port}",
            "--gateway-listen", f"127.0.0.1:{layout.gateway_port}")
    config = data / "peluit.toml"
    auditor = AuditorIdentity.generate("Auditor Satu")
    card = data / "auditor.card"
    card.write_bytes(auditor.card().to_bytes())
    _peluit("auditor", "enroll", str(card), "--config", str(config))
    proc = subprocess.Popen([sys.executable, "-m", "peluit", "serve", "reporter",
                             "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, proc.stderr.read()
        yield config, auditor
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_landing_page_at_the_onion_address(tornet, deployment):
    resp = tornet.get(tornet.anon, tornet.reporter)
    assert resp.status == 200
    page = resp.body.decode()
    assert 'lang="id"' in page and 'name="csrf_token"' in page
    assert "content-security-policy" in resp.headers
    assert "server" not in resp.headers


def _by_css(driver, selector):
    from selenium.common.exceptions import NoSuchElementException
    from selenium.webdriver.common.by import By

    try:
        return driver.find_element(By.CSS_SELECTOR, selector)
    except NoSuchElementException:
        raise AssertionError(f"no {selector} at {driver.current_url}:\n"
                             f"{driver.page_source[:3000]}") from None


def _submit(driver, selector):
    """Click a submit button and wait until its page is gone (a click returns before the
    navigation it starts has finished)."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.fixtures.browser import gone

    button = _by_css(driver, selector)
    button.click()
    WebDriverWait(driver, 90).until(gone(button))


def test_reporter_journey_in_chromium_without_javascript_over_tor(tornet, deployment, tmp_path):
    config, auditor = deployment
    base = f"http://{tornet.reporter.address}"
    evidence = tmp_path / "bukti-kontrak.txt"
    evidence.write_bytes(b"Kontrak 17/2026: 10% untuk kepala bagian.\n" * 200)
    what = "Kepala bagian pengadaan meminta 10% dari setiap nilai kontrak."

    with chromium_over_tor(tornet.anon.socks_port, tmp_path / "profile") as driver:
        # JavaScript is off, as in Tor Browser at "Safest": a page script cannot run.
        driver.get("data:text/html,<title>off</title><script>document.title='on'</script>")
        assert driver.title == "off"
        driver.get(base + "/")
        assert driver.current_url.startswith(base)
        _submit(driver, "form[action$='/codename'] button[type=submit]")
        words = [e.text for e in driver.find_elements("css selector", "span.word")]
        assert len(words) == 7
        codename = " ".join(words)
        _by_css(driver, "input[name=written_down]").click()
        _submit(driver, "form[action$='/codename/confirm'] button[type=submit]")

        _by_css(driver, "textarea[name=what]").send_keys(what)
        _by_css(driver, "input[name=who_unit]").send_keys("Bagian Pengadaan")
        _by_css(driver, "input[type=file][name=files]").send_keys(str(evidence))
        _submit(driver, "form[enctype='multipart/form-data'] button[type=submit]")
        assert "/report" in driver.current_url or "received" in driver.page_source

        # Log out, come back with the codename alone.
        _submit(driver, "form.logout button[type=submit]")
        driver.get(base + "/")
        _by_css(driver, "input[name=codename]").send_keys(codename)
        _submit(driver, "form[action$='/login'] button[type=submit]")
        assert driver.current_url.startswith(base + "/followup"), driver.current_url
        followup = driver.page_source
        assert "status-received" in followup

    # What arrived was encrypted as it streamed in; the auditor's key opens it.
    from sqlalchemy import create_engine, text

    from dropbox_app.config import load

    cfg = load(config)
    engine = create_engine(cfg.database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT member FROM submissions")).all()
    engine.dispose()
    opened = {}
    for (member,) in rows:
        # The row's kind is the same for every submission; the real one is sealed inside.
        meta, body = open_bytes((cfg.store_dir / member).read_bytes(), [auditor.box])
        opened[meta["kind"]] = (meta, body)
    assert json.loads(opened["report"][1])["what"] == what
    assert opened["file"][0]["name"] == evidence.name
    assert opened["file"][1] == evidence.read_bytes()


def test_real_gateway_behind_its_client_authorized_onion(tornet, deployment):
    from tor import testnet

    config, _ = deployment
    proc = subprocess.Popen([sys.executable, "-m", "peluit", "serve", "gateway",
                             "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, proc.stderr.read()
        # A new auditor key; keys revoked by earlier tests leave the auditor's client.
        for old in tornet.auditor.auth_dir.glob("*.auth_private"):
            old.unlink()
        tornet.peluit("tor", "add-client", "dewi", "--config", str(tornet.config),
                      "--out", str(tornet.auditor.auth_dir / "dewi.auth_private"))
        tornet.reload_host()
        tornet.auditor.reload()
        tornet.auditor.forget_onion_descriptors()
        resp = tornet.get(tornet.auditor, tornet.gateway, "/login")
        assert resp.status == 200 and b"<form" in resp.body
        assert "server" not in resp.headers
        # The reporter's Tor client has no key for the gateway: refused before any HTTP.
        with pytest.raises(testnet.SocksError) as err:
            tornet.get(tornet.anon, tornet.gateway, "/login", retry=20)
        assert err.value.code in (testnet.ONION_MISSING_CLIENT_AUTH,
                                  testnet.ONION_WRONG_CLIENT_AUTH)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
        tornet.peluit("tor", "remove-client", "dewi", "--config", str(tornet.config),
                      check=False)
