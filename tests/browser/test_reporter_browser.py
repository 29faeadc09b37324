"""The whole reporter journey in headless Chromium with JavaScript disabled, against the real
reporter app on the real HTTP server on loopback: codename, report with a file,
acknowledgment, logout, return with the codename, a question from the workbench, an answer with
a file, a retaliation notice, deleting the question, logout."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from nacl.public import PublicKey
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from crypto.envelope import open_bytes, seal_bytes
from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app import auditors
from dropbox_app.app import make_reporter_app
from dropbox_app.config import initialise, load
from dropbox_app.db import make_engine, session_factory, upgrade
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Reply, Report, Reporter, Submission, new_id
from dropbox_app.server import make_server
from peluit.ground.clock import Clock
from tests.fixtures.browser import gone

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path):
    cfg = load(initialise(tmp_path / "d", reporter_listen="127.0.0.1:0"))
    upgrade(cfg.database_url)
    engine = make_engine(cfg.database_url)
    ident = AuditorIdentity.generate("Auditor Browser")
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, ident.card().to_bytes(), Clock().day(), actor=SHELL)
    app = make_reporter_app(cfg, engine=engine, argon2=TEST_PARAMS, kdf_slots=2)
    srv = make_server(app, cfg.reporter_listen, cfg.max_upload_bytes + 2 ** 21, threads=4)
    srv.prepare()
    thread = threading.Thread(target=srv.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.bind_addr[1]}", cfg, engine, ident
    finally:
        srv.stop()
        engine.dispose()


def _click(driver, element) -> None:
    """Click and wait for the next page (a click does not always wait for the navigation)."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 20).until(gone(page))
    # The footer is the last thing on every page: once it is there, the page is complete.
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "footer"))


def _submit(driver, form_css: str = "main form") -> None:
    _click(driver, driver.find_element(By.CSS_SELECTOR, f"{form_css} button[type=submit]"))


def test_reporter_journey_without_javascript(browser, live, tmp_path):
    base, cfg, engine, ident = live
    d = browser
    # JavaScript really is off: a page's script does not run.
    d.get("data:text/html,<title>off</title><script>document.title='on'</script>")
    assert d.title == "off"
    d.delete_all_cookies()
    d.get(base + "/")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    d.save_screenshot(str(tmp_path / "landing.png"))
    _click(d, d.find_element(By.LINK_TEXT, "English"))
    assert d.find_element(By.TAG_NAME, "h1").text.startswith("Report fraud")

    # Get a codename (English words).
    d.find_element(By.CSS_SELECTOR, "input[name=words][value=en]").click()
    _click(d, d.find_element(By.CSS_SELECTOR, "form[action='/codename'] button"))
    words = [w.text for w in d.find_elements(By.CSS_SELECTOR, ".codename .word")]
    assert len(words) == 7
    codename = " ".join(words)
    d.find_element(By.NAME, "written_down").click()
    _submit(d)

    # File the report with a file.
    assert d.current_url.endswith("/report/new")
    Select(d.find_element(By.NAME, "category")).select_by_value("pungli")
    d.find_element(By.NAME, "what").send_keys("Illegal levies at counter 3 for business permits.")
    d.find_element(By.NAME, "who_unit").send_keys("Licensing office")
    evidence = tmp_path / "daftar tarif.txt"
    evidence.write_bytes(b"Rp 500.000 per permit\n" * 2000)
    d.find_element(By.NAME, "files").send_keys(str(evidence))
    _submit(d)
    assert "working days" in d.page_source
    # The acknowledgment names the files received (this response only: never stored).
    assert "daftar tarif.txt" in d.find_element(By.CSS_SELECTOR, "ul.files").text

    with session_factory(engine)() as s:
        subs = s.scalars(select(Submission)).all()
        got = {}
        for sub in subs:
            meta, body = open_bytes((cfg.store_dir / sub.member).read_bytes(), [ident.box])
            got[meta["kind"]] = (meta, body)
        assert got["file"][0]["name"] == "daftar tarif.txt"
        assert got["file"][1] == evidence.read_bytes()
        assert json.loads(got["report"][1])["category"] == "pungli"
        report = s.scalar(select(Report))
        reporter = s.get(Reporter, report.reporter_id)
        # The workbench asks a question, sealed to the reporter's key.
        qid = new_id()
        env = seal_bytes(json.dumps({"text": "Since when does this happen?"}).encode(),
                         [PublicKey(reporter.public_key)],
                         {"v": 1, "kind": "question", "report": report.id, "reply": qid})
        (cfg.store_dir / f"{qid}.env").write_bytes(env)
        s.add(Reply(id=qid, report_id=report.id, kind="question", member=f"{qid}.env",
                    padded_size=len(env), created_day=Clock().day()))
        s.commit()

    _click(d, d.find_element(By.CSS_SELECTOR, "form.logout button"))
    assert "New Identity" in d.page_source

    # Come back with the codename, typed sloppily.
    d.get(base + "/")
    d.find_element(By.ID, "codename-back").send_keys("  " + codename.upper().replace(" ", ",  "))
    _click(d, d.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    assert d.current_url.endswith("/followup")
    assert "Received" in d.find_element(By.CSS_SELECTOR, ".status").text
    assert "Since when does this happen?" in d.page_source

    # Answer the question, with a file.
    answer_form = f"form:has(input[name=in_reply_to][value='{qid}'])"
    d.find_element(By.CSS_SELECTOR, f"{answer_form} textarea").send_keys("Since January.")
    receipt = tmp_path / "kuitansi.txt"
    receipt.write_bytes(b"receipt 123")
    d.find_element(By.CSS_SELECTOR, f"{answer_form} input[type=file]").send_keys(str(receipt))
    _submit(d, answer_form)
    assert "encrypted and stored" in d.page_source
    assert "kuitansi.txt" in d.find_element(By.CSS_SELECTOR, "ul.files").text
    _click(d, d.find_element(By.LINK_TEXT, "Back to your report's page"))

    # Report retaliation.
    d.find_element(By.CSS_SELECTOR, "form[action$='/retaliation'] textarea").send_keys(
        "My supervisor moved me to another unit.")
    _submit(d, "form[action$='/retaliation']")
    assert "handled with priority" in d.page_source, d.find_element(By.TAG_NAME, "main").text

    # Delete the question, which has been read: two steps, no script.
    _submit(d, "form[action$='/delete']")
    assert d.find_element(By.TAG_NAME, "h1").text == "Delete this message?"
    _submit(d, "form[action$='/delete']")
    assert "The message was deleted." in d.page_source

    _click(d, d.find_element(By.CSS_SELECTOR, "form.logout button"))
    assert "New Identity" in d.page_source
    d.get(base + "/followup")
    assert d.find_element(By.TAG_NAME, "h1").text == "Your session has ended"

    with session_factory(engine)() as s:
        # The kind is inside the envelope only (the row's kind is uniform).
        kinds = sorted(open_bytes((cfg.store_dir / m).read_bytes(), [ident.box])[0]["kind"]
                       for m in s.scalars(select(Submission.member)))
        assert kinds == ["file", "file", "message", "report", "retaliation"]
        assert s.get(Reply, qid) is None
