import datetime as dt

from policies.statistics import CaseRecord
from tests.fixtures.cases import AUDITOR, LEAD
from workbench.cases import export

D = dt.date


def test_deadline_states():
    due = D(2026, 3, 20)
    assert export._deadline(D(2026, 3, 20), due, False, D(2026, 4, 1)) == "met"
    assert export._deadline(D(2026, 3, 23), due, False, D(2026, 4, 1)) == "missed"
    assert export._deadline(None, due, False, D(2026, 3, 20)) == "open"
    assert export._deadline(None, due, False, D(2026, 3, 21)) == "missed"
    assert export._deadline(None, due, True, D(2026, 3, 1)) == "missed"


def test_export_records_validate_and_hold_no_text(svc):
    a = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), {"what": "Rahasia sekali"})
    svc.save_review(AUDITOR, a.id, {"darwas": True, "category": "pungli"}, submit=True)
    svc.decide(LEAD, a.id, "not_processed", "di luar kewenangan")
    svc.intake_offline(AUDITOR, "phone", D(2026, 3, 16), {"what": "lain"})
    data = export.export(svc.db, "compliance", svc.calendar, D(2026, 3, 16))
    assert data["format"] == "peluit-stats-export" and len(data["cases"]) == 2
    recs = [CaseRecord.from_dict(r) for r in data["cases"]]
    closed = next(r for r in recs if r.status == "closed")
    assert closed.outcome == "not_processed" and closed.working_days_to_close == 0
    assert closed.deadlines["verification"] == "met" and closed.category == "pungli"
    assert next(r for r in recs if r.status == "intake").category == "uncategorised"
    assert "Rahasia" not in repr(data) and "2026-03-16" not in repr(data)
