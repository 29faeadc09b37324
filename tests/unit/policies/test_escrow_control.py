"""ESC-1 (policies/controls.py): every identity opened on the workbench had a recorded consent
or custodians' approval, read from the workbench's own audit log; and the statistics count
deposits and openings with the small-count suppression of every other cell."""

from __future__ import annotations

from policies import auditlog, controls, statistics

REQ, DEP = "a" * 32, "b" * 32
C1, C2 = "c" * 32, "d" * 32


def _log(*steps: tuple[str, str, dict]) -> list[auditlog.Entry]:
    out, prev = [], None
    for actor, action, details in steps:
        prev = auditlog.append(prev, at="2026-11-23T10:00Z", actor=actor, action=action,
                               case="2026-0001", details=details)
        out.append(prev)
    return out


def _open(mode, who=(C1,)):
    return (who[0], "escrow.open", {"request": REQ, "deposit": DEP, "mode": mode,
                                    "custodians": list(who)})


REQUEST = ("lead", "escrow.request", {"request": REQ, "deposit": DEP})


def test_opened_after_consent_passes():
    entries = _log(REQUEST, ("workbench-intake", "escrow.consent",
                             {"request": REQ, "deposit": DEP}), _open("consent"))
    assert controls.escrow_findings(entries) == (1, [])


def test_opened_without_consent_fails():
    for steps in ([REQUEST, _open("consent")],
                  [REQUEST, ("workbench-intake", "escrow.refuse", {"request": REQ}),
                   _open("consent")],
                  # a consent recorded after the opening does not count
                  [REQUEST, _open("consent"), ("x", "escrow.consent", {"request": REQ})],
                  [REQUEST, ("x", "escrow.consent", {"request": "e" * 32}), _open("consent")]):
        opened, problems = controls.escrow_findings(_log(*steps))
        assert opened == 1 and len(problems) == 1 and "without a recorded consent" in problems[0]


def test_approval_needs_each_custodian():
    ok = _log(REQUEST, (C1, "escrow.approve", {"request": REQ}),
              (C2, "escrow.approve", {"request": REQ}), _open("approval", (C1, C2)))
    assert controls.escrow_findings(ok) == (1, [])
    short = _log(REQUEST, (C1, "escrow.approve", {"request": REQ}), _open("approval", (C1, C2)))
    assert "without a recorded approval" in controls.escrow_findings(short)[1][0]


def test_edited_log_is_a_finding():
    entries = _log(REQUEST, ("x", "escrow.consent", {"request": REQ}), _open("consent"))
    forged = auditlog.Entry(**{**entries[1].to_dict(), "details": {"request": REQ, "x": 1}})
    _opened, problems = controls.escrow_findings([entries[0], forged, entries[2]])
    assert any(p.startswith("audit log:") for p in problems)


def test_control_is_na_without_the_log():
    facts = controls.DeploymentFacts(config_path="x")
    assert controls.check_escrow_openings(facts, None).status == "n/a"
    facts.escrow_openings, facts.escrow_problems = 2, []
    assert controls.check_escrow_openings(facts, None).status == "pass"
    facts.escrow_problems = ["entry #3: identity opened without a recorded consent"]
    assert controls.check_escrow_openings(facts, None).status == "fail"


def _case(**kw):
    return statistics.CaseRecord("corruption", "web", "review", None, "2026-03", None, **kw)


def test_statistics_count_deposits_and_openings_with_suppression():
    records = ([_case(identity_deposited=True, identity_opened=True) for _ in range(3)]
               + [_case(identity_deposited=True) for _ in range(4)] + [_case() for _ in range(5)])
    report = statistics.compute(records)
    assert report.identity_deposits.display == "7"
    assert report.identity_openings.display == "< 5"  # three: a small cell, never shown
    assert "identity_openings,< 5" in statistics.to_csv(report)
    assert statistics.CaseRecord.from_dict({"category": "x", "channel": "web", "status": "s",
                                            "received": "2026-03",
                                            "identity_deposited": True}).identity_deposited
