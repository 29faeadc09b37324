"""Proof of authorship, the whole flow in headless Chromium with JavaScript off, in id and en:
the reporter files a report → the inbox bundle goes to the workbench → a lead presses "Send a
proof of authorship" on the workbench's own pages → the reply bundle goes back through the
gateway → the reporter logs in with the codename, types a purpose line and gets the statement
page (text and QR) → `peluit verify-authorship` checks the text offline with the card the
workbench's page offers. Bundles travel as files between the real programs (WebTest drives the
gateway, as in tests/e2e). Screenshots of the changed pages go to /tmp/shots/authorship/."""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import webtest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from peluit.cli import main
from tests.fixtures.reporter_live import (
    WIDTHS,
    by,
    click,
    fill_report,
    get,
    start,
    viewport,
    whole_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

SHOTS = Path("/tmp/shots/authorship")
WB_PASS = "kopi tubruk pagi hari di kantor inspektorat"
DEMO = "--demo-not-air-gapped"
PURPOSE = {"id": "untuk LPSK, 3 Maret 2027", "en": "for LPSK, 3 March 2027"}


def _cli(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, f"peluit {' '.join(argv[:2])} failed: {err}"
    return out


def _shoot(d, name: str) -> None:
    """The whole page at both widths (DevTools protocol: no page script runs)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for which in ("desktop", "phone"):
        viewport(d, which)
        (SHOTS / f"{name}-{WIDTHS[which][0]}.png").write_bytes(whole_page(d))
    viewport(d, "desktop")


@pytest.fixture
def deployment(tmp_path, capsys):
    """A deployment on disk (peluit init), a vault pinning its server card, the vault's member
    enrolled as the one auditor, a gateway account; the reporter app on the real server and
    the workbench UI on waitress, both on loopback."""
    import waitress

    from crypto.kdf import TEST_PARAMS
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import initialise, load
    from dropbox_app.db import make_engine, upgrade
    from dropbox_app.server import make_server
    from peluit.ground.clock import FixedClock
    from workbench.web import make_app as make_workbench_app

    cfg = load(initialise(tmp_path / "d", reporter_listen="127.0.0.1:0"))
    upgrade(cfg.database_url)
    conf = str(cfg.base_dir / "peluit.toml")
    media = tmp_path / "usb"
    media.mkdir()
    (media / "server.card").write_text(_cli(capsys, "server-key", "show", "--config", conf))
    (tmp_path / "wb.pass").write_text(WB_PASS + "\n")
    vault = tmp_path / "vault"
    out = _cli(capsys, "workbench", "init", str(vault), "--name", "Ani",
               "--server-card", str(media / "server.card"), "--deployment-id",
               cfg.deployment_id, "--passphrase-file", str(tmp_path / "wb.pass"), DEMO)
    (media / "ani.card").write_text(next(x for x in out.splitlines() if x.startswith("{")))
    _cli(capsys, "auditor", "enroll", str(media / "ani.card"), "--config", conf)
    out = _cli(capsys, "gateway-user", "add", "ani", "--config", conf)
    secrets_ = {k: next(x.split(":", 1)[1].strip() for x in out.splitlines()
                        if x.startswith(k)) for k in ("passphrase", "TOTP secret")}
    engine = make_engine(cfg.database_url)
    reporter = make_reporter_app(cfg, engine=engine, argon2=TEST_PARAMS, kdf_slots=2,
                                 clock=FixedClock())
    srv = make_server(reporter, cfg.reporter_listen, cfg.max_upload_bytes + 2 ** 21, threads=4)
    srv.prepare()
    threading.Thread(target=srv.serve, daemon=True).start()
    wb = waitress.create_server(make_workbench_app(vault, demo_not_air_gapped=True),
                                host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=wb.run, daemon=True).start()
    gateway = webtest.TestApp(make_gateway_app(cfg))
    try:
        yield {"cfg": cfg, "vault": vault, "media": media, "gateway": gateway,
               "reporter": f"http://127.0.0.1:{srv.bind_addr[1]}",
               "workbench": f"http://127.0.0.1:{wb.effective_port}",
               "gw": secrets_, "wb_args": ("--vault", str(vault), "--as", "Ani",
                                           "--passphrase-file", str(tmp_path / "wb.pass"),
                                           DEMO)}
    finally:
        wb.close()
        srv.stop()
        engine.dispose()


def _wb_get(d, url: str) -> None:
    """The workbench's pages have no footer (reporter_live.get waits for one)."""
    from selenium.webdriver.support.ui import WebDriverWait

    d.get(url)
    WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.TAG_NAME, "main"))


def _wb_click(d, element) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.fixtures.browser import gone

    page = d.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(d, 20).until(gone(page))
    WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.TAG_NAME, "main"))


