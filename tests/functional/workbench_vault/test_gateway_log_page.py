"""The gateway admin log page: the entries the vault kept, newest first, the last import's
problems as an alert, for every role including the compliance officer."""

import io

from tests.fixtures.workbench_vault import (
    OTHER_PASS,
    add_person,
    build_inbox,
    carried,
    gateway_log,
    login,
    report_item,
)
from workbench.importer import import_bundle


def _import(tv, seq, log):
    data = build_inbox(tv, [report_item()], seq=seq, body_extra={"admin_log": carried(log)})
    return import_bundle(tv.lead, io.BytesIO(data))


def test_entries_newest_first_and_no_alert_when_the_log_follows_on(lead_app, tv):
    assert "Belum ada entri" in lead_app.get("/gateway-log").text  # Indonesian by default
    _import(tv, 1, gateway_log(3))
    page = lead_app.get("/gateway-log")
    rows = page.html.find(id="gateway-log").find("tbody").find_all("tr")
    assert [r.find("td").text for r in rows] == ["3", "2", "1"]
    assert "key_id=" + "0" * 32 in rows[-1].text and "root" in rows[-1].text
    assert page.html.find(id="gateway-log-problems") is None
    assert 'href="http://localhost/gateway-log"' in page.text  # in the navigation


def test_the_last_imports_problems_are_an_alert_until_an_import_follows_on(lead_app, tv):
    log = gateway_log(4)
    _import(tv, 1, log)
    _import(tv, 2, log[:2])  # cut short on the server
    alert = lead_app.get("/gateway-log").html.find(id="gateway-log-problems")
    assert alert is not None and "truncated" in alert.text
    assert "Bundel sebelumnya membawa entri sampai 4; bundel ini berakhir di 2." in alert.text
    alert = lead_app.get("/gateway-log?lang=en").html.find(id="gateway-log-problems")
    assert "An earlier bundle carried entries up to 4; this one ends at 2." in alert.text
    _import(tv, 3, log)  # the whole log again: it follows on from what was kept
    assert lead_app.get("/gateway-log").html.find(id="gateway-log-problems") is None


def test_the_compliance_officer_reads_it_too(app, tv):
    _import(tv, 1, gateway_log(2))
    officer = add_person(tv, "Kepatuhan", "compliance")
    login(app, officer.key_id, OTHER_PASS)
    rows = app.get("/gateway-log").html.find(id="gateway-log").find("tbody").find_all("tr")
    assert len(rows) == 2
    app.get("/reports", status=403)  # and still no content
