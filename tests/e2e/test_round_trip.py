"""The whole loop, once, with the real programs and real files on disk.

Server side: a deployment made by ``peluit init``, the auditor card enrolled with ``peluit auditor
enroll``, a gateway account from ``peluit gateway-user add``; the reporter app and the gateway
are the real WSGI apps (WebTest), on the same database and store, with the default argon2 costs.
Workbench side: a vault made by ``peluit workbench init`` (pinning the card printed by ``peluit
server-key show``), bundles carried as files in a "removable media" directory, imported and
exported with ``peluit workbench import`` / ``export-replies``, the question written on the
workbench's own web UI.

reporter submits a report with a file → inbox bundle from the gateway → import → question on the
workbench → reply bundle → upload to the gateway → the reporter logs in with the codename, reads
the question and the coarse status, answers with a file → the next inbox bundle brings the answer
to the same report on the workbench, and only the answer (the first bundle was acknowledged)."""

from __future__ import annotations

import re
import secrets

import pytest
import webtest
from sqlalchemy import select

from dropbox_app.store import Store
from tests.fixtures.roundtrip import WB_PASS, RoundTrip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

EVIDENCE = b"%PDF-1.4\n" + secrets.token_bytes(300_000)  # spans several envelope chunks
ANSWER_FILE = secrets.token_bytes(70_000)
QUESTION = "Kapan uang itu diserahkan, dan siapa yang menyaksikannya?"
ANSWER = "Pada 3 Maret, disaksikan bendahara."


def test_round_trip(tmp_path, capsys):
    from dropbox_app.models import Reply, Report, Submission

    # --- installation ------------------------------------------------------------------------
    rt = RoundTrip(tmp_path, capsys).install()
    assert "enrolled: Ani" in rt.enrolled
    cfg, vault, reporter, gateway, workbench = (rt.cfg, rt.vault, rt.reporter, rt.gateway,
                                                rt.workbench)

    # --- the reporter files a report with a file ---------------------------------------------
    codename, _ = rt.file_report(
        ("what", "Kepala bagian pengadaan meminta 10% dari setiap kontrak."),
        ("category", "corruption"), upload_files=[("files", "kuitansi.pdf", EVIDENCE)])
    assert len(codename.split()) == 7

    # --- an auditor fetches the inbox bundle through the gateway -------------------------------
    rt.login_gateway()
    assert gateway.get("/").html.find(id="pending-count").text == "2"  # the report and the file
    assert EVIDENCE[-1000:] not in rt.fetch_inbox(1)  # ciphertext only

    out = rt.import_inbox(1)
    assert "2 new submission(s)" in out and "(1 new report(s))" in out
    # The gateway's admin log came along: the card and the account set up in the shell, and
    # this very download.
    assert "(server shell): card.enroll" in out and "(server shell): account.create" in out
    assert "ani: inbox.download (seq=1," in out

    # --- a question on the workbench, and a coarse status ---------------------------------------
    from sqlalchemy.orm import Session

    from workbench import db as wdb
    from workbench import outbox
    from workbench import vault as wvault

    rt.login_workbench()
    listing = workbench.get("/reports")
    report_id = re.search(r"/reports/([0-9a-f]{32})", listing.text).group(1)
    page = workbench.get(f"/reports/{report_id}")
    assert "Kepala bagian pengadaan" in page.text and "kuitansi.pdf" in page.text
    form = next(f for f in page.forms.values() if "text" in f.fields)
    form["text"] = QUESTION
    form.submit(status=303)
    unlocked = wvault.unlock(vault, "Ani", WB_PASS)
    try:
        with wdb.unlocked(unlocked.vault_key), Session(wdb.make_engine(vault)) as s, s.begin():
            outbox.queue_status(s, report_id, "verification", unlocked.key_id)
    finally:
        unlocked.lock()

    out = rt.export_replies(1)
    assert "1 question(s) or message(s), 1 status change(s), 2 acknowledgment(s)" in out

    # --- the reply bundle goes up through the gateway -------------------------------------------
    rt.upload_replies(1)
    assert gateway.get("/").html.find(id="pending-count").text == "0"

    # --- the reporter comes back with the codename, reads, answers with a file -----------------
    rt.login_reporter(codename)
    page = reporter.get("/followup")
    assert QUESTION in page.text
    assert "In verification" in page.text or "Dalam verifikasi" in page.text.lower()
    answer = next(f for f in page.forms.values() if "in_reply_to" in f.fields)
    answer["text"] = ANSWER
    answer["files"] = [webtest.Upload("jawaban.bin", ANSWER_FILE, "application/octet-stream")]
    answer.submit(status=200)
    rt.logout_reporter()

    # --- the next inbox bundle brings the answer to the same report ----------------------------
    assert gateway.get("/").html.find(id="pending-count").text == "2"  # the answer and its file
    rt.fetch_inbox(2)
    out = rt.import_inbox(2)
    assert "2 new submission(s) (0 new report(s))" in out
    # Since then, on the gateway: the reply upload and this download, nothing else.
    assert re.findall(r"#\d+ \S+ (\S+: \S+)", out) == ["ani: replies.upload",
                                                      "ani: inbox.download"]

    page = workbench.get(f"/reports/{report_id}")
    assert ANSWER in page.text and "jawaban.bin" in page.text
    file_id = re.findall(r"/files/([0-9a-f]{32})", page.text)
    bodies = [workbench.get(f"/files/{fid}").body for fid in file_id]
    assert EVIDENCE in bodies and ANSWER_FILE in bodies

    # The server holds the reply only as an envelope for the reporter, and no plaintext at all.
    from dropbox_app.db import make_engine, session_factory

    engine = make_engine(cfg.database_url)
    with session_factory(engine)() as db:
        reply = db.scalar(select(Reply))
        # The status reached the reporter's page (above) sealed in the entry, not on the row.
        assert db.get(Report, reply.report_id).status == "received"
        assert reply.kind == "entry"
        assert db.scalar(select(Submission).where(Submission.acked_day.is_(None))) is not None
    engine.dispose()
    for path in (cfg.store_dir / m for m in Store(cfg.store_dir).members()):
        data = path.read_bytes()
        assert QUESTION.encode() not in data and ANSWER.encode() not in data
        assert ANSWER_FILE[:64] not in data and EVIDENCE[-64:] not in data
