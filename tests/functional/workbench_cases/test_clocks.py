"""Every clock everywhere: acknowledgment (3 working days), initial review and decision (3),
completion (75) and the response to retaliation (2) on the deadlines page, its filters, the case
list, the case page, the home page and the statistics, all judged by policies.clocks.

Today is Monday 16 March 2026 (conftest.NOW); Nyepi and cuti bersama close 18-20 March."""

import re

from policies import clocks
from tests.fixtures.cases_web import flagged, intake, post


def counts(page, clock):
    """(overdue, due soon) in the deadlines page's row for ``clock``."""
    row = re.search(rf'<tr id="count-{clock}">(.*?)</tr>', page.text, re.S).group(1)
    return tuple(int(n) for n in re.findall(r">(\d+)</a></td>", row))


def listed(client, deadline, clock=""):
    page = client.get("/cases", {"deadline": deadline, "clock": clock})
    return {int(n) for n in re.findall(r'href="http://localhost/cases/(\d+)"', page.text)}


def test_three_day_clock_due_today_is_due_soon_on_every_page(auditor):
    # Received Wednesday 11 March: acknowledgment and verification due Monday 16 March (today).
    cid = intake(auditor, received="2026-03-11")
    case = auditor.get(f"/cases/{cid}", {"lang": "en"})
    assert re.search(r'<tr class="clock-due_soon"><td>Acknowledgment', case.text)
    assert re.search(r'<tr class="clock-due_soon"><td>Initial review and decision', case.text)
    # The deadlines page agrees (it used to say "Due … (0)": it knew only the 75-day clock).
    page = auditor.get("/cases/deadlines")
    assert counts(page, "acknowledge") == (0, 1)
    assert counts(page, "verify") == (0, 1)
    assert counts(page, "complete") == (0, 0)
    soon = page.text.split("<h2>")[2]
    assert f"/cases/{cid}\"" in soon and "(1)" in soon.split("</h2>")[0]
    assert listed(auditor, "due_soon") == {cid}
    assert listed(auditor, "due_soon", "acknowledge") == {cid}
    assert listed(auditor, "due_soon", "complete") == set()
    # The list shows the most urgent clock, not only completion.
    assert "Acknowledgment" in auditor.get("/cases", {"lang": "en"}).text


def test_each_clock_overdue_shows_and_filters(auditor, compliance, store):
    # Completion: received October 2025, so all three case clocks are overdue.
    old = intake(auditor, received="2025-10-01")
    # Verification only: received Thursday 5 March, acknowledgment sent today (late).
    verify = intake(auditor, received="2026-03-05")
    post(auditor, f"/cases/{verify}/acknowledge", {})
    # Retaliation only: a web report received today whose reporter reported retaliation on
    # Tuesday 10 March (due Thursday 12 March).
    flagged_case, _flag = flagged(auditor, store, day="2026-03-10")
    page = auditor.get("/cases/deadlines", {"lang": "en"})
    assert counts(page, "acknowledge") == (1, 0)
    assert counts(page, "verify") == (2, 0)
    assert counts(page, "complete") == (1, 0)
    assert counts(page, "retaliation") == (1, 0)
    for d in clocks.CLOCKS:
        assert d.label in page.text
    assert listed(auditor, "overdue") == {old, verify, flagged_case.id}
    assert listed(auditor, "overdue", "acknowledge") == {old}
    assert listed(auditor, "overdue", "verify") == {old, verify}
    assert listed(auditor, "overdue", "complete") == {old}
    assert listed(auditor, "overdue", "retaliation") == {flagged_case.id}
    # The deadlines page filtered by one clock.
    only = auditor.get("/cases/deadlines", {"clock": "retaliation"})
    overdue = only.text.split("<h2>")[1]
    assert f"/cases/{flagged_case.id}\"" in overdue and f"/cases/{old}\"" not in overdue
    # The case page names the retaliation clock with its 2 working days.
    case = auditor.get(f"/cases/{flagged_case.id}", {"lang": "en"})
    assert re.search(r'<tr class="clock-overdue"><td>Response to retaliation \(2 working days\)',
                     case.text)
    # An unknown clock in the query is ignored, not a 500.
    assert listed(auditor, "overdue", "nonsense") == {old, verify, flagged_case.id}
    # The compliance officer sees the counts (no content) and the statistics name every clock.
    assert counts(compliance.get("/cases/deadlines"), "retaliation") == (1, 0)
    stats = compliance.get("/compliance/statistics", {"lang": "en"})
    for d in clocks.CLOCKS:
        assert d.label in stats.text


def test_deadlines_page_names_each_service_target_with_its_source(compliance):
    """Issue 19: each target defined once (policies.clocks), with what meets it and its source,
    and the length the workbench measures by."""
    page = compliance.get("/cases/deadlines", {"lang": "en"})
    for t in clocks.SERVICE_TARGETS:
        row = re.search(rf'<tr id="target-{t.name}">(.*?)</tr>', page.text, re.S).group(1)
        assert t.label in row and t.done_when in row and t.source.replace("'", "&#39;") in row
        assert f"{t.days} working days" in row
