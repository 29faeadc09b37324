"""Recording "acknowledgment sent" on the workbench sends the reporter the standard message, and
the reporter reads it on the follow-up page: the whole way, with the real programs (as
test_round_trip: ``peluit init``, the reporter app and the gateway as WSGI apps, a vault from
``peluit workbench init``, bundles carried as files).

Before this test the button only wrote a day into the case: the acknowledgment service target was
"met" while the reporter saw nothing."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.roundtrip import RoundTrip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English


def test_acknowledgment_reaches_the_reporter(tmp_path, capsys):
    rt = RoundTrip(tmp_path, capsys).install()
    workbench = rt.workbench

    # A report is filed and carried to the workbench.
    codename, page = rt.file_report(("what", "Bendahara meminta potongan dari honor kegiatan."),
                                    ("category", "pungli"))
    # The received page promises the acknowledgment as the workbench will measure it.
    assert "standard message confirming that your report was received" in page.text
    rt.login_gateway()
    rt.fetch_inbox(1)
    rt.import_inbox(1)

    # On the workbench: the case, and the button that sends the acknowledgment.
    rt.login_workbench()
    listing = workbench.get("/cases", {"lang": "en"})
    cid = re.search(r'href="http://localhost/cases/(\d+)"', listing.text).group(1)
    case = workbench.get(f"/cases/{cid}", {"lang": "en"})
    assert "Send the standard acknowledgment to the reporter" in case.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', case.text).group(1)
    workbench.post(f"/cases/{cid}/acknowledge", {"csrf_token": csrf}, status=303)
    case = workbench.get(f"/cases/{cid}", {"lang": "en"})
    assert re.search(r'<tr class="clock-met"><td>Acknowledgment', case.text)
    assert "Send the standard acknowledgment" not in case.text  # sent once

    assert "1 question(s) or message(s)" in rt.export_replies(1)
    rt.upload_replies(1)

    # The reporter reads it, in Indonesian and in English, with the deployment's targets.
    rt.login_reporter(codename)
    page = rt.reporter.get("/followup")
    text = " ".join(page.text.split())
    assert "Laporan Anda telah diterima dan sedang ditelaah." in text
    assert "Your report has been received and is being reviewed." in text
    assert "Within 3 working days of receipt it is reviewed" in text
    assert "within 75 working days of receipt" in text
