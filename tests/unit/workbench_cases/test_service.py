import datetime as dt

import pytest
from sqlalchemy import select, text

from policies import auditlog
from tests.fixtures.cases import AUDITOR, COMPLIANCE, LEAD, add_message, add_report
from workbench import db
from workbench.cases.models import Case, CaseLink
from workbench.cases.search import CaseSearch
from workbench.cases.service import Filters
from workbench.cases.workflow import Forbidden, WorkflowError


def audit_entries(session):
    rows = session.scalars(select(db.AuditLogRow).order_by(db.AuditLogRow.seq)).all()
    return [auditlog.Entry.from_dict({**auditlog.parse_line(r.entry, "x").to_dict(),
                                      "hash": r.hash}) for r in rows]

D = dt.date
LETTER = {"what": "Kepala seksi meminta uang pelicin untuk izin usaha", "who_name": "Pak X",
          "who_unit": "Dinas Perizinan", "where": "Kantor dinas", "when": "Februari 2026",
          "how": "Diminta tunai saat mengambil berkas", "sender": "Ibu Sari, Jl. Mawar 3"}


def _review(**kw):
    base = {"complete": {"what": True, "who": True, "where": True, "when": True, "how": False},
            "darwas": True, "category": "corruption", "core_issue": "pungli perizinan",
            "rule": "UU 31/1999 ps. 12", "notes": ""}
    return {**base, **kw}


def test_offline_intake_sets_deadlines_and_encrypts(svc):
    case = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    assert case.number == f"2026-{case.id:06d}" and case.state == "intake"
    assert case.coarse == "received"
    # Monday 16 March 2026: 17 is a working day, then Nyepi and Lebaran close 18–24.
    assert case.due_acknowledge == D(2026, 3, 26)
    assert svc.calendar.working_days_between(case.received_day, case.due_complete) == 75
    svc.db.flush()
    raw = svc.db.execute(text("select content from cases")).scalar()
    assert b"pelicin" not in raw and b"Sari" not in raw
    detail = svc.detail(AUDITOR, case.id)
    assert detail.content["what"] == LETTER["what"] and detail.content["sender"].startswith("Ibu")


def test_ciphertext_moved_to_another_case_does_not_open(svc):
    a = svc.intake_offline(AUDITOR, "email", D(2026, 3, 16), {"what": "satu"})
    b = svc.intake_offline(AUDITOR, "email", D(2026, 3, 16), {"what": "dua"})
    svc.db.flush()
    # Someone with write access copies one complaint's ciphertext into another case's row.
    svc.db.execute(text("update cases set content = (select content from cases where id = :a) "
                        "where id = :b"), {"a": a.id, "b": b.id})
    svc.db.expire_all()
    with pytest.raises(db.TamperedError):
        svc.detail(AUDITOR, b.id)
    assert svc.detail(AUDITOR, a.id).content["what"] == "satu"


def test_bad_intake_is_refused(svc):
    with pytest.raises(WorkflowError, match="bundle import"):
        svc.intake_offline(AUDITOR, "web", D(2026, 3, 16), LETTER)
    with pytest.raises(WorkflowError, match="channel"):
        svc.intake_offline(AUDITOR, "pigeon", D(2026, 3, 16), LETTER)
    with pytest.raises(WorkflowError, match="what"):
        svc.intake_offline(AUDITOR, "phone", D(2026, 3, 16), {"who_name": "x"})
    with pytest.raises(WorkflowError, match="future"):
        svc.intake_offline(AUDITOR, "phone", D(2026, 3, 17), LETTER)
    with pytest.raises(Forbidden):
        svc.intake_offline(COMPLIANCE, "phone", D(2026, 3, 16), LETTER)


