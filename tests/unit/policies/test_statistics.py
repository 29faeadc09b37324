import html as htmllib
import itertools
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

from peluit.cli import main
from policies import statistics as st
from policies.statistics import CaseRecord, StatsError, compute, protect


def rec(category="corruption", channel="web", status="closed", outcome="archived",
        received="2026-03", closed="2026-05", deadlines=None, days=40, improvement=False,
        retaliation=False):
    return CaseRecord(category, channel, status, outcome, received, closed,
                      deadlines if deadlines is not None else
                      {"acknowledgment": "met", "verification": "met", "completion": "met"},
                      days, improvement, retaliation)


def sample():
    out = []
    out += [rec() for _ in range(30)]
    out += [rec(category="pungli", channel="letter", deadlines={
        "acknowledgment": "missed", "verification": "met", "completion": "open"},
        status="verification", outcome=None, closed=None, days=None) for _ in range(12)]
    # Three gratification reports: a count that must never be shown.
    out += [rec(category="gratification", channel="lapor", received="2026-04",
                improvement=True, retaliation=True) for _ in range(3)]
    return out


def shown_numbers(text):
    return set(re.findall(r"(?<![\d.])\d+(?![\d.])", text))


def test_small_counts_are_suppressed_with_their_complement():
    report = compute(sample())
    cat = next(t for t in report.tables if t.key == "category")
    assert cat.cells["gratification"].display == "< 5"
    assert cat.total.display == "45"
    # 30 + 12 + 3 = 45: with corruption and pungli both shown, 3 would follow; one is hidden.
    assert sum(c.state == "hidden" for c in cat.cells.values()) == 1
    assert cat.cells["pungli"].display == "*" and cat.cells["corruption"].display == "30"
    assert report.policy_improvements.display == "< 5"
    assert report.retaliation_reports.display == "< 5"


def _feasible(cells, total):
    """Every assignment of values consistent with what a reader sees (brute force), who also
    knows that a "*" cell was hidden as the smallest visible one: at most any shown cell."""
    shown = [c.value for c in cells.values() if c.state == "shown"]
    cap = min(shown) if shown else total
    ranges = []
    for c in cells.values():
        if c.state == "shown":
            ranges.append([c.value])
        elif c.state == "small":
            ranges.append(range(1, st.THRESHOLD))
        else:
            ranges.append(range(st.THRESHOLD, cap + 1))
    return [v for v in itertools.product(*ranges) if sum(v) == total]


@pytest.mark.parametrize("counts", [
    {"a": 20, "b": 3}, {"a": 5, "b": 1}, {"a": 10, "b": 1, "c": 1}, {"a": 7, "b": 6, "c": 2},
    {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, {"a": 4, "b": 1}, {"a": 9, "b": 2, "c": 5},
    {"a": 1}, {"a": 12, "b": 8, "c": 4, "d": 30}, {"a": 5, "b": 5, "c": 3},
    {"a": 6, "b": 6, "c": 3},
])
def test_no_small_count_can_be_worked_out_from_the_total(counts):
    cells, total = protect(counts)
    assert all(cells[k].state != "shown" for k, v in counts.items() if v < st.THRESHOLD)
    if total.state == "hidden":
        return  # nothing to difference against: the whole report is withheld
    assignments = _feasible(cells, sum(counts.values()))
    keys = list(cells)
    for i, k in enumerate(keys):
        if counts[k] < st.THRESHOLD:
            assert len({a[i] for a in assignments}) > 1, (counts, k)


def test_tiny_deployments_are_withheld_entirely():
    report = compute([rec(category=c) for c in ("corruption", "pungli")])
    assert report.tables == [] and report.cases.display == "*"
    html = st.to_html(report, "en")
    assert "corruption" not in html and "pungli" not in html


def test_no_text_reaches_any_output():
    canary = "Pak Budi di Biro Umum menerima suap"
    with pytest.raises(StatsError, match="free text"):
        CaseRecord.from_dict({"category": canary, "channel": "web", "status": "new",
                              "received": "2026-01"})
    with pytest.raises(StatsError, match="unknown field"):
        CaseRecord.from_dict({"category": "corruption", "channel": "web", "status": "new",
                              "received": "2026-01", "what": canary})
    with pytest.raises(StatsError, match="month"):
        CaseRecord.from_dict({"category": "corruption", "channel": "web", "status": "new",
                              "received": "2026-01-14"})
    with pytest.raises(StatsError):
        CaseRecord.from_dict({"category": "corruption", "channel": "web", "status": "new",
                              "received": "2026-01", "deadlines": {"completion": canary}})


def test_outputs_show_no_suppressed_value_and_no_day(tmp_path):
    report = compute(sample())
    html, csv = st.to_html(report, "id"), st.to_csv(report)
    body = html[html.index("</style>"):]
    visible = htmllib.unescape(re.sub(r"<[^>]*>", " ", body))  # what a reader sees
    for text in (visible, csv):
        assert "< 5" in text
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text)  # nothing finer than a month
    # The hidden pungli count (12) and the small one (3) appear nowhere in the category table.
    section = visible[visible.index("Menurut kategori"):visible.index("Menurut saluran")]
    assert shown_numbers(section) == {"30", "45", "5"}  # corruption, total, "< 5"
    rows = [line for line in csv.splitlines() if line.startswith("category,")]
    assert rows == ["category,corruption,30", "category,gratification,< 5", "category,pungli,*",
                    "category,total,45"]
    assert "<script" not in html and "<svg" in html
    assert "Korupsi" in html and "Menurut kategori" in html
    assert "Corruption" in st.to_html(report, "en")