def _gateway_login(dep) -> None:
    from dropbox_app.gateway import totp

    gw = dep["gateway"]
    csrf = gw.get("/login").html.find("input", {"name": "csrf_token"})["value"]
    gw.post("/login", {"csrf_token": csrf, "username": "ani",
                       "passphrase": dep["gw"]["passphrase"],
                       "code": totp.code_at(dep["gw"]["TOTP secret"], time.time())}, status=303)


def _gateway_csrf(dep) -> str:
    return dep["gateway"].get("/").html.find("input", {"name": "csrf_token"})["value"]


@pytest.mark.parametrize("lang", ["id", "en"])
def test_statement_from_report_to_offline_check(browser, deployment, tmp_path, capsys, lang):
    d, dep = browser, deployment
    viewport(d, "desktop")
    d.execute_cdp_cmd("Network.clearBrowserCookies", {})
    # --- the reporter files a report (logged in: it carries the authorship key) ------------
    codename = start(d, type("L", (), {"base": dep["reporter"]})(), lang)
    fill_report(d)
    Select(by(d, "select[name=category]")).select_by_value("corruption")
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    get(d, f"{dep['reporter']}/followup")
    click(d, by(d, "form.ask-authorship button"))  # an ordinary message, with the key
    get(d, f"{dep['reporter']}/followup")
    click(d, by(d, "form.logout button"))
    # --- to the workbench, on removable media ----------------------------------------------
    _gateway_login(dep)
    inbox = dep["gateway"].post("/inbox", {"csrf_token": _gateway_csrf(dep)})
    (dep["media"] / "inbox.bundle").write_bytes(inbox.body)
    out = _cli(capsys, "workbench", "import", str(dep["media"] / "inbox.bundle"),
               *dep["wb_args"])
    assert "2 new submission(s)" in out  # the report and the request
    # --- a lead sends the proof of authorship, in the workbench's own pages -------------------
    wb = dep["workbench"]
    _wb_get(d, f"{wb}/login?lang={lang}")
    by(d, "#passphrase").send_keys(WB_PASS)
    _wb_click(d, by(d, "main form button[type=submit]"))
    _wb_get(d, f"{wb}/reports")
    link = d.find_element(By.CSS_SELECTOR, "a[href*='/reports/']")
    report_id = re.search(r"/reports/([0-9a-f]{32})", link.get_attribute("href")).group(1)
    _wb_get(d, f"{wb}/reports/{report_id}")
    ask = {"id": "Saya meminta bukti kepengarangan", "en": "I ask for a proof of authorship"}
    assert ask[lang] in by(d, "main").text
    assert by(d, "#authorship-key")  # the key has arrived
    _wb_click(d, by(d, "form[action$='/authorship'] button"))
    assert "#authorship" in d.current_url or d.current_url.endswith(f"/reports/{report_id}")
    _shoot(d, f"workbench-report-{lang}")
    _wb_get(d, f"{wb}/authorship")
    _shoot(d, f"workbench-authorship-{lang}")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - our loopback server
            f"{wb}/authorship/card", headers={"Cookie": cookie}), timeout=20) as answer:
        (tmp_path / "card.json").write_bytes(answer.read())
    _wb_click(d, by(d, "form.logout button"))
    _cli(capsys, "workbench", "export-replies", str(dep["media"] / "replies.bundle"),
         *dep["wb_args"])
    page = dep["gateway"].post("/replies", {"csrf_token": _gateway_csrf(dep)}, upload_files=[
        ("bundle", "replies.bundle", (dep["media"] / "replies.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None
    # --- the reporter comes back and prints the statement -----------------------------------
    get(d, f"{dep['reporter']}/?lang={lang}")
    by(d, "#codename-back").send_keys(codename)
    click(d, by(d, "form.login button[type=submit]"))
    assert by(d, ".authorship")  # the confirmation, with its form
    _shoot(d, f"reporter-followup-{lang}")
    by(d, ".authorship input[name=purpose]").send_keys(PURPOSE[lang])
    click(d, by(d, ".authorship button[type=submit]"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    assert d.find_elements(By.CSS_SELECTOR, ".statement-qr svg")
    text = by(d, "pre.statement-text").text
    _shoot(d, f"reporter-statement-{lang}")
    (tmp_path / "statement.txt").write_text(text + "\n", encoding="utf-8")
    # --- offline: the statement and the card, nothing else ---------------------------------
    out = _cli(capsys, "verify-authorship", str(tmp_path / "statement.txt"), "--card",
               str(tmp_path / "card.json"), "--language", lang)
    assert out.startswith("ASLI" if lang == "id" else "GENUINE")
    assert report_id in out and PURPOSE[lang] in out and "corruption" in out
    tampered = text.replace(text.splitlines()[3], text.splitlines()[3][::-1])
    (tmp_path / "tampered.txt").write_text(tampered, encoding="utf-8")
    assert main(["verify-authorship", str(tmp_path / "tampered.txt"), "--card",
                 str(tmp_path / "card.json"), "--language", lang]) == 1
    capsys.readouterr()