def test_full_process_with_roles(svc):
    rid = add_report(svc.db, LETTER["what"], who_unit=LETTER["who_unit"], how=LETTER["how"])
    [case] = svc.sync_reports(AUDITOR)
    assert case.channel == "web" and case.category == "pungli" and case.report_id == rid
    assert svc.sync_reports(AUDITOR) == []
    with pytest.raises(Forbidden):
        svc.detail(COMPLIANCE, case.id)
    with pytest.raises(Forbidden):
        svc.start_review(COMPLIANCE, case.id)
    svc.start_review(AUDITOR, case.id)
    with pytest.raises(WorkflowError, match="category"):
        svc.save_review(AUDITOR, case.id, _review(category=None), submit=True)
    svc.save_review(AUDITOR, case.id, _review(), submit=True)
    # The initial review's target is met by the lead's decision, not by saving the review.
    assert case.state == "decision" and case.verified_day is None
    with pytest.raises(Forbidden):
        svc.decide(AUDITOR, case.id, "adtt", "bukti cukup")
    with pytest.raises(WorkflowError, match="reason"):
        svc.decide(LEAD, case.id, "clarify", "  ")
    svc.decide(LEAD, case.id, "clarify", "perlu konfirmasi bukti")
    assert case.state == "verification" and case.coarse == "verification"
    assert case.verified_day == D(2026, 3, 16)
    q = svc.ask(AUDITOR, case.id, "Apakah Anda punya kuitansi?")
    assert case.acknowledged_day == D(2026, 3, 16)
    assert q.report_id == rid and q.kind == "question" and q.exported_seq is None
    add_message(svc.db, rid, "Ya, ada kuitansi bermeterai", in_reply_to=q.id)
    svc.verification_done(AUDITOR, case.id, "kuitansi asli diterima")
    svc.decide(LEAD, case.id, "investigation", "bukti awal cukup")
    assert case.coarse == "investigation"
    statuses = [c.status for c in svc.db.scalars(
        select(db.StatusChange).where(db.StatusChange.report_id == rid)
        .order_by(db.StatusChange.id))]
    assert statuses == ["verification", "investigation"]
    with pytest.raises(Forbidden):
        svc.close(AUDITOR, case.id, "substantiated", "terbukti")
    svc.close(LEAD, case.id, "substantiated", "terbukti, rekomendasi ke PPK")
    assert case.state == "closed" and case.coarse == "finished"
    detail = svc.detail(LEAD, case.id)
    # The question went after the standard acknowledgment message (the first to the reporter).
    kinds = [e["kind"] for e in detail.thread if e["kind"] != "message"]
    assert kinds in (["answer", "question", "finding"], ["question", "answer", "finding"])
    assert [e["kind"] for e in detail.thread].count("message") == 1
    answer = next(e for e in detail.thread if e["kind"] == "answer")
    assert answer["in_reply_to"] == q.id
    assert detail.decision_reason == "bukti awal cukup"
    clock = svc.case_clock(case)
    assert clock["acknowledge"]["status"] == "met" and clock["complete"]["status"] == "met"
    # Every change is in the audit log, chained, with the actor; no content in it.
    entries = audit_entries(svc.db)
    assert auditlog.verify(entries) == []
    actions = [e.action for e in entries]
    for action in ("case.create", "case.review.start", "case.review.submit", "case.decide",
                   "case.question", "case.verification.done", "case.close", "case.read"):
        assert action in actions
    assert {e.actor for e in entries if e.action == "case.decide"} == {LEAD.id}
    dump = b"".join(auditlog.export_lines(entries))
    assert b"kuitansi" not in dump and b"pelicin" not in dump


def test_questions_only_for_web_reports(svc):
    case = svc.intake_offline(AUDITOR, "walk_in", D(2026, 3, 16), LETTER)
    with pytest.raises(WorkflowError, match="note"):
        svc.ask(AUDITOR, case.id, "?")


def test_decision_closing_directly(svc):
    case = svc.intake_offline(AUDITOR, "phone", D(2026, 3, 16), LETTER)
    svc.save_review(AUDITOR, case.id, _review(darwas=False, category="public_service"), submit=True)
    # Archiving for lack of evidence needs a clarification with the reporter first (policy §7).
    with pytest.raises(WorkflowError, match="clarification"):
        svc.decide(LEAD, case.id, "archived", "tidak ada bukti")
    svc.decide(LEAD, case.id, "clarify", "minta bukti")
    svc.verification_done(AUDITOR, case.id, "pelapor tidak punya bukti")
    svc.decide(LEAD, case.id, "archived", "tidak ada bukti")
    assert case.state == "closed" and case.outcome == "archived"
    with pytest.raises(WorkflowError):
        svc.decide(LEAD, case.id, "adtt", "x")
    svc.reopen(LEAD, case.id, "bukti baru datang")
    assert case.state == "review" and case.outcome is None