def test_deadline_rates():
    report = compute(sample())
    rows = {r.deadline: r for r in report.deadlines}
    # 30 met, 12 missed, 3 met: all counts large enough except none -> exact rate.
    ack = rows["acknowledgment"]
    assert ack.cells["met"].display == "33" and ack.cells["missed"].display == "12"
    assert ack.rate.display == "73.3 %"
    # completion: 33 met, 0 missed, 12 open
    assert rows["completion"].cells["missed"].display == "0"
    assert rows["completion"].rate.display == "100.0 %"
    assert "retaliation" not in rows


def test_rate_bounds_say_no_more_than_the_small_count():
    assert st.rate(97, 100).display == "≥ 96.0 %"   # 3 missed: only "fewer than 5"
    assert st.rate(2, 100).display == "≤ 4.0 %"
    assert st.rate(3, 4).display.startswith("–")
    assert st.rate(60, 80).display == "75.0 %"
    assert st.rate(60, 80, exact=False).display == "70–80 %"


def test_median_and_completion():
    records = sample()
    report = compute(records)
    assert report.median_days_to_close == "40"
    assert report.completion.display == "73.3 %"  # 33 of 45, status cells all shown
    assert compute(records[:3] + records[30:34]).median_days_to_close == "–"  # 3 closed
    # With a hidden cell in the status table an exact rate would reveal it: a band only.
    few = records + [rec(status="forwarded", outcome="forwarded") for _ in range(2)]
    assert compute(few).completion.display == "70–80 %"


def test_retaliation_deadline_counted():
    records = [rec(retaliation=True, deadlines={"acknowledgment": "met", "retaliation": "met"})
               for _ in range(6)]
    report = compute(records)
    assert report.retaliation_reports.display == "6"
    assert {r.deadline for r in report.deadlines} >= {"retaliation"}


def _export(path, records):
    path.write_text(json.dumps({"format": "peluit-stats-export", "version": 1, "cases": [
        {"category": r.category, "channel": r.channel, "status": r.status,
         "outcome": r.outcome, "received": r.received, "closed": r.closed,
         "deadlines": dict(r.deadlines), "working_days_to_close": r.working_days_to_close,
         "policy_improvement": r.policy_improvement, "retaliation": r.retaliation}
        for r in records]}))


