"""Identity in escrow in headless Chromium with JavaScript off (Tor Browser at "Safest"), in
Indonesian and English, against the real app and server: the reporter deposits their identity
with the report and later from the follow-up page, sees a lead's request with its reason,
consents or refuses with a plain form, and sees what they answered. The custodian then opens the
deposit with the release that came back, and only with it. Screenshots of the changed pages go
to /tmp/shots/escrow/ (1280 and 390 px)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from crypto import escrow
from crypto.encoding import b64decode
from crypto.envelope import open_bytes
from crypto.errors import AuthenticationError
from dropbox_app.models import Reply, Report, Reporter, Submission, new_id
from tests.fixtures import escrow as esc
from tests.fixtures import reporter_live
from tests.fixtures.reporter_live import (
    Live,
    both_widths,
    by,
    click,
    fill_report,
    fresh_desktop,
    get,
    start,
)

pytestmark = pytest.mark.browser

TEXT = {
    "id": {"deposited": "dititipkan bersama laporan", "consented": "Anda menyetujui",
           "refused": "Anda menolak", "request": "Pimpinan meminta",
           "deposit_later": "Identitas Anda telah dienkripsi untuk para kustodian"},
    "en": {"deposited": "deposited with the report", "consented": "You consented",
           "refused": "You refused", "request": "A lead asks to open",
           "deposit_later": "Your identity was encrypted for the custodians"},
}
REASON = {"id": "Untuk permohonan perlindungan Anda ke LPSK.",
          "en": "For your application for protection to LPSK."}


@pytest.fixture
def people(live):
    people = esc.custodians(2)
    esc.install_policy(live.cfg.base_dir / "policy", people)
    return people


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/escrow"))
    yield from fresh_desktop(browser)


def _opened(live: Live, kind: str) -> list[tuple[dict, bytes]]:
    out = []
    with live.db() as s:
        for sub in s.scalars(select(Submission)):
            meta, body = open_bytes((live.cfg.store_dir / sub.member).read_bytes(),
                                    [live.ident.box])
            if meta["kind"] == kind:
                out.append((meta, body))
    return out


def _request(live: Live, deposit_id: str, reason: str) -> str:
    """A lead's request, as the workbench's reply bundle brings it (workbench/exporter.py)."""
    with live.db() as s:
        report = s.scalar(select(Report))
        reporter = s.get(Reporter, report.reporter_id)
        reply_id = new_id()
        env = esc.request_reply(live.cfg.store_dir, reporter.public_key, report.id, reply_id,
                                deposit_id, new_id(), reason)
        s.add(Reply(id=reply_id, report_id=report.id, kind="message", member=f"{reply_id}.env",
                    padded_size=len(env), created_day=live.clock.day()))
        s.commit()
    return reply_id


@pytest.mark.parametrize("lang", ["id", "en"])
def test_deposit_request_and_consent(browser, live, people, lang):
    d = browser
    start(d, live, lang)
    fieldset = by(d, "fieldset#escrow")
    assert "LPSK" in fieldset.text
    both_widths(d, f"report-form-{lang}")
    fill_report(d)
    for name, value in esc.FORM.items():
        by(d, f"input[name={name}]").send_keys(value)
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    assert TEXT[lang]["deposited"] in by(d, "main").text
    reporter_live.shoot(d, f"received-{lang}-desktop")

    [(_meta, body)] = _opened(live, "deposit")
    dep = escrow.parse_deposit(body)
    with live.db() as s:
        report = s.scalar(select(Report))
    # Custodians with their keys and no consent: nothing.
    with pytest.raises(AuthenticationError):
        escrow.open_deposit(body, report_id=report.id, reporter_key=dep.reporter_key,
                            custodians=people)

    reply_id = _request(live, dep.deposit_id, REASON[lang])
    get(d, f"{live.base}/followup")
    page = by(d, "main").text
    assert REASON[lang] in page and TEXT[lang]["request"] in page
    both_widths(d, f"followup-request-{lang}")
    click(d, by(d, "button[name=decision][value=consent]"))
    page = by(d, "main").text
    assert TEXT[lang]["consented"] in page
    assert not d.find_elements(By.CSS_SELECTOR, "button[name=decision]")
    both_widths(d, f"followup-consented-{lang}")

    [(_, consent)] = _opened(live, "consent")
    consent = json.loads(consent)
    assert consent["decision"] == "consent" and consent["deposit"] == dep.deposit_id
    release = b64decode(consent["release"], length=32)
    assert escrow.open_deposit(body, report_id=report.id, reporter_key=dep.reporter_key,
                               custodians=people[:1], release=release) == esc.IDENTITY
    assert reply_id


@pytest.mark.parametrize("lang", ["id", "en"])
def test_deposit_later_and_refuse(browser, live, people, lang):
    d = browser
    start(d, live, lang)
    fill_report(d)
    click(d, by(d, "#report-form button[type=submit]:not([formaction])"))
    get(d, f"{live.base}/followup")
    both_widths(d, f"followup-deposit-form-{lang}")
    form = by(d, "form[action$='/deposit']")
    for name, value in esc.FORM.items():
        form.find_element(By.CSS_SELECTOR, f"input[name={name}]").send_keys(value)
    click(d, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert TEXT[lang]["deposit_later"] in by(d, "main").text
    [(meta, _body)] = _opened(live, "deposit")
    _request(live, meta["submission"], REASON[lang])
    get(d, f"{live.base}/followup")
    click(d, by(d, "button[name=decision][value=refuse]"))
    assert TEXT[lang]["refused"] in by(d, "main").text
    [(_, answer)] = _opened(live, "consent")
    assert json.loads(answer)["release"] is None