def test_duplicates_flagged_and_linked(svc):
    first = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    copy = svc.intake_offline(AUDITOR, "copy", D(2026, 3, 16),
                              {**LETTER, "what": LETTER["what"] + " (tembusan)"})
    other = svc.intake_offline(AUDITOR, "email", D(2026, 3, 16),
                               {"what": "Pengadaan laptop sekolah digelembungkan harganya",
                                "who_unit": "Dinas Pendidikan"})
    links = svc.db.scalars(select(CaseLink).where(CaseLink.kind == "duplicate")).all()
    assert [(lk.case_id, lk.other_id) for lk in links] == [(copy.id, first.id)]
    assert links[0].score >= 50
    svc.mark_duplicate(AUDITOR, copy.id, first.number)
    assert copy.state == "closed" and copy.outcome == "duplicate" and copy.duplicate_of == first.id
    with pytest.raises(WorkflowError):
        svc.mark_duplicate(AUDITOR, other.id, other.number)


def test_search_and_filters(svc):
    a = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    b = svc.intake_offline(AUDITOR, "email", D(2026, 3, 16),
                           {"what": "Korupsi dana BOS di sekolah", "category": "corruption"})
    svc.add_note(AUDITOR, a.id, "saksi: bendahara")
    page = svc.list_cases(AUDITOR, Filters(q="pelicin"))
    assert [c.id for c in page.items] == [a.id] and page.total == 1
    assert svc.list_cases(AUDITOR, Filters(q="korup")).total == 1       # prefix
    assert svc.list_cases(AUDITOR, Filters(q="bendahara")).total == 1   # thread text
    assert svc.list_cases(AUDITOR, Filters(q="dana", channel="letter")).total == 0
    assert svc.list_cases(AUDITOR, Filters(channel="email")).items == [b]
    assert svc.list_cases(AUDITOR, Filters(category="corruption")).items == [b]
    assert svc.list_cases(AUDITOR, Filters(q="Ibu Sari")).total == 0  # the sender is not indexed
    with pytest.raises(Forbidden):
        svc.list_cases(COMPLIANCE, Filters(q="pelicin"))
    page = svc.list_cases(COMPLIANCE, Filters())
    assert page.total == 2 and page.summaries == {}
    assert "pelicin" in svc.list_cases(AUDITOR, Filters()).summaries[a.id]
    # The index rebuilt at unlock finds the same, and picks up later messages.
    search = CaseSearch()
    idx = search.refresh(svc.db)
    assert idx.search("bendahara") == {a.id} and idx.search("korupsi dana") == {b.id}
    rid = add_report(svc.db, "Gratifikasi tiket pesawat")
    [web] = svc.sync_reports(AUDITOR)
    add_message(svc.db, rid, "Nomor penerbangan GA-404")
    assert search.refresh(svc.db).search("ga 404") == {web.id}


def test_deadline_views(svc):
    old = svc.intake_offline(AUDITOR, "letter", D(2025, 10, 1), LETTER)
    new = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), {"what": "baru"})
    assert svc.list_cases(AUDITOR, Filters(deadline="overdue")).items == [old]
    clock = svc.case_clock(old)
    assert clock["complete"]["status"] == "overdue" and clock["complete"]["left"] < 0
    assert svc.case_clock(new)["acknowledge"]["status"] == "running"
    svc.clock.advance(days=8)  # Tuesday 24 March: cuti bersama; the 3-day clock still runs
    assert svc.case_clock(new)["acknowledge"]["left"] == 2


def test_file_register(svc):
    case = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    loan = svc.lend_file(AUDITOR, case.id, "Dedi (Irban II)", "pemeriksaan", D(2026, 3, 27))
    with pytest.raises(WorkflowError, match="already lent"):
        svc.lend_file(AUDITOR, case.id, "Eka", "", None)
    assert len(svc.file_register(LEAD, only_out=True)) == 1
    svc.return_file(LEAD, loan.id)
    assert loan.returned_day == D(2026, 3, 16) and loan.received_by == LEAD.id
    assert svc.file_register(LEAD, only_out=True) == []
    with pytest.raises(WorkflowError):
        svc.return_file(LEAD, loan.id)


def test_review_links_related_cases(svc):
    a = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    b = svc.intake_offline(AUDITOR, "phone", D(2026, 3, 16), {"what": "hal lain sama sekali"})
    svc.save_review(AUDITOR, b.id, _review(related=[a.number]))
    assert svc.detail(AUDITOR, b.id).links[0]["case"].id == a.id
    with pytest.raises(WorkflowError, match="no case"):
        svc.save_review(AUDITOR, b.id, _review(related=["2026-999999"]))
    assert svc.db.get(Case, b.id).state == "intake"


