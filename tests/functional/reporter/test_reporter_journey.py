"""The reporter's journey end to end through the real app: codename, report with files,
acknowledgment, return with the codename, replies, answers, retaliation, logout."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from crypto.envelope import seal_bytes
from dropbox_app.models import Reply, Report, Reporter, Submission, new_id
from tests.fixtures.reporter_client import csrf, open_submissions, report_json


def test_landing_page_explains_the_channel(app):
    page = app.get("/")
    assert page.status_int == 200
    assert "<h1>" in page.text and 'lang="id"' in page.text
    assert 'name="csrf_token"' in page.text
    assert len(page.body) < 50_000
    en = app.get("/?lang=en")
    assert 'lang="en"' in en.text and "Tor Browser" in en.text
    assert app.cookies["lang"] == "en"
    assert 'lang="en"' in app.get("/").text  # remembered


def test_full_journey(app, reporter, db, config, auditor, clock):
    codename = reporter.get_codename("en")
    assert len(codename.split()) == 7
    # The codename page is the only place the codename appears; the reporter row made at issue
    # holds the lookup id and the public key only.
    assert set(db.scalar(select(Reporter)).__table__.columns.keys()) == {
        "id", "lookup_id", "public_key", "created_day"}
    reporter.confirm()
    res = reporter.report(what="The head of the procurement unit takes bribes on contracts.",
                          category="corruption", who_name="Budi", who_unit="Procurement",
                          files=[("bukti.pdf", b"%PDF-1.4 evidence " * 1000),
                                 ("foto.jpg", b"\xff\xd8\xff" + b"x" * 70_000)])
    # The acknowledgment is the response itself, and names the files received.
    ack = res
    assert "working days" in ack.text or "hari kerja" in ack.text
    assert "bukti.pdf" in ack.text and "foto.jpg" in ack.text

    subs = open_submissions(db, config.store_dir, auditor)
    kinds = sorted(m["kind"] for m, _ in subs)
    assert kinds == ["file", "file", "report"]
    body = report_json(subs)
    assert body["category"] == "corruption" and body["who_name"] == "Budi"
    assert body["what"].startswith("The head")
    # author_key: the proof of authorship's public key (sent from a live session)
    assert set(body) == {"category", "what", "who_name", "who_position", "who_unit", "where",
                         "when", "how", "evidence", "concerns", "language", "author_key"}
    assert body["concerns"] == "no"   # no conflict group here: the question was not asked
    files = {m["name"]: b for m, b in subs if m["kind"] == "file"}
    assert files["bukti.pdf"] == b"%PDF-1.4 evidence " * 1000
    assert len(files["foto.jpg"]) == 70_003
    report = db.scalar(select(Report))
    assert report.status == "received" and report.created_day == clock.day()

    # The workbench answers with a question sealed to the reporter's key.
    rep = db.scalar(select(Reporter))
    from nacl.public import PublicKey

    reply_id = new_id()
    env = seal_bytes(json.dumps({"text": "Kapan ini terjadi?"}).encode(),
                     [PublicKey(rep.public_key)],
                     {"v": 1, "kind": "question", "report": report.id, "reply": reply_id})
    (config.store_dir / f"{reply_id}.env").write_bytes(env)
    db.add(Reply(id=reply_id, report_id=report.id, kind="question", member=f"{reply_id}.env",
                 padded_size=len(env), created_day=clock.day()))
    db.commit()

    reporter.logout()
    assert reporter.app.get("/followup", status=403)
    reporter.login(codename)
    page = reporter.followup()
    assert "Kapan ini terjadi?" in page.text
    db.expire_all()
    assert db.get(Reply, reply_id).read_day == clock.day()

    reporter.message("Sejak Januari 2025.", in_reply_to=reply_id,
                     files=[("nota.txt", b"receipt")])
    page = reporter.app.get("/followup?done=message")
    rid = report.id
    tok = re.search(r'retaliation" method|name="form_token" value="([0-9a-f]+)"[^<]*\s*<label '
                    r'for="retaliation', page.text)
    del tok
    tokens = re.findall(r'name="form_token" value="([0-9a-f]+)"', page.text)
    reporter.app.post(f"/followup/{rid}/retaliation",
                      {"csrf_token": csrf(reporter.app), "form_token": tokens[-1],
                       "text": "I was moved to another unit after reporting."}, status=303)
    db.expire_all()
    subs = open_submissions(db, config.store_dir, auditor)
    msgs = [json.loads(b) for m, b in subs if m["kind"] == "message"]
    # A live session's message carries the authorship key too (the report's own, once more).
    assert msgs == [{"text": "Sejak Januari 2025.", "in_reply_to": reply_id,
                     "author_key": body["author_key"]}]
    ret = [json.loads(b) for m, b in subs if m["kind"] == "retaliation"]
    assert ret == [{"text": "I was moved to another unit after reporting."}]
    assert {m.get("name") for m, _ in subs if m["kind"] == "file"} == {"bukti.pdf", "foto.jpg",
                                                                       "nota.txt"}

    # The question is marked answered, by a receipt only the reporter's key can find.
    from dropbox_app.models import AnswerReceipt

    assert "answered" in reporter.followup().text
    receipts = db.scalars(select(AnswerReceipt.id)).all()
    assert len(receipts) == 1 and reply_id not in receipts[0]

    # Delete the read question: the first press asks, nothing is deleted yet.
    ask = reporter.app.post(f"/followup/reply/{reply_id}/delete",
                            {"csrf_token": csrf(reporter.app)}, status=200)
    assert 'name="confirm" value="yes"' in ask.text
    db.expire_all()
    assert db.get(Reply, reply_id) is not None
    reporter.app.post(f"/followup/reply/{reply_id}/delete",
                      {"csrf_token": csrf(reporter.app), "confirm": "yes"}, status=303)
    db.expire_all()
    assert db.scalars(select(AnswerReceipt.id)).all() == []
    assert db.get(Reply, reply_id) is None
    gone = config.store_dir / f"{reply_id}.env"
    assert not gone.exists() or gone.stat().st_size == 0  # wiped in its slot

    out = reporter.logout()
    assert "New Identity" in out.text or "Identitas Baru" in out.text
    assert reporter.app.get("/followup", status=403)


def test_status_is_shown_coarsely(app, reporter, db):
    reporter.new_report()
    report = db.scalar(select(Report))
    for status in ("verification", "forwarded", "investigation", "finished"):
        report.status = status
        db.commit()
        page = reporter.followup()
        assert f"status-{status}" in page.text


def test_files_and_messages_count_on_followup(app, reporter, db):
    reporter.new_report(files=[("a.txt", b"a")])
    # A report and its file: two rows, both of the one kind the server knows.
    assert set(db.scalars(select(Submission.kind))) == {"submission"}
    page = reporter.followup().text
    assert "encrypted items: 2" in page or "kiriman terenkripsi: 2" in page