def test_cli_stats(tmp_path, capsys):
    export = tmp_path / "export.json"
    _export(export, sample())
    out = tmp_path / "out"
    assert main(["policy", "stats", str(export), "--out", str(out), "--language", "en"]) == 0
    assert (out / "stats.html").read_text().startswith("<!DOCTYPE html>")
    assert "category,gratification,< 5" in (out / "stats.csv").read_text()
    export.write_text('{"format": "peluit-stats-export", "version": 1, "cases": [{"x": 1}]}')
    assert main(["policy", "stats", str(export), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: ") and "case 1" in err and err.count("\n") == 1
    export.write_text("[1.5]")
    assert main(["policy", "stats", str(export), "--out", str(out)]) == 1
    assert main(["policy", "stats", str(tmp_path / "none.json"), "--out", str(out)]) == 1


def test_cli_stats_unwritable_output_is_one_line(tmp_path, capsys):
    export = tmp_path / "export.json"
    _export(export, sample())
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["policy", "stats", str(export), "--out", str(blocker / "sub")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("peluit: ") and err.count("\n") == 1


@settings(max_examples=200, deadline=None)
@given(st_.lists(st_.integers(min_value=1, max_value=14), min_size=1, max_size=4))
def test_property_no_small_cell_is_determined_by_the_total(values):
    counts = {f"c{i}": v for i, v in enumerate(values)}
    cells, total = protect(counts)
    for k, v in counts.items():
        if v < st.THRESHOLD:
            assert cells[k].state != "shown"
    if total.state == "hidden":
        return
    assignments = _feasible(cells, sum(values))
    assert tuple(values) in assignments  # the reader's model admits the truth
    for i, v in enumerate(values):
        if v < st.THRESHOLD:
            assert len({a[i] for a in assignments}) > 1, (counts, i)


# ---- charts and empty states (issue 14) --------------------------------------------------------

def _svgs(page):
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


def test_each_chart_names_itself_and_carries_its_figures_as_text():
    """A screen reader meets each chart as one image with a title and a description listing
    every figure; the same figures follow in a table. No script anywhere."""
    page = st.to_html_fragment(compute(sample()), "en")
    charts = _svgs(page)
    assert len(charts) == 6  # five breakdowns and the on-time rates
    for svg in charts:
        assert 'role="img"' in svg
        ids = re.search(r'aria-labelledby="([^" ]+) ([^" ]+)"', svg).groups()
        assert f'<title id="{ids[0]}">' in svg and f'<desc id="{ids[1]}">' in svg
        assert "viewBox=" in svg  # scales down to a phone's width instead of overflowing
    category = next(s for s in charts if "By category" in s)
    desc = htmllib.unescape(re.search(r"<desc[^>]*>(.*?)</desc>", category).group(1))
    assert desc == "Corruption: 30; Gratification: < 5; Illegal levies (pungli): *"
    assert "<script" not in page


def test_a_suppressed_count_gets_no_bar_drawn_to_scale():
    """A bar's length would give away a count shown as "< 5" or "*": such a figure gets a
    dashed box of one fixed width, whatever the count behind it."""
    def category_chart(records):
        return next(s for s in _svgs(st.to_html_fragment(compute(records), "en"))
                    if "By category" in s)

    svg = category_chart(sample())
    bars = re.findall(r"<rect [^>]*/>", svg)
    filled = [b for b in bars if 'fill="none"' not in b]
    dashed = [b for b in bars if "stroke-dasharray" in b]
    assert len(filled) == 1 and len(dashed) == 2  # corruption drawn; gratification, pungli not
    assert {re.search(r'width="([^"]+)"', b).group(1) for b in dashed} == {"24"}
    # Four gratification cases instead of three: the suppressed rows are drawn the same.
    more = [*sample(), rec(category="gratification", channel="lapor", received="2026-04",
                           improvement=True, retaliation=True)]
    assert re.findall(r"<rect [^>]*/>", category_chart(more)) == bars


def test_no_case_yet_says_what_will_appear_instead_of_empty_tables():
    page = st.to_html_fragment(compute([]), "en")
    assert "No case is recorded yet" in page
    for what in ("category of wrongdoing", "channel a report came through", "case status",
                 "outcome of closed cases", "month a report was received"):
        assert f"Counts per {what}" in page
    assert _svgs(page) == []  # no chart without figures
    assert "met it, missed it or are still open" in page
    assert "Belum ada kasus yang tercatat" in st.to_html_fragment(compute([]), "id")


def test_withheld_figures_say_why_and_what_will_appear():
    page = st.to_html_fragment(compute([rec(category=c) for c in ("corruption", "pungli")]),
                               "en")
    assert "The figures are withheld" in page and "corruption" not in page