def test_archive_without_asking_the_reporter_is_refused(svc):
    """Issue 19: the lead could archive a web report straight from the review, though the policy
    (and the Kemenag process) archive for lack of evidence only after the reporter was asked."""
    add_report(svc.db, LETTER["what"])
    [case] = svc.sync_reports(AUDITOR)
    svc.save_review(AUDITOR, case.id, _review(), submit=True)
    with pytest.raises(WorkflowError) as err:
        svc.decide(LEAD, case.id, "archived", "tidak ada bukti")
    assert err.value.code == "archive_unverified" and case.state == "decision"
    svc.decide(LEAD, case.id, "not_processed", "di luar kewenangan")  # other closings stay
    assert case.coarse == "not_processed"


@pytest.mark.parametrize(("outcome", "seen"), [("substantiated", "finished"),
                                               ("not_substantiated", "finished"),
                                               ("forwarded", "forwarded")])
def test_reporter_status_says_how_a_case_ended(svc, outcome, seen):
    """'Finished' only for a matter examined here; a forwarded one continues elsewhere."""
    rid = add_report(svc.db, LETTER["what"])
    [case] = svc.sync_reports(AUDITOR)
    svc.save_review(AUDITOR, case.id, _review(), submit=True)
    svc.decide(LEAD, case.id, "forward" if outcome == "forwarded" else "adtt", "alasan")
    svc.close(LEAD, case.id, outcome, "catatan")
    assert case.coarse == seen
    last = svc.db.scalars(select(db.StatusChange).where(db.StatusChange.report_id == rid)
                          .order_by(db.StatusChange.id.desc())).first()
    assert last.status == (seen if seen != "forwarded" else "forwarded")


def test_duplicate_and_archived_cases_do_not_read_finished(svc):
    add_report(svc.db, LETTER["what"])
    add_report(svc.db, LETTER["what"] + " (kirim ulang)")
    first, second = svc.sync_reports(AUDITOR)
    svc.mark_duplicate(AUDITOR, second.id, first.number)
    assert second.coarse == "duplicate"
    svc.save_review(AUDITOR, first.id, _review(), submit=True)
    svc.decide(LEAD, first.id, "clarify", "minta bukti")
    svc.verification_done(AUDITOR, first.id, "tidak ada bukti")
    svc.decide(LEAD, first.id, "archived", "tidak ada bukti")
    assert first.coarse == "archived"
    svc.reopen(LEAD, first.id, "bukti baru datang")
    assert first.coarse == "verification"  # not "received" again


def test_acknowledgment_sends_the_standard_message_once(svc):
    rid = add_report(svc.db, LETTER["what"])
    [case] = svc.sync_reports(AUDITOR)
    svc.acknowledge(AUDITOR, case.id)
    svc.acknowledge(AUDITOR, case.id)
    [msg] = svc.db.scalars(select(db.Reply).where(db.Reply.report_id == rid)).all()
    assert msg.kind == "message" and case.acknowledged_day == D(2026, 3, 16)
    assert "Laporan Anda telah diterima" in msg.text
    assert "Your report has been received" in msg.text
    assert f"Within {svc.policy.verify_days} working days" in msg.text


def test_a_question_first_sends_the_acknowledgment_before_it(svc):
    rid = add_report(svc.db, LETTER["what"])
    [case] = svc.sync_reports(AUDITOR)
    svc.ask(AUDITOR, case.id, "Kapan?")
    kinds = [r.kind for r in svc.db.scalars(select(db.Reply).where(db.Reply.report_id == rid)
                                           .order_by(db.Reply.seq))]
    assert kinds == ["message", "question"] and case.acknowledged_day is not None


def test_offline_acknowledgment_is_recorded_without_a_message(svc):
    case = svc.intake_offline(AUDITOR, "letter", D(2026, 3, 16), LETTER)
    svc.acknowledge(AUDITOR, case.id)
    assert case.acknowledged_day == D(2026, 3, 16)
    assert svc.db.scalars(select(db.Reply)).all() == []


@pytest.mark.parametrize("category", ["conflict_of_interest", "ethics"])
def test_new_form_categories_reach_the_case(svc, category):
    """Issue 19: conflict of interest and code-of-ethics breaches are categories of their own,
    on the form (dropbox_app.config.DEFAULT_CATEGORIES), the case and the statistics."""
    from dropbox_app.config import DEFAULT_CATEGORIES
    from policies.statistics import LABELS

    assert category in DEFAULT_CATEGORIES and category in LABELS["category"]
    add_report(svc.db, LETTER["what"], category=category)
    [case] = svc.sync_reports(AUDITOR)
    assert case.category == category and category in svc.categories
