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
import time

import pytest
import webtest
from sqlalchemy import select

from dropbox_app.store import Store
from peluit.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

EVIDENCE = b"%PDF-1.4\n" + secrets.token_bytes(300_000)  # spans several envelope chunks
ANSWER_FILE = secrets.token_bytes(70_000)
QUESTION = "Kapan uang itu diserahkan, dan siapa yang menyaksikannya?"
ANSWER = "Pada 3 Maret, disaksikan bendahara."
WB_PASS = "kopi tubruk pagi hari di kantor inspektorat"
DEMO = "--demo-not-air-gapped"


def _cli(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, f"peluit {' '.join(argv[:2])} failed: {err}"
    return out


def _value(out: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.startswith(label))


def _csrf(app: webtest.TestApp, path: str, name: str = "csrf_token") -> str:
    return app.get(path).html.find("input", {"name": name})["value"]


def test_round_trip(tmp_path, capsys):
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import load
    from dropbox_app.gateway import totp
    from dropbox_app.models import Reply, Report, Submission
    from workbench.web import make_app as make_workbench_app

    media = tmp_path / "usb"
    media.mkdir()

    # --- installation ------------------------------------------------------------------------
    _cli(capsys, "init", "--data-dir", str(tmp_path / "server"), "--language", "en")
    conf = str(tmp_path / "server" / "peluit.toml")
    cfg = load(conf)
    (media / "server.card").write_text(_cli(capsys, "server-key", "show", "--config", conf))
    (tmp_path / "wb.pass").write_text(WB_PASS + "\n")
    vault = tmp_path / "vault"
    out = _cli(capsys, "workbench", "init", str(vault), "--name", "Ani",
               "--server-card", str(media / "server.card"),
               "--deployment-id", cfg.deployment_id, "--passphrase-file",
               str(tmp_path / "wb.pass"), DEMO)
    card_line = next(line for line in out.splitlines() if line.startswith("{"))
    (media / "ani.card").write_text(card_line)
    out = _cli(capsys, "auditor", "enroll", str(media / "ani.card"), "--config", conf)
    assert "enrolled: Ani" in out
    out = _cli(capsys, "gateway-user", "add", "ani", "--config", conf)
    gw_pass, gw_secret = _value(out, "passphrase"), _value(out, "TOTP secret")
    wb_args = ("--vault", str(vault), "--as", "Ani", "--passphrase-file",
               str(tmp_path / "wb.pass"), DEMO)

    reporter = webtest.TestApp(make_reporter_app(cfg))
    gateway = webtest.TestApp(make_gateway_app(cfg))
    workbench = webtest.TestApp(make_workbench_app(vault, demo_not_air_gapped=True))

    # --- the reporter files a report with a file ---------------------------------------------
    page = reporter.post("/codename", {"csrf_token": _csrf(reporter, "/"), "words": "id",
                                       "website": ""})
    codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
    assert len(codename.split()) == 7
    reporter.post("/codename/confirm", {"csrf_token": reporter.cookies["csrf"],
                                        "written_down": "yes"}, status=303)
    page = reporter.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    reporter.post("/report/new/send", params=[
        ("csrf_token", reporter.cookies["csrf"]), ("form_token", token),
        ("what", "Kepala bagian pengadaan meminta 10% dari setiap kontrak."),
        ("category", "corruption")],
        upload_files=[("files", "kuitansi.pdf", EVIDENCE)],
        content_type="multipart/form-data", status=200)
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    # --- an auditor fetches the inbox bundle through the gateway -------------------------------
    gateway.post("/login", {"csrf_token": _csrf(gateway, "/login"), "username": "ani",
                            "passphrase": gw_pass,
                            "code": totp.code_at(gw_secret, time.time())}, status=303)
    assert gateway.get("/").html.find(id="pending-count").text == "2"  # the report and the file
    bundle = gateway.post("/inbox", {"csrf_token": _csrf(gateway, "/")})
    (media / "inbox-1.bundle").write_bytes(bundle.body)
    assert EVIDENCE[-1000:] not in bundle.body  # ciphertext only

    out = _cli(capsys, "workbench", "import", str(media / "inbox-1.bundle"), *wb_args)
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

    login = workbench.get("/login").forms[0]
    login["auditor"] = next(r.key_id for r in wvault.auditor_records(vault))
    login["passphrase"] = WB_PASS
    login.submit(status=303)
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

    out = _cli(capsys, "workbench", "export-replies", str(media / "replies-1.bundle"), *wb_args)
    assert "1 question(s) or message(s), 1 status change(s), 2 acknowledgment(s)" in out

    # --- the reply bundle goes up through the gateway -------------------------------------------
    page = gateway.post("/replies", {"csrf_token": _csrf(gateway, "/")}, upload_files=[
        ("bundle", "replies-1.bundle", (media / "replies-1.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text
    assert gateway.get("/").html.find(id="pending-count").text == "0"

    # --- the reporter comes back with the codename, reads, answers with a file -----------------
    reporter.post("/login", {"csrf_token": _csrf(reporter, "/"), "codename": codename,
                             "website": ""}, status=303)
    page = reporter.get("/followup")
    assert QUESTION in page.text
    assert "In verification" in page.text or "Dalam verifikasi" in page.text.lower()
    answer = next(f for f in page.forms.values() if "in_reply_to" in f.fields)
    answer["text"] = ANSWER
    answer["files"] = [webtest.Upload("jawaban.bin", ANSWER_FILE, "application/octet-stream")]
    answer.submit(status=200)
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    # --- the next inbox bundle brings the answer to the same report ----------------------------
    assert gateway.get("/").html.find(id="pending-count").text == "2"  # the answer and its file
    bundle = gateway.post("/inbox", {"csrf_token": _csrf(gateway, "/")})
    (media / "inbox-2.bundle").write_bytes(bundle.body)
    out = _cli(capsys, "workbench", "import", str(media / "inbox-2.bundle"), *wb_args)
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
        assert db.get(Report, reply.report_id).status == "verification"
        assert db.scalar(select(Submission).where(Submission.acked_day.is_(None))) is not None
    engine.dispose()
    for path in (cfg.store_dir / m for m in Store(cfg.store_dir).members()):
        data = path.read_bytes()
        assert QUESTION.encode() not in data and ANSWER.encode() not in data
        assert ANSWER_FILE[:64] not in data and EVIDENCE[-64:] not in data
