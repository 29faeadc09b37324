"""WCAG 2.2 AA on every reporter page, in a real browser: axe-core (from the npm registry,
fetched by tests/install-deps.sh, injected by this test only: the pages themselves carry no
script and their CSP allows none) over each page of the journey, in Indonesian and English, at
1280 and 390 px. No serious or critical violation, one h1 per page."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.fixtures.axe import AXE, RUN, TAGS
from tests.fixtures.reporter_live import (
    ask_question,
    by,
    click,
    fill_report,
    get,
    onion_address,
    shoot,
    viewport,
)

pytestmark = pytest.mark.browser


def _audit(d, name: str, problems: list) -> None:
    assert len(d.find_elements(By.TAG_NAME, "h1")) == 1, name
    for width in ("desktop", "phone"):
        viewport(d, width)
        d.execute_script(AXE.read_text("utf-8"))
        for v in d.execute_async_script(RUN, TAGS):
            if v["impact"] in ("serious", "critical"):
                problems.append((name, width, v["id"], v["nodes"][:3]))
        shoot(d, f"axe-{name}-{width}")
    d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_every_reporter_page_meets_wcag_22_aa(browser_js, live):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tests/install-deps.sh all")
    d = browser_js
    d.set_script_timeout(60)
    problems: list = []
    for lang in ("id", "en"):
        d.execute_cdp_cmd("Network.clearBrowserCookies", {})
        get(d, f"{live.base}/?lang={lang}")
        _audit(d, f"landing-{lang}", problems)
        # A wrong codename: the failure page, with its retry form.
        by(d, "#codename-back").send_keys("satu dua tiga empat lima enam tujuh")
        click(d, by(d, "form.login button[type=submit]"))
        _audit(d, f"login-failed-{lang}", problems)
        get(d, f"{live.base}/nowhere")
        _audit(d, f"not-found-{lang}", problems)
        get(d, f"{live.base}/")
        by(d, f"input[name=words][value={lang}]").click()
        click(d, by(d, "form[action='/codename'] button[type=submit]"))
        _audit(d, f"codename-{lang}", problems)
        codename = " ".join(w.text for w in d.find_elements(By.CSS_SELECTOR, ".codename .word"))
        # Sent without the box ticked (the browser's own check bypassed, as an old one would).
        page = d.find_element(By.TAG_NAME, "html")
        d.execute_script("document.querySelector('main form').submit()")
        from selenium.webdriver.support.ui import WebDriverWait

        from tests.fixtures.browser import gone

        WebDriverWait(d, 20).until(gone(page))
        _audit(d, f"codename-unconfirmed-{lang}", problems)
        by(d, "input[name=written_down]").click()
        click(d, by(d, "main form button[type=submit]"))
        _audit(d, f"report-{lang}", problems)
        by(d, "[name=what]").send_keys("pendek")
        page = d.find_element(By.TAG_NAME, "html")
        d.execute_script("document.getElementById('report-form').submit()")
        WebDriverWait(d, 20).until(gone(page))
        _audit(d, f"report-error-{lang}", problems)
        fill_report(d)
        click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
        _audit(d, f"received-{lang}", problems)
        get(d, f"{live.base}/followup")
        action = by(d, "form[action$='/message']").get_attribute("action")
        ask_question(live, "Sejak kapan? / Since when?", action.rsplit("/", 2)[-2])
        get(d, f"{live.base}/followup")
        _audit(d, f"followup-{lang}", problems)
        answer = "form:has(input[name=in_reply_to])"
        by(d, f"{answer} textarea").send_keys("Sejak Januari.")
        click(d, by(d, f"{answer} button[type=submit]"))
        _audit(d, f"sent-{lang}", problems)
        get(d, f"{live.base}/followup")
        click(d, by(d, "form[action$='/delete'] button"))
        _audit(d, f"delete-confirm-{lang}", problems)
        click(d, by(d, "main form[action$='/delete'] button"))
        click(d, by(d, "form.logout button"))
        _audit(d, f"logged-out-{lang}", problems)
        get(d, f"{live.base}/followup")
        _audit(d, f"session-ended-{lang}", problems)
        assert codename
    assert problems == [], "\n".join(map(str, problems))


def test_public_pages_meet_wcag_22_aa(browser_js, tmp_path):
    """The "how to report safely" pages (static files, opened from disk)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tests/install-deps.sh all")
    from dropbox_app.publicpages import write

    written = write(tmp_path, onion_address(), "Inspektorat Jenderal Kementerian Contoh")
    d = browser_js
    d.set_script_timeout(60)
    problems: list = []
    for lang, path in written.pages.items():
        d.get(path.as_uri())
        _audit(d, f"public-{lang}", problems)
    assert problems == [], "\n".join(map(str, problems))


def test_the_pages_a_reporter_meets_when_something_goes_wrong_meet_wcag_22_aa(browser_js, live):
    """The refused duplicate of a report (the same form sent from a second tab), and the two
    pages the HTTP server sends by itself (a body over its backstop, a queue that did not move),
    shown at the channel's address so they get its stylesheet as a reporter would."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run tests/install-deps.sh all")
    from selenium.webdriver.support.ui import WebDriverWait

    from dropbox_app.reporter.render import busy_page, oversize_page
    from tests.fixtures.reporter_live import start

    d = browser_js
    d.set_script_timeout(60)
    problems: list = []
    for lang in ("id", "en"):
        start(d, live, lang)
        first = d.current_window_handle
        d.switch_to.new_window("tab")
        get(d, f"{live.base}/report/new")
        fill_report(d)
        d.switch_to.window(first)
        fill_report(d)
        click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
        d.switch_to.window(next(h for h in d.window_handles if h != first))
        click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
        duplicate = {"id": "Formulir ini sudah dikirim", "en": "This form was already sent"}
        assert by(d, "main h1").text == duplicate[lang], "no duplicate page"
        _audit(d, f"duplicate-{lang}", problems)
        d.close()
        d.switch_to.window(first)
        for name, page in (("too-large", oversize_page(lang)), ("busy", busy_page(lang))):
            get(d, f"{live.base}/nowhere")
            d.execute_script("document.open(); document.write(arguments[0]); document.close();",
                             page.decode("utf-8"))
            WebDriverWait(d, 20).until(
                lambda d: d.execute_script("return document.styleSheets.length") > 0)
            _audit(d, f"{name}-{lang}", problems)
    assert problems == [], "\n".join(map(str, problems))
