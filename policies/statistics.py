"""Statistics a compliance officer may read and publish: counts and rates, never a reporter.

Input: the workbench's statistics export, JSON of this shape (the workbench writes it; nothing
in it may be free text, and no date is finer than a month)::

    {"format": "peluit-stats-export", "version": 1,
     "cases": [
       {"category": "corruption",            # a token: [a-z][a-z0-9_]*, at most 40 characters
        "channel": "web",                    # web, letter, copy, email, social_media, walk_in,
                                             # phone, lapor (or another token)
        "status": "closed",                  # the workbench's case status, a token
        "outcome": "forwarded",              # a token, or null while the case is open
        "received": "2026-03",               # YYYY-MM
        "closed": "2026-05",                 # YYYY-MM or null
        "deadlines": {"acknowledgment": "met", "verification": "missed",
                      "completion": "open"},  # met | missed | open, per deadline; retaliation too
                                              # when the case has a retaliation flag
        "working_days_to_close": 42,         # integer or null
        "policy_improvement": false,         # the case led to a policy improvement
        "retaliation": false,                # the reporter reported retaliation
        "identity_deposited": false,         # the reporter deposited an identity in escrow
        "identity_opened": false}            # a custodian opened it (optional, default false)
     ]}

Unknown keys, text where a token belongs, or a day in a date are refused, so a mistake in an
exporter cannot carry content into a report. ``CaseRecord`` is the same record as a dataclass.

Small counts. Any count under ``THRESHOLD`` (5) is shown as "< 5". Where a table's total is
shown, one hidden cell could be worked out as the total minus the others, so a second cell is
hidden too ("hidden", marked *); and when every hidden cell would have to be 1 to add up, more
are hidden, or the total. Rates whose numerator or complement is a small count are shown only
as a bound ("≥ 95 %"), which says no more than "< 5" does. Medians need at least 5 cases.

Output: ``compute(records) -> Report`` (plain data), ``to_csv``, ``to_html`` (inline SVG bar
charts, no JavaScript, printable), and ``run_report`` for ``peluit policy stats``.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import re
import statistics as _stats
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peluit.ground.clock import Clock

from .clocks import CLOCKS, STAT_NAMES

THRESHOLD = 5
EXPORT_FORMAT = "peluit-stats-export"
DEADLINES = STAT_NAMES  # every clock (policies.clocks)
DEADLINE_STATES = ("met", "missed", "open")
MAX_EXPORT_BYTES = 512 * 1024 * 1024
_TOKEN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
_FIELDS = {"category", "channel", "status", "outcome", "received", "closed", "deadlines",
           "working_days_to_close", "policy_improvement", "retaliation",
           "identity_deposited", "identity_opened"}
_FLAGS = ("policy_improvement", "retaliation", "identity_deposited", "identity_opened")


class StatsError(ValueError):
    """The export is not in the documented shape; the message says where."""


@dataclass(frozen=True)
class CaseRecord:
    category: str
    channel: str
    status: str
    outcome: str | None
    received: str                       # YYYY-MM
    closed: str | None                  # YYYY-MM
    deadlines: Mapping[str, str] = field(default_factory=dict)  # name -> met|missed|open
    working_days_to_close: int | None = None
    policy_improvement: bool = False
    retaliation: bool = False
    identity_deposited: bool = False    # identity in escrow (crypto/escrow.py)
    identity_opened: bool = False

    def __post_init__(self) -> None:
        for name in ("category", "channel", "status"):
            _token(getattr(self, name), name)
        if self.outcome is not None:
            _token(self.outcome, "outcome")
        _month(self.received, "received")
        if self.closed is not None:
            _month(self.closed, "closed")
        if not isinstance(self.deadlines, Mapping):
            raise StatsError("deadlines must be an object")
        for k, v in self.deadlines.items():
            if k not in DEADLINES or v not in DEADLINE_STATES:
                raise StatsError(f"deadlines: {k!r} must be one of {', '.join(DEADLINES)} "
                                 f"with met, missed or open")
        w = self.working_days_to_close
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 0):
            raise StatsError("working_days_to_close must be a whole number or null")
        for name in _FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise StatsError(f"{name} must be true or false")

    @classmethod
    def from_dict(cls, d: Any) -> CaseRecord:
        if not isinstance(d, dict):
            raise StatsError("a case must be an object")
        unknown = set(d) - _FIELDS
        if unknown:
            raise StatsError(f"unknown field {sorted(unknown)[0]!r} (no free text is accepted)")
        missing = {"category", "channel", "status", "received"} - set(d)
        if missing:
            raise StatsError(f"missing field {sorted(missing)[0]!r}")
        return cls(d["category"], d["channel"], d["status"], d.get("outcome"), d["received"],
                   d.get("closed"), d.get("deadlines", {}), d.get("working_days_to_close"),
                   *(d.get(name, False) for name in _FLAGS))


def _token(v: Any, name: str) -> None:
    if not isinstance(v, str) or not _TOKEN.match(v):
        raise StatsError(f"{name} must be a short token such as 'corruption', not free text")


def _month(v: Any, name: str) -> None:
    if not isinstance(v, str) or not _MONTH.match(v):
        raise StatsError(f"{name} must be a month YYYY-MM (nothing finer)")


def load_export(path: Path) -> list[CaseRecord]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise StatsError(f"{path}: too large")
        raw = path.read_bytes()
    except OSError as exc:
        raise StatsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        doc = json.loads(raw.decode("utf-8"), parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError) as exc:
        msg = str(exc) if isinstance(exc, StatsError) else "not valid JSON"
        raise StatsError(f"{path}: {msg}") from None
    if (not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT
            or doc.get("version") != 1 or not isinstance(doc.get("cases"), list)):
        raise StatsError(f"{path}: not a Peluit statistics export (format {EXPORT_FORMAT}, v1)")
    records = []
    for i, d in enumerate(doc["cases"]):
        try:
            records.append(CaseRecord.from_dict(d))
        except StatsError as exc:
            raise StatsError(f"{path}: case {i + 1}: {exc}") from None
    return records


def _no_float(value: str) -> Any:
    raise StatsError("only whole numbers are accepted")


# ---- protected cells -------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """A count as it may be shown. ``value`` is None unless the count may be shown."""

    value: int | None
    state: str  # shown | small | hidden

    @property
    def display(self) -> str:
        return {"shown": str(self.value), "small": f"< {THRESHOLD}", "hidden": "*"}[self.state]


def _shown(n: int) -> Cell:
    return Cell(n, "shown") if n >= THRESHOLD else Cell(None, "small")


def _pinned(counts: Mapping[str, int], hidden: set[str]) -> bool:
    """Could a reader who knows the total, and how cells are chosen, pin a small hidden cell?

    They know the hidden cells' sum S (total minus the visible cells), that each small cell
    ("< 5") lies in 1..4, and that each complementary cell ("*") is at least 5 and, since the
    smallest visible cell is always the one hidden next, at most the smallest cell still shown
    (U). A small cell's range is then [lo, hi] with hi = min(4, S - (k - 1) - 5h) and
    lo = max(1, S - 4(k - 1) - hU); it is pinned when that range holds a single value."""
    t = THRESHOLD
    small = [k for k in hidden if counts[k] < t]
    if not small:
        return False
    k, h = len(small), len(hidden) - len(small)
    s = sum(counts[x] for x in hidden)
    shown = [v for x, v in counts.items() if x not in hidden]
    hi = min(t - 1, s - (k - 1) - t * h)
    # With nothing left shown, nothing bounds the complementary cells from above.
    cap = min(shown) if shown else s
    lo = max(1, s - (t - 1) * (k - 1) - h * cap)
    return hi <= lo


def protect(counts: Mapping[str, int]) -> tuple[dict[str, Cell], Cell]:
    """Cells of a one-way table whose total is known, with small counts and their complements
    hidden. Primary: every count under the threshold. Secondary: hide the smallest visible cells
    until no small cell can be worked out from the total (see ``_pinned``). If even hiding every
    cell leaves one pinned, the total itself must not be shown: it comes back ``hidden``."""
    hidden = {k for k, v in counts.items() if v < THRESHOLD}
    visible = sorted((v, k) for k, v in counts.items() if k not in hidden)
    while _pinned(counts, hidden) and visible:
        hidden.add(visible.pop(0)[1])
    total = sum(counts.values())
    total_cell = Cell(None, "hidden") if _pinned(counts, hidden) else _shown(total)
    cells = {}
    for k, v in counts.items():
        if k not in hidden:
            cells[k] = Cell(v, "shown")
        else:
            cells[k] = Cell(None, "small" if v < THRESHOLD else "hidden")
    return cells, total_cell


@dataclass(frozen=True)
class Rate:
    """An on-time or completion rate: a percentage, a bound, or nothing when too few cases."""

    display: str
    percent: float | None  # for charts; None when only a bound or nothing may be shown


def rate(numerator: int, denominator: int, exact: bool = True) -> Rate:
    """``exact=False`` when counts shown beside the rate have cells hidden: an exact rate
    would let a reader solve for them, so only a band of 10 points is given."""
    if denominator < THRESHOLD:
        return Rate(f"– (< {THRESHOLD})", None)
    rest = denominator - numerator
    if 0 < rest < THRESHOLD:   # a few failures: say only that the rate is at least this
        bound = math.floor(100 * (denominator - THRESHOLD + 1) / denominator * 10) / 10
        return Rate(f"≥ {bound:.1f} %", None)
    if 0 < numerator < THRESHOLD:
        bound = math.ceil(100 * (THRESHOLD - 1) / denominator * 10) / 10
        return Rate(f"≤ {bound:.1f} %", None)
    pct = round(100 * numerator / denominator, 1)
    if not exact:
        low = min(90, math.floor(pct / 10) * 10)
        return Rate(f"{low}–{low + 10} %", None)
    return Rate(f"{pct:.1f} %", pct)


# ---- the report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    key: str                      # category, channel, status, outcome, received
    cells: dict[str, Cell]
    total: Cell


@dataclass(frozen=True)
class DeadlineRow:
    deadline: str
    cells: dict[str, Cell]        # met, missed, open
    total: Cell
    rate: Rate                    # met / (met + missed)


@dataclass(frozen=True)
class Report:
    cases: Cell
    first_month: str | None
    last_month: str | None
    tables: list[Table]
    deadlines: list[DeadlineRow]
    completion: Rate              # closed / all cases
    median_days_to_close: str     # whole working days, or "–" with fewer than 5 closed
    policy_improvements: Cell
    retaliation_reports: Cell
    # Identity in escrow: cases with a deposit, and with one opened (the same suppression).
    identity_deposits: Cell = Cell(None, "hidden")
    identity_openings: Cell = Cell(None, "hidden")


def withheld() -> Report:
    """A report with every figure suppressed. The deadline rows stay, every cell hidden, so the
    page still names each clock it reports on (policies.clocks)."""
    none = Cell(None, "hidden")
    rows = [DeadlineRow(d, {s: none for s in DEADLINE_STATES}, none, Rate("*", None))
            for d in DEADLINES]
    return Report(none, None, None, [], rows, Rate("*", None), "*", none, none)


def compute(records: Iterable[CaseRecord]) -> Report:
    records = list(records)
    n = len(records)
    tables = []
    for key in ("category", "channel", "status", "outcome"):
        counts = Counter((getattr(r, key) or "open") for r in records)
        cells, total = protect(dict(sorted(counts.items())))
        tables.append(Table(key, cells, total))
    by_month = Counter(r.received for r in records)
    cells, total = protect(dict(sorted(by_month.items())))
    tables.append(Table("received", cells, total))

    rows = []
    for d in DEADLINES:
        counts = Counter(r.deadlines[d] for r in records if d in r.deadlines)
        if not counts and d == "retaliation":
            continue
        full = {s: counts.get(s, 0) for s in DEADLINE_STATES}
        # Zero cells are real zeros here (a deadline nobody missed) and reveal no one.
        nonzero = {k: v for k, v in full.items() if v}
        cells, total = protect(nonzero)
        cells = {s: cells.get(s, Cell(0, "shown")) for s in DEADLINE_STATES}
        exact = all(c.state == "shown" for c in cells.values())
        rows.append(DeadlineRow(d, cells, total,
                                rate(full["met"], full["met"] + full["missed"], exact)))

    if any(t.total.state == "hidden" for t in tables) or any(
            r.total.state == "hidden" for r in rows):
        # The case count itself would expose a reporter (say five cases in five categories):
        # publish nothing but that the figures are withheld.
        return withheld()
    closed = [r for r in records if r.closed is not None]
    days = sorted(r.working_days_to_close for r in records if r.working_days_to_close is not None)
    median = str(round(_stats.median(days))) if len(days) >= THRESHOLD else "–"
    months = sorted(by_month)
    # The status and outcome tables say how many cases are closed; an exact completion rate
    # beside a hidden cell there would give the hidden count away.
    exact = all(c.state == "shown" for t in tables[2:4] for c in t.cells.values())
    return Report(
        cases=_shown(n), first_month=months[0] if months else None,
        last_month=months[-1] if months else None, tables=tables, deadlines=rows,
        completion=rate(len(closed), n, exact), median_days_to_close=median,
        policy_improvements=_shown(sum(r.policy_improvement for r in records)),
        retaliation_reports=_shown(sum(r.retaliation for r in records)),
        identity_deposits=_shown(sum(r.identity_deposited for r in records)),
        identity_openings=_shown(sum(r.identity_opened for r in records)))


# ---- output ----------------------------------------------------------------------------------

def to_csv(report: Report) -> str:
    """One row per figure: section, item, value as displayed (suppressed ones as shown)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "item", "value"])
    w.writerow(["summary", "cases", report.cases.display])
    w.writerow(["summary", "first_month", report.first_month or ""])
    w.writerow(["summary", "last_month", report.last_month or ""])
    w.writerow(["summary", "completion_rate", report.completion.display])
    w.writerow(["summary", "median_working_days_to_close", report.median_days_to_close])
    w.writerow(["summary", "policy_improvements", report.policy_improvements.display])
    w.writerow(["summary", "retaliation_reports", report.retaliation_reports.display])
    w.writerow(["summary", "identity_deposits", report.identity_deposits.display])
    w.writerow(["summary", "identity_openings", report.identity_openings.display])
    for t in report.tables:
        for k, c in t.cells.items():
            w.writerow([t.key, k, c.display])
        w.writerow([t.key, "total", t.total.display])
    for row in report.deadlines:
        for s, c in row.cells.items():
            w.writerow([f"deadline_{row.deadline}", s, c.display])
        w.writerow([f"deadline_{row.deadline}", "on_time_rate", row.rate.display])
    return buf.getvalue()


