"""The report form's question "does it concern the inspectorate itself?" in headless Chromium
with JavaScript off (Tor Browser at "Safest"), in Indonesian and English, against the real app
and server: answered "yes", the report and its file are sealed to the conflict group only; the
landing page says where such reports go and that KPK can be reached directly. Screenshots of
the landing page and the form go to /tmp/shots/coi/ (1280 and 390 px)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from crypto.envelope import open_bytes
from crypto.errors import NotARecipientError
from crypto.identity import AuditorIdentity
from dropbox_app import auditors, routing
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Submission
from tests.fixtures import reporter_live
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.reporter_live import (
    both_widths,
    by,
    click,
    fill_report,
    fresh_desktop,
    get,
    start,
)

pytestmark = pytest.mark.browser

TEXT = {"id": {"question": "Apakah laporan ini menyangkut Inspektorat Jenderal sendiri?",
               "landing": "Jika laporan Anda tentang Inspektorat Jenderal sendiri",
               "received": "diterima"},
        "en": {"question": "Does the report concern the Inspectorate General itself?",
               "landing": "If your report is about the Inspectorate General itself",
               "received": "received"}}


@pytest.fixture
def officer(live) -> AuditorIdentity:
    ident = AuditorIdentity.generate("Pejabat Menteri")
    with live.db() as s, s.begin():
        auditors.enroll(s, ident.card().to_bytes(), live.clock.day(), actor=SHELL,
                        group=routing.CONFLICT)
    pin_conflict(live.cfg.base_dir / "policy", [ident])  # named by the signed policy
    return ident


@pytest.fixture(autouse=True)
def _shots(monkeypatch, browser):
    monkeypatch.setattr(reporter_live, "SHOTS", Path("/tmp/shots/coi"))
    yield from fresh_desktop(browser)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_report_about_the_inspectorate_in_the_browser(browser, live, officer, tmp_path, lang):
    d = browser
    get(d, f"{live.base}/?lang={lang}")
    assert TEXT[lang]["landing"] in d.page_source and "kws.kpk.go.id" in d.page_source
    both_widths(d, f"landing-{lang}")
    start(d, live, lang)
    assert TEXT[lang]["question"] in d.page_source
    # "No" is preselected: a reporter who skips the question files an ordinary report
    assert by(d, "input[name=concerns][value=no]").is_selected()
    both_widths(d, f"report-form-{lang}")
    fill_report(d)
    by(d, "input[name=concerns][value=inspectorate]").click()
    evidence = tmp_path / "rekaman.txt"
    evidence.write_bytes(b"rekaman rapat inspektorat")
    by(d, "input[name=files]").send_keys(str(evidence))
    click(d, by(d, "#report-form button[type=submit]"))
    assert "rekaman.txt" in d.page_source
    with live.db() as s:
        subs = s.scalars(select(Submission)).all()
        blobs = [(live.cfg.store_dir / sub.member).read_bytes() for sub in subs]
    assert len(blobs) == 2
    for blob in blobs:
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [live.ident.box])   # the inspectorate's auditor
        meta, body = open_bytes(blob, [officer.box])
        if meta["kind"] == "report":
            assert json.loads(body)["concerns"] == "inspectorate"
