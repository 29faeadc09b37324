"""Proof of authorship, the whole way, with the real programs (as test_round_trip.py):

reporter files a report (logged in: the sealed report carries the authorship key) → inbox
bundle → workbench import → a lead sends a proof of authorship → reply bundle → gateway → the
reporter logs in with the codename, types a purpose line, gets the statement page and its text
→ `peluit verify-authorship` checks it offline with the workbench's authorship card (id, en);
altered, it fails; the workbench counter-signs it for LPSK. The server never holds the
attestation or the authorship key in clear, and its reply row says `message`."""

from __future__ import annotations

import json
import re
import time

import pytest
import webtest
from sqlalchemy import select

from peluit.cli import main

pytestmark = pytest.mark.slow

WB_PASS = "kopi tubruk pagi hari di kantor inspektorat"
DEMO = "--demo-not-air-gapped"
WHAT = "Kepala bagian pengadaan meminta 10% dari setiap kontrak."


def _cli(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, f"peluit {' '.join(argv[:2])} failed: {err}"
    return out


def _value(out: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in out.splitlines()
                if line.startswith(label))


def _csrf(app: webtest.TestApp, path: str) -> str:
    return app.get(path).html.find("input", {"name": "csrf_token"})["value"]


def test_proof_of_authorship_end_to_end(tmp_path, capsys):
    from crypto import authorship as crypto_authorship
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import load
    from dropbox_app.gateway import totp
    from dropbox_app.models import Reply
    from dropbox_app.store import Store
    from workbench import vault as wvault
    from workbench.web import make_app as make_workbench_app

    media = tmp_path / "usb"
    media.mkdir()
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
    (media / "ani.card").write_text(next(line for line in out.splitlines()
                                         if line.startswith("{")))
    _cli(capsys, "auditor", "enroll", str(media / "ani.card"), "--config", conf)
    out = _cli(capsys, "gateway-user", "add", "ani", "--config", conf)
    gw_pass, gw_secret = _value(out, "passphrase"), _value(out, "TOTP secret")
    wb_args = ("--vault", str(vault), "--as", "Ani", "--passphrase-file",
               str(tmp_path / "wb.pass"), DEMO)
    reporter = webtest.TestApp(make_reporter_app(cfg))
    gateway = webtest.TestApp(make_gateway_app(cfg))
    workbench = webtest.TestApp(make_workbench_app(vault, demo_not_air_gapped=True))

    # --- the reporter files a report, logged in ----------------------------------------------
    page = reporter.post("/codename", {"csrf_token": _csrf(reporter, "/"), "words": "id",
                                       "website": ""})
    codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
    reporter.post("/codename/confirm", {"csrf_token": reporter.cookies["csrf"],
                                        "written_down": "yes"}, status=303)
    page = reporter.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    reporter.post("/report/new/send", params=[
        ("csrf_token", reporter.cookies["csrf"]), ("form_token", token), ("what", WHAT),
        ("category", "corruption")], content_type="multipart/form-data", status=200)
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    gateway.post("/login", {"csrf_token": _csrf(gateway, "/login"), "username": "ani",
                            "passphrase": gw_pass,
                            "code": totp.code_at(gw_secret, time.time())}, status=303)
    (media / "inbox-1.bundle").write_bytes(
        gateway.post("/inbox", {"csrf_token": _csrf(gateway, "/")}).body)
    _cli(capsys, "workbench", "import", str(media / "inbox-1.bundle"), *wb_args)

    # --- the lead sends the proof of authorship --------------------------------------------
    login = workbench.get("/login").forms[0]
    login["auditor"] = next(r.key_id for r in wvault.auditor_records(vault))
    login["passphrase"] = WB_PASS
    login.submit(status=303)
    report_id = re.search(r"/reports/([0-9a-f]{32})", workbench.get("/reports").text).group(1)
    page = workbench.get(f"/reports/{report_id}")
    assert "author_key" not in page.text  # the key is not content to show
    attest = next(f for f in page.forms.values() if f.action.endswith("/authorship"))
    attest.submit(status=303)
    card = workbench.get("/authorship/card")
    assert card.headers["Content-Disposition"].startswith("attachment")
    (tmp_path / "card.json").write_bytes(card.body)
    _cli(capsys, "workbench", "export-replies", str(media / "replies-1.bundle"), *wb_args)
    page = gateway.post("/replies", {"csrf_token": _csrf(gateway, "/")}, upload_files=[
        ("bundle", "replies-1.bundle", (media / "replies-1.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text

    # --- the reporter makes the statement ---------------------------------------------------
    reporter.post("/login", {"csrf_token": _csrf(reporter, "/"), "codename": codename,
                             "website": ""}, status=303)
    page = reporter.get("/followup")
    form = next(f for f in page.forms.values() if "purpose" in f.fields)
    form["purpose"] = "untuk LPSK, 3 Maret 2027"
    shown = form.submit(status=200)
    assert shown.html.find("svg") is not None  # the QR code, inline
    text = shown.html.find("pre", class_="statement-text").text
    download = next(f for f in shown.forms.values() if "download" in f.fields).submit()
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.text == text
    (tmp_path / "statement.txt").write_text(text, encoding="utf-8")
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    # --- anyone verifies it offline: statement and card only --------------------------------
    for lang, word in (("id", "ASLI"), ("en", "GENUINE")):
        out = _cli(capsys, "verify-authorship", str(tmp_path / "statement.txt"), "--card",
                   str(tmp_path / "card.json"), "--language", lang)
        assert out.startswith(word) and report_id in out and "corruption" in out
        assert "untuk LPSK, 3 Maret 2027" in out
    statement = crypto_authorship.Statement.from_armor(text)
    doc = json.loads(statement.to_bytes())
    doc["purpose"] = "untuk KPK"
    import base64

    from crypto.encoding import canonical_json
    (tmp_path / "altered.txt").write_text(
        f"{crypto_authorship.ARMOR_BEGIN}\n{base64.b64encode(canonical_json(doc)).decode()}\n"
        f"{crypto_authorship.ARMOR_END}\n")
    assert main(["verify-authorship", str(tmp_path / "altered.txt"), "--card",
                 str(tmp_path / "card.json"), "--language", "en"]) == 1
    assert "NOT GENUINE" in capsys.readouterr().err

    # --- the workbench counter-signs it for LPSK --------------------------------------------
    page = workbench.get("/authorship")
    form = next(f for f in page.forms.values() if "statement" in f.fields)
    form["statement"] = text
    receipt = form.submit(status=200)
    crypto_authorship.Receipt.from_bytes(receipt.body).verify(
        crypto_authorship.AuthorshipCard.from_bytes(card.body))

    # --- the server: an ordinary message, nothing of the proof in clear ---------------------
    from dropbox_app.db import make_engine, session_factory

    engine = make_engine(cfg.database_url)
    with session_factory(engine)() as db:
        assert [r.kind for r in db.scalars(select(Reply))] == ["message"]
    engine.dispose()
    author = statement.attestation.author_key.encode()
    for path in (cfg.store_dir / m for m in Store(cfg.store_dir).members()):
        data = path.read_bytes()
        assert b"peluit-authorship" not in data and bytes(author) not in data