# Chart geometry, in SVG user units: the chart scales to its box (viewBox; at most 25rem, i.e.
# 400 px and 14 px text on a laptop, 13 px on a phone). Each row is its label on one line and
# the bar under it, so long labels never crowd the bars, and a chart of two rows reads as well
# as one of twenty.
_W, _LABEL_H, _BAR_H, _ROW_GAP, _FONT = 400, 18, 18, 12, 14
_INK, _BAR, _MUTED = "#1a1a1a", "#146b55", "#5c5c58"


@dataclass(frozen=True)
class ChartRow:
    label: str
    text: str          # the figure as shown ("12", "< 5", "*", "80 %")
    label_y: int
    bar_y: int
    width: int | None  # None: a suppressed figure, drawn as a fixed dashed box
    text_x: int


@dataclass(frozen=True)
class Chart:
    ident: str
    title: str
    desc: str          # every figure in words, for the SVG's <desc>
    height: int
    rows: list[ChartRow]


# What the chart template (templates/_chart.svg.jinja2) draws with.
GEOMETRY = {"width": _W, "bar_h": _BAR_H, "font": _FONT, "ink": _INK, "bar": _BAR,
            "muted": _MUTED}


def _chart(ident: str, title: str, items: list[tuple[str, float | None, str]]) -> Chart:
    """The geometry of a horizontal bar chart. ``items`` are (label, value or None, text shown
    beside the bar). A suppressed figure ("< 5", "*") gets no width: the template draws a
    dashed outline of one fixed width instead, which says "a figure is here, not drawn to
    scale" and carries no information, so suppression is kept."""
    shown = [v for _, v, _ in items if v is not None]
    top = max(shown, default=1) or 1
    row = _LABEL_H + _BAR_H + _ROW_GAP
    room = _W - 70  # the widest bar leaves room for its figure
    rows = []
    for i, (label, value, text) in enumerate(items):
        y = i * row
        width = None if value is None else (max(2, round(room * value / top)) if value else 0)
        rows.append(ChartRow(label, text, y + _LABEL_H - 4, y + _LABEL_H, width,
                             30 if width is None else width + 6))
    desc = "; ".join(f"{label}: {text}" for label, _, text in items)
    return Chart(ident, title, desc, max(1, len(items)) * row, rows)


