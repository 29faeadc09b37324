"""One source of truth for the service targets, on the pages: change a figure in the signed
policy and the policy's own text, the reporter pages, the workbench's clocks, the acknowledgment
message and the statistics export all follow it (issue 19: the 3-day step meant three things on
three pages)."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest
import webtest

from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app.app import make_reporter_app
from dropbox_app.db import make_engine, upgrade
from peluit.ground.clock import FixedClock
from policies import clocks, documents
from policies.calendar import DeadlinePolicy, WorkingCalendar
from policies.controls import DeploymentFacts, check_workbench_deadlines
from tests.fixtures.server_config import hand_config
from workbench.cases import acknowledgment

NOW = 1_795_000_000.0  # 2026-11-19
# Shorter than the shipped targets (a newer version may promise more, never less).
CHANGED = {"acknowledgment": 2, "verification": 2, "completion": 60}


@pytest.fixture
def deployment(tmp_path):
    url = f"sqlite:///{tmp_path / 'peluit.sqlite'}"
    upgrade(url)
    config = hand_config(tmp_path, url)
    version = tmp_path / "policy" / "1.1"
    shutil.copytree(documents.DEFAULT_DIR / "1.1", version)
    (version / "signature.json").unlink(missing_ok=True)
    toml = (version / "policy.toml").read_text().replace(
        'effective = "2026-12-01"', 'effective = "2026-11-01"')
    for name, days in CHANGED.items():
        toml = re.sub(rf"(?m)^{name} = \d+", f"{name} = {days}", toml)
    (version / "policy.toml").write_text(toml)
    documents.sign_version(version, AuditorIdentity.generate("Kepatuhan"))
    engine = make_engine(url)
    yield config, engine, documents.load_version(version).header
    engine.dispose()


def test_every_page_shows_the_signed_figures(deployment):
    config, engine, header = deployment
    assert {k: header.deadlines[k] for k in CHANGED} == CHANGED
    app = webtest.TestApp(make_reporter_app(config, engine=engine, clock=FixedClock(NOW),
                                            argon2=TEST_PARAMS, kdf_slots=1))
    en = " ".join(app.get("/?lang=en").text.split())
    # The policy text's table, filled from the signed header.
    assert "| 2 working days |" not in en  # rendered as a table, not Markdown
    assert re.search(r"<td>2 working days</td>", en) and re.search(r"<td>60 working days</td>",
                                                                   en)
    assert "<td>3 working days</td>" not in en and "<td>75 working days</td>" not in en
    # The landing page's own promise, from the same header.
    assert "Within 2 working days of receipt, a standard acknowledgment appears" in en
    idn = " ".join(app.get("/?lang=id").text.split())
    assert "Dalam 2 hari kerja sejak diterima, tanda terima baku muncul" in idn
    assert "<td>60 hari kerja</td>" in idn

    # The workbench set to the same figures: POL-2 agrees, the clocks and the standard message
    # use them; set to the shipped defaults instead, POL-2 names each difference.
    wb = DeadlinePolicy(**header.calendar_settings())
    facts = DeploymentFacts("x", workbench_deadlines={
        **wb.__dict__, "case_retention_years": clocks.CASE_RETENTION_YEARS})
    assert check_workbench_deadlines(facts, header).status == "pass"
    default = DeploymentFacts("x", workbench_deadlines={
        **DeadlinePolicy().__dict__, "case_retention_years": clocks.CASE_RETENTION_YEARS})
    evidence = " ".join(check_workbench_deadlines(default, header).evidence)
    assert "acknowledge_days: workbench 3, policy 2" in evidence
    assert "complete_days: workbench 75, policy 60" in evidence
    due = WorkingCalendar().due_dates(dt.date(2026, 11, 2), wb)  # a Monday
    assert (due.acknowledge, due.verify) == (dt.date(2026, 11, 4), dt.date(2026, 11, 4))
    text = acknowledgment.text(wb)
    assert "Within 2 working days of receipt it is reviewed" in text
    assert "within 60 working days of receipt" in text
