import datetime as dt

from policies import controls
from policies.controls import CONTROLS, Control, DeploymentFacts, run_controls


def test_facts_that_could_not_be_gathered_never_pass():
    # Nothing known about the deployment: no control may say "fine".
    outcomes = run_controls(DeploymentFacts(config_path="/nowhere/peluit.toml"), None)
    assert {o.control.id for o in outcomes} == {c.id for c in CONTROLS}
    assert all(o.result.status in ("fail", "n/a") for o in outcomes)
    assert all(o.result.evidence for o in outcomes)
    # Only what is genuinely optional may be n/a.
    assert {o.control.id for o in outcomes if o.result.status == "n/a"} <= {
        "POL-2", "ESC-1", "TOR-1", "TOR-2", "TOR-3", "SYS-1"}  # ESC-1: --workbench-audit


def test_controls_are_well_formed():
    ids = [c.id for c in CONTROLS]
    assert len(ids) == len(set(ids))
    assert all(c.statement.endswith(".") and c.rule for c in CONTROLS)


def test_a_crashing_check_is_a_failure_not_a_crash():
    def broken(facts, policy):
        raise KeyError("boom")

    outcomes = run_controls(DeploymentFacts("x"), None, (Control("X-1", "s.", "r", broken),))
    assert outcomes[0].result.status == "fail"
    assert "KeyError" in outcomes[0].result.evidence[0]


def test_report_html_escapes_evidence():
    facts = DeploymentFacts("<script>x</script>", listen={"reporter": "<b>0.0.0.0:80</b>"})
    outcomes = run_controls(facts, None)
    report = controls.to_json(facts, None, outcomes, dt.date(2026, 11, 23))
    html = controls.to_html(report, "en")
    assert "<script>" not in html and "<b>" not in html and "&lt;b&gt;" in html
    assert report["passed"] is False
    assert "Aplikasi pelapor" in controls.to_html(report, "id")


def test_loopback_and_targets():
    assert controls._is_loopback("127.0.0.1:8080") and controls._is_loopback("[::1]:80")
    assert controls._is_loopback("localhost:1")
    assert not controls._is_loopback("0.0.0.0:8080") and not controls._is_loopback("10.0.0.1:1")
    assert not controls._is_loopback("example.org:80")
    assert controls._same_target("localhost:8080", "127.0.0.1:8080")
    assert not controls._same_target("127.0.0.1:8081", "127.0.0.1:8080")


def test_every_control_statement_is_translated_in_the_indonesian_report():
    """Each statement is written once, where the control is (marked N_), and a report in
    Indonesian shows it in Indonesian (COI-1 and POL-3 were missing from the extraction list
    kept apart from the controls, so they stood in English)."""
    from peluit.ground.i18n import translations
    from policies.controls import CONTROLS

    _ = translations("policies", "policies", "id").gettext
    untranslated = [c.id for c in CONTROLS if _(c.statement) == c.statement]
    assert untranslated == []