def to_html_fragment(report: Report, language: str = "id") -> str:
    """The report as HTML to embed in a page (the workbench's): no <style>, no scripts. Each
    breakdown is a chart (inline SVG) and the same figures as a table; a breakdown with nothing
    to count yet says what will appear there instead of showing an empty table
    (templates/statistics.html.jinja2)."""
    from peluit.ground.i18n import translations

    from .templating import render

    _ = translations("policies", "policies", language).gettext

    def label(key: str, token: str) -> str:
        lbl = LABELS.get(key, {}).get(token)
        return _(lbl) if lbl else token

    titles = {"category": _("By category"), "channel": _("By channel"),
              "status": _("By status"), "outcome": _("By outcome"),
              "received": _("By month received")}
    charts = {tbl.key: _chart(f"chart-{tbl.key}", titles[tbl.key],
                              [(label(tbl.key, k), c.value, c.display)
                               for k, c in tbl.cells.items()])
              for tbl in report.tables if tbl.cells}
    charts["on-time"] = _chart("chart-on-time", _("On time"),
                               [(label("deadline", r.deadline), r.rate.percent, r.rate.display)
                                for r in report.deadlines])
    return render(
        "statistics.html.jinja2", language, report=report, charts=charts, geometry=GEOMETRY,
        label=label, deadline_states=DEADLINE_STATES,
        withheld_all=report.cases.state == "hidden" and not report.tables,
        no_cases=bool(report.tables) and not any(tbl.cells for tbl in report.tables),
        period=(f"{report.first_month} – {report.last_month}" if report.first_month else "–"))


