"""Redaction in a real browser with JavaScript off (headless Chromium), on the real workbench
server: two clicks on the page picture black out a region, in Indonesian and in English; the
words to black out are typed in a form over the report's text; the forwarding form offers each
file as its safe copy or, with a warning, as its original. Screenshots of these pages at 1280
and 390 px go to $PELUIT_SHOTS (default /tmp/shots/redact)."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image, ImageDraw, ImageFont

from tests.fixtures.browser import gone
from tests.fixtures.office_files import xlsx
from tests.fixtures.workbench_vault import PASS, Item, build_inbox, make_vault, report_item
from workbench.safecopy import redact

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.gpg]
SHOTS = Path(os.environ.get("PELUIT_SHOTS", "/tmp/shots/redact"))  # noqa: S108


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scan() -> bytes:
    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    big = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 44)
    small = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    draw.text((100, 120), "NOTA DINAS", fill="black", font=big)
    draw.text((100, 260), "Dibuat oleh Budi Santoso", fill="black", font=big)
    for i, line in enumerate(("Biaya izin usaha dinaikkan tanpa dasar peraturan.",
                              "Uang pelicin diserahkan di loket tiga setiap Jumat.",
                              "Kuitansi fiktif dibuat oleh bendahara.")):
        draw.text((100, 420 + 60 * i), line, fill="black", font=small)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def served(tmp_path):
    """A vault with one report (a scan naming the reporter, a spreadsheet), imported by the CLI
    and served by ``peluit workbench serve``."""
    tv = make_vault(tmp_path)
    report = report_item("Pungli izin usaha di loket tiga")
    form = json.loads(report.body)
    report.body = json.dumps({**form, "who_name": "Pak Y", "how": "uang pelicin di loket tiga"}
                             ).encode()
    same = {"report": report.report, "reporter": report.reporter}
    scan = Item("file", _scan(), name="nota_dinas.png", content_type="image/png", **same)
    sheet = Item("file", xlsx("Budi Santoso", "PT Kontraktor", {"izin": 150000}),
                 name="tarif.xlsx", content_type="application/vnd.openxmlformats-"
                 "officedocument.spreadsheetml.sheet", **same)
    inbox = tmp_path / "inbox.bundle"
    inbox.write_bytes(build_inbox(tv, [report, scan, sheet], 1))
    passfile = tmp_path / "pass"
    passfile.write_text(PASS + "\n")
    peluit = [sys.executable, "-m", "peluit", "workbench"]
    subprocess.run([*peluit, "import", str(inbox), "--vault", str(tv.path), "--as",
                    tv.lead.key_id, "--passphrase-file", str(passfile), "--demo-not-air-gapped"],
                   check=True, capture_output=True, timeout=120)
    port = _free_port()
    proc = subprocess.Popen([*peluit, "serve", str(tv.path), "--port", str(port),
                             "--demo-not-air-gapped"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}", tv, scan.id
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _shoot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        driver.set_window_size(width, 1000)
        height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        driver.set_window_size(width, min(int(height) + 120, 6000))
        driver.save_screenshot(str(SHOTS / f"{name}-{width}.png"))
    driver.set_window_size(1280, 1000)


def _go(driver, url: str):
    driver.get(url)
    return driver.find_element("tag name", "body")


def _submit(driver, element) -> None:
    from selenium.webdriver.support.ui import WebDriverWait
    body = driver.find_element("tag name", "body")
    element.click()
    WebDriverWait(driver, 300).until(gone(body))


def _click_at(driver, element, x: int, y: int) -> None:
    """Click the picture at (x, y) from its top left corner. Selenium offsets from the centre of
    the part of the element in view: the window is made tall enough to show all of it."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait
    driver.set_window_size(1280, 2600)
    body = driver.find_element("tag name", "body")
    width, height = element.size["width"], element.size["height"]
    ActionChains(driver).move_to_element_with_offset(
        element, x - width // 2, y - height // 2).click().perform()
    WebDriverWait(driver, 120).until(gone(body))


def _fetch(base: str, driver, path: str, body: dict | None = None) -> tuple[int, bytes]:
    """A request with the browser's session cookie (to check a download or set a case up)."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    host, port = base.rsplit("/", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    headers = {"Cookie": cookie}
    data = None
    if body is not None:
        page = driver.page_source
        body = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page)[1], **body}
        data = urlencode(body).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request("POST" if body is not None else "GET", path, body=data, headers=headers)
    res = conn.getresponse()
    out = res.status, res.read()
    conn.close()
    return out


def _text(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


@pytest.fixture(scope="module")
def agency_key(tmp_path_factory) -> str:
    import gnupg
    gpg = gnupg.GPG(gnupghome=str(tmp_path_factory.mktemp("kpk-gnupg")))
    key = gpg.gen_key(gpg.gen_key_input(
        key_type="EDDSA", key_curve="ed25519", subkey_type="ECDH", subkey_curve="cv25519",
        name_real="KPK Pengaduan", name_email="pengaduan@kpk.example", no_protection=True))
    return gpg.export_keys(key.fingerprint)


def test_redaction_with_javascript_off_in_indonesian_and_english(
        browser, served, agency_key):
    driver = browser
    base, tv, scan_id = served
    _go(driver, base + "/login?lang=id")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element("name", "auditor")).select_by_value(tv.lead.key_id)
    driver.find_element("name", "passphrase").send_keys(PASS)
    _submit(driver, driver.find_element("css selector", "form button[type=submit]"))
    _go(driver, base + "/cases")
    case_url = driver.find_element("css selector", "a[href*='/cases/1']").get_attribute("href")
    cid = re.search(r"/cases/(\d+)", case_url)[1]
    _go(driver, f"{base}/cases/{cid}")
    # The case goes to forwarding (the lead may do every step), an agency is enrolled.
    for action, fields in (("start", {}),
                           ("review", {"darwas": "1", "category": "corruption",
                                       "core_issue": "pungli", "submit": "1"}),
                           ("decide", {"decision": "forward", "reason": "kewenangan KPK"})):
        status, _ = _fetch(base, driver, f"/cases/{cid}/{action}", fields)
        assert status == 303, action
    _go(driver, f"{base}/cases/agencies")
    status, _ = _fetch(base, driver, "/cases/agencies", {"name": "KPK", "kind": "kpk",
                                                         "key": agency_key})
    assert status == 303
    # Make the scan's safe copy with the button, as an auditor would.
    _go(driver, f"{base}/cases/{cid}")
    # (the button's form ends the paragraph it is written in: HTML closes a <p> at a <form>)
    button = driver.find_element("xpath", f"//*[@id='file-{scan_id}']/following::button[1]")
    assert button.text == "Buat salinan aman"
    _submit(driver, button)
    link = driver.find_element("css selector", f"#file-{scan_id} a[href$='/redact']")
    assert link.text == "Sensor sebelum diteruskan"
    _submit(driver, link)
    assert "Klik satu sudut" in driver.page_source
    picture = driver.find_element("css selector", "input[type=image][name=at]")
    assert picture.size["width"] == 800
    sub = re.search(r"/files/([0-9a-f]{32})/redact", driver.current_url)[1]
    status, copy = _fetch(base, driver, f"/cases/{cid}/files/{sub}/safe-copy")
    img, words = redact.page_image(copy, 1)
    name = [w for w in words if w.text in ("Budi", "Santoso")]
    assert len(name) == 2, words
    k = 800 / img.width
    _click_at(driver, picture, int((name[0].left - 6) * k), int((name[0].top - 6) * k))
    driver.set_window_size(1280, 1000)
    assert "Sudut ditandai" in driver.page_source
    _shoot(driver, "redact-corner-id")
    picture = driver.find_element("css selector", "input[type=image][name=at]")
    _click_at(driver, picture, int((name[1].left + name[1].width + 6) * k) + 1,
              int((name[1].top + name[1].height + 6) * k) + 1)
    assert "Sudut ditandai" not in driver.page_source
    assert driver.find_elements("xpath", "//button[normalize-space()='Hapus']")
    _shoot(driver, "redact-page-id")
    status, out = _fetch(base, driver, f"/cases/{cid}/files/{sub}/redacted")
    assert status == 200
    text = _text(out)
    assert "Budi" not in text and "Santoso" not in text and "bendahara" in text

    # English: the typed-edges form, then the words over the report's text.
    _go(driver, driver.current_url.split("?")[0] + "?lang=en")
    assert "Click one corner" in driver.page_source
    for field, value in (("left", "5"), ("top", "5"), ("right", "60"), ("bottom", "10")):
        driver.find_element("name", field).send_keys(value)
    _submit(driver, driver.find_element("xpath", "//button[normalize-space()='Black out']"))
    assert "left 5 %, top 5 %, right 60 %, bottom 10 %" in driver.page_source
    _shoot(driver, "redact-page-en")
    _submit(driver, driver.find_element("link text", "Words to black out"))
    driver.find_element("name", "phrases").send_keys("Pak Y\nloket tiga")
    _submit(driver, driver.find_element("xpath", "//button[normalize-space()='Save and show']"))
    shown = driver.find_element("css selector", "main").text
    forwarded = shown.split("The text as it will be forwarded")[-1]
    assert redact.BLACK_TEXT in forwarded and "loket tiga" not in forwarded
    assert "Pak Y" not in forwarded
    _shoot(driver, "redact-words-en")
    _go(driver, f"{base}/cases/{cid}/redact-text?lang=id")
    assert "Kata yang dihitamkan" in driver.page_source
    _shoot(driver, "redact-words-id")
    status, out = _fetch(base, driver, f"/cases/{cid}/files/{sub}/redacted")
    assert "loket tiga" not in _text(out) and "NOTA DINAS" not in _text(out)

    # The forwarding form: safe copy by default, the original with its warning.
    _go(driver, f"{base}/cases/{cid}?lang=id")
    radios = driver.find_elements("css selector", "input[type=radio][value=safe]")
    assert len(radios) == 2 and all(r.is_selected() for r in radios)
    assert "Berkas asli dapat membawa" in driver.page_source
    _shoot(driver, "case-forward-id")
    _go(driver, f"{base}/cases/{cid}?lang=en")
    assert "The original may carry" in driver.page_source
    _shoot(driver, "case-forward-en")
    _go(driver, f"{base}/cases/{cid}/files/{sub}/redact?lang=id")
    _shoot(driver, "redact-start-id")
