"""The reporter journeys that must never hurt a reporter, in headless Chromium with JavaScript
off (Tor Browser at "Safest"), against the real app and server with a clock the test moves:
a report typed past every session limit is accepted; switching the language keeps every field;
a first-time reporter whose session ended carries on with the codename; the warnings about
Tor Browser's security level and about other browsers."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import func, select

from dropbox_app.models import Report, Submission
from dropbox_app.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS
from tests.fixtures.reporter_live import (
    FIELDS,
    Live,
    ask_question,
    by,
    click,
    fill_report,
    fresh_desktop,
    get,
    shoot,
    start,
    viewport,
)

pytestmark = pytest.mark.browser

@pytest.fixture(autouse=True)
def _desktop(browser):
    yield from fresh_desktop(browser)


def _reports(live: Live) -> int:
    with live.db() as s:
        return s.scalar(select(func.count()).select_from(Report))


def test_report_typed_for_hours_is_accepted(browser, live, tmp_path):
    d = browser
    start(d, live, "en")
    assert "valid for 24 hours" in by(d, "#time-note").text  # said up front
    fill_report(d)
    evidence = tmp_path / "daftar tarif.pdf"
    evidence.write_bytes(b"%PDF-1.4 tarif\n" * 100)
    by(d, "input[name=files]").send_keys(str(evidence))
    live.clock.advance(ABSOLUTE_SECONDS + 3600)  # three hours of typing: the session is over
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    assert by(d, "h1").text == "Your report has been received"
    assert "daftar tarif.pdf" in by(d, "ul.files").text
    assert by(d, "input[name=codename]")  # the way back in: the session itself had ended
    shoot(d, "received-after-timeout-en-desktop")
    assert _reports(live) == 1
    with live.db() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 2


def test_switching_language_keeps_every_field(browser, live):
    d = browser
    start(d, live, "id")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    fill_report(d)
    click(d, d.find_element(By.CSS_SELECTOR, "nav.langs button[lang=en]"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert by(d, "h1").text == "File a report"
    for name, value in FIELDS.items():
        assert by(d, f"[name={name}]").get_attribute("value") == value, name
    assert Select(by(d, "select[name=category]")).first_selected_option.get_attribute(
        "value") == "pungli"
    shoot(d, "report-after-switch-en-desktop")
    click(d, d.find_element(By.CSS_SELECTOR, "nav.langs button[lang=id]"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    for name, value in FIELDS.items():
        assert by(d, f"[name={name}]").get_attribute("value") == value, name
    # And the report still goes out, once, from the switched form.
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    assert _reports(live) == 1


def test_first_time_reporter_carries_on_after_the_session_ended(browser, live):
    d = browser
    codename = start(d, live, "en")
    live.clock.advance(IDLE_SECONDS + 60)  # left the form open, came back later
    get(d, live.base + "/report/new")
    assert by(d, "h1").text == "Your session has ended"
    assert "codename you wrote down" in by(d, "main").text
    by(d, "#codename-again").send_keys(codename)
    # The codename is not typed blind: "show" works without JavaScript.
    field = by(d, "#codename-again")
    assert field.value_of_css_property("-webkit-text-security") == "disc"
    by(d, ".codename-field .show-toggle").click()
    assert field.value_of_css_property("-webkit-text-security") == "none"
    shoot(d, "session-ended-en-desktop")
    click(d, by(d, "form.login button[type=submit]"))
    assert d.current_url.endswith("/report/new")
    fill_report(d)
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    assert by(d, "h1").text == "Your report has been received"
    assert _reports(live) == 1


def test_security_level_warning_shows_only_when_scripts_run(browser, browser_js, live):
    get(browser_js, live.base + "/?lang=en")
    assert by(browser_js, ".warn-js").is_displayed()  # Tor Browser below "Safest"
    get(browser, live.base + "/?lang=en")
    assert not by(browser, ".warn-js").is_displayed()  # "Safest": no script runs
    # Chromium is not Gecko, so not Tor Browser: that warning shows either way.
    assert by(browser, ".warn-browser").is_displayed()
    assert by(browser_js, ".warn-browser").is_displayed()


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_safety_advice_is_above_the_fold(browser, live, width):
    d = browser
    viewport(d, width)
    for lang in ("id", "en"):
        get(d, f"{live.base}/?lang={lang}")
        safety = by(d, "section.safety")
        bottom = safety.rect["y"] + safety.rect["height"]
        # The browser warning sits above it here (Chromium); in Tor Browser it is hidden.
        warning = by(d, ".warn-browser").rect["height"]
        assert bottom - warning <= 844 if width == "phone" else bottom <= 800, (lang, bottom)
        assert len(d.find_elements(By.TAG_NAME, "h1")) == 1
        shoot(d, f"landing-{lang}-{width}")


def test_follow_up_is_a_conversation_with_a_two_step_delete(browser, live):
    d = browser
    codename = start(d, live, "en")
    fill_report(d)
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    live.clock.advance(2 * 86400)
    qid = ask_question(live, "Since when does this happen?")
    click(d, by(d, "form.logout button"))
    get(d, live.base + "/?lang=en")
    by(d, "#codename-back").send_keys(codename)
    click(d, by(d, "form.login button[type=submit]"))
    thread = [li.get_attribute("class") for li in
              d.find_elements(By.CSS_SELECTOR, "ol.thread > li")]
    assert thread == ["from-you", "from-verifier reply"]  # the report, then the question
    assert "not even you can read it again" in by(d, "main").text  # the decision, explained
    answer = f"form:has(input[name=in_reply_to][value='{qid}'])"
    by(d, f"{answer} textarea").send_keys("Since January.")
    # Each form has its own language switch, which keeps what was typed in it.
    click(d, by(d, f"{answer} button.relang"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    assert by(d, f"{answer} textarea").get_attribute("value") == "Since January."
    click(d, by(d, f"{answer} button.relang"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    click(d, by(d, f"{answer} button[type=submit]:not([formaction])"))
    click(d, d.find_element(By.LINK_TEXT, "Back to your report's page"))
    item = by(d, "ol.thread > li.from-verifier")
    assert "Answered" in item.find_element(By.CSS_SELECTOR, ".meta").text
    # Answered: the box folds away behind "Add to your answer" (details, no script).
    assert not by(d, f"{answer} textarea").is_displayed()
    shoot(d, "followup-en-desktop")
    # Deleting asks first; "No" keeps it.
    click(d, by(d, "form[action$='/delete'] button"))
    assert by(d, "h1").text == "Delete this message?"
    shoot(d, "delete-confirm-en-desktop")
    click(d, d.find_element(By.LINK_TEXT, "No, keep it and go back"))
    assert "Since when does this happen?" in by(d, "main").text
    click(d, by(d, "form[action$='/delete'] button"))
    click(d, by(d, "main form[action$='/delete'] button.danger"))
    assert "The message was deleted." in by(d, "main").text
    assert "Since when does this happen?" not in by(d, "main").text