def to_html(report: Report, language: str = "id") -> str:
    """A standalone printable page: the fragment with its own small stylesheet."""
    from peluit.ground.i18n import translations

    title = translations("policies", "policies", language).gettext("Whistleblowing statistics")
    e = html.escape
    return (f'<!DOCTYPE html><html lang="{e(language)}"><head><meta charset="utf-8">'
            f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
            f"{to_html_fragment(report, language)}</body></html>\n")


_CSS = ("body{font:14px/1.4 sans-serif;max-width:48em;margin:2em auto;color:#111}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #999;"
        "padding:.2em .6em;text-align:left}td{text-align:right}"
        "figure.chart{margin:.5em 0;max-width:32em}figure.chart svg{width:100%;height:auto}"
        ".empty{color:#444;border:1px dashed #999;padding:.5em .8em}"
        "@media print{body{margin:0}h2{page-break-after:avoid}svg{page-break-inside:avoid}}")

# Labels for known tokens (English msgids; the catalogs translate them). Unknown tokens are
# shown as they are: they are tokens, never free text.
_n = str  # marks msgids for extraction without translating at import time
LABELS: dict[str, dict[str, str]] = {
    # The workbench's category tokens (PER/05/M.PAN/4/2009 codes and the WBS categories) and
    # the reporter form's.
    "category": {"abuse_of_authority": _n("Abuse of authority"), "corruption": _n("Corruption"),
                 "pungli": _n("Illegal levies (pungli)"), "gratification": _n("Gratification"),
                 "discipline": _n("Civil-service discipline"),
                 "conflict_of_interest": _n("Conflict of interest"),
                 "ethics": _n("Code-of-ethics breach"),
                 "personnel": _n("Civil service, ASN discipline"),
                 "public_service": _n("Public service"), "land": _n("Land"),
                 "law_human_rights": _n("Law and human rights"),
                 "national_vigilance": _n("National vigilance"),
                 "administration": _n("Administration"), "environment": _n("Environment"),
                 "general": _n("General"), "other": _n("Other"),
                 "uncategorised": _n("Not yet categorised")},
    "channel": {"web": _n("Web (this channel)"), "letter": _n("Letter"),
                "copy": _n("Copy of a letter (tembusan)"), "email": _n("Email"),
                "social_media": _n("Social media"), "walk_in": _n("Walk-in"),
                "phone": _n("Phone or SMS"), "lapor": _n("SP4N-LAPOR!")},
    "status": {"intake": _n("Intake"), "review": _n("Review"),
               "decision": _n("Awaiting decision"), "verification": _n("Verification"),
               "forwarded": _n("Forwarded"), "investigation": _n("Investigation"),
               "closed": _n("Closed")},
    "outcome": {"open": _n("Not closed yet"), "substantiated": _n("Substantiated"),
                "not_substantiated": _n("Not substantiated"),
                "archived": _n("Archived (no or no valid evidence)"),
                "not_processed": _n("Not processed"), "forwarded": _n("Forwarded"),
                "duplicate": _n("Duplicate of an earlier case")},
    "deadline": {c.stat: c.label for c in CLOCKS},
}


def write_report(report: Report, out_dir: Path, language: str = "id") -> list[Path]:
    """Write stats.html and stats.csv into ``out_dir`` (atomically); return their paths."""
    from policies.documents import write_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / "stats.html", out_dir / "stats.csv"]
    write_atomic(paths[0], to_html(report, language).encode("utf-8"))
    write_atomic(paths[1], to_csv(report).encode("utf-8"))
    return paths


def run_report(export: Path, out_dir: Path, language: str = "id") -> int:
    from policies.documents import PolicyError

    report = compute(load_export(export))
    try:
        paths = write_report(report, out_dir, language)
    except PolicyError as exc:
        raise StatsError(str(exc)) from None
    print(f"statistics of {report.cases.display} cases written to "
          + ", ".join(str(p) for p in paths))
    return 0


def today_month(today: dt.date | None = None) -> str:
    return (today or Clock().today()).strftime("%Y-%m")
