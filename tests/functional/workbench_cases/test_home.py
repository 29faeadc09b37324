"""The home page as an inbox: new reports, answers not yet read, deadlines of every clock
overdue or due within a working day, retaliation flags, open cases per state; empty states that
say what will appear. Today is Monday 16 March 2026 (conftest.NOW)."""

import re

from policies import clocks
from tests.fixtures.cases_web import flagged, intake, post


def section(page, name):
    return re.search(rf'<section class="inbox" id="inbox-{name}".*?</section>', page.text,
                     re.S).group(0)


def due_row(page, clock):
    row = re.search(rf'<tr id="home-{clock}">(.*?)</tr>', page.text, re.S).group(1)
    return tuple(int(n) for n in re.findall(r'class="num">(?:<a [^>]*>)?(\d+)', row))


def test_empty_home_says_what_will_appear(auditor):
    page = auditor.get("/", {"lang": "en"})
    assert "Nothing needs you today" in page.text
    for name in ("new", "unread", "due", "retaliation"):
        assert 'class="empty"' in section(page, name), name
    for d in clocks.CLOCKS:
        assert due_row(page, d.name) == (0, 0)


def test_home_lists_what_needs_me_today(auditor, compliance, store):
    fresh = intake(auditor, received="2026-03-11")   # 3-day clocks due today: due soon
    old = intake(auditor, received="2025-10-01")     # every case clock overdue
    post(auditor, f"/cases/{old}/start", {})         # no longer new
    case, _flag = flagged(auditor, store, day="2026-03-10")  # web report + retaliation, overdue
    page = auditor.get("/", {"lang": "en"})
    new = section(page, "new")
    assert "New reports (2)" in new and f"/cases/{fresh}\"" in new
    assert f"/cases/{case.id}\"" in new and f"/cases/{old}\"" not in new
    # The retaliation submission is what the reporter sent; nobody opened the case yet.
    unread = section(page, "unread")
    assert "(1)" in unread and f"/cases/{case.id}\"" in unread
    assert due_row(page, "acknowledge") == (1, 1)
    assert due_row(page, "verify") == (1, 1)
    assert due_row(page, "complete") == (1, 0)
    assert due_row(page, "retaliation") == (1, 0)
    assert "Retaliation flags (1)" in section(page, "retaliation")
    states = section(page, "states")
    assert re.search(r'id="state-intake">.*?class="num">2<', states, re.S)
    assert re.search(r'id="state-review">.*?class="num">1<', states, re.S)
    # Opening the case reads what the reporter sent.
    auditor.get(f"/cases/{case.id}")
    page = auditor.get("/", {"lang": "en"})
    assert 'class="empty"' in section(page, "unread")
    # The compliance officer sees counts and case numbers, no links to content.
    page = compliance.get("/", {"lang": "en"})
    assert due_row(page, "retaliation") == (1, 0)
    assert f"/cases/{case.id}\"" not in page.text and case.number in page.text
