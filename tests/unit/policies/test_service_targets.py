"""One source of truth for the service targets: policies.clocks defines each once, and the
calendar, the signed policy shipped, the reporter pages and the workbench all take it from
there."""

import dataclasses

from dropbox_app.reporter.policy import Deadlines
from policies import clocks, documents
from policies.calendar import DeadlinePolicy


def test_calendar_defaults_are_the_defined_targets():
    d = DeadlinePolicy()
    for t in clocks.SERVICE_TARGETS:
        assert getattr(d, t.policy) == t.days, t.name


def test_shipped_policy_states_the_defined_targets():
    h = documents.load_version(documents.DEFAULT_DIR / "1.1").header
    for t in clocks.SERVICE_TARGETS:
        assert h.deadlines[t.stat] == t.days, t.stat


def test_reporter_pages_fall_back_to_the_defined_targets():
    d = Deadlines()
    assert (d.first_response, d.decision, d.completion) == tuple(
        clocks.BY_NAME[n].days for n in ("acknowledge", "verify", "complete"))


def test_every_target_says_what_meets_it_and_where_its_figure_comes_from():
    for t in clocks.SERVICE_TARGETS:
        assert t.done_when and t.source and t.label, t.name
    assert {f.name for f in dataclasses.fields(DeadlinePolicy)} >= {
        t.policy for t in clocks.SERVICE_TARGETS}
