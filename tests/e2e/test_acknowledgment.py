"""Recording "acknowledgment sent" on the workbench sends the reporter the standard message, and
the reporter reads it on the follow-up page: the whole way, with the real programs (as
test_round_trip: ``peluit init``, the reporter app and the gateway as WSGI apps, a vault from
``peluit workbench init``, bundles carried as files).

Before this test the button only wrote a day into the case: the acknowledgment service target was
"met" while the reporter saw nothing."""

from __future__ import annotations

import re
import time

import pytest
import webtest

from peluit.cli import main

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

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


def test_acknowledgment_reaches_the_reporter(tmp_path, capsys):
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import load
    from dropbox_app.gateway import totp
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

    # A report is filed and carried to the workbench.
    page = reporter.post("/codename", {"csrf_token": _csrf(reporter, "/"), "words": "id",
                                       "website": ""})
    codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
    reporter.post("/codename/confirm", {"csrf_token": reporter.cookies["csrf"],
                                        "written_down": "yes"}, status=303)
    page = reporter.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    page = reporter.post("/report/new/send", params=[
        ("csrf_token", reporter.cookies["csrf"]), ("form_token", token),
        ("what", "Bendahara meminta potongan dari honor kegiatan."),
        ("category", "pungli")], content_type="multipart/form-data", status=200)
    # The received page promises the acknowledgment as the workbench will measure it.
    assert "standard message confirming that your report was received" in page.text
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})
    gateway.post("/login", {"csrf_token": _csrf(gateway, "/login"), "username": "ani",
                            "passphrase": gw_pass,
                            "code": totp.code_at(gw_secret, time.time())}, status=303)
    bundle = gateway.post("/inbox", {"csrf_token": _csrf(gateway, "/")})
    (media / "inbox-1.bundle").write_bytes(bundle.body)
    _cli(capsys, "workbench", "import", str(media / "inbox-1.bundle"), *wb_args)

    # On the workbench: the case, and the button that sends the acknowledgment.
    login = workbench.get("/login").forms[0]
    login["auditor"] = next(r.key_id for r in wvault.auditor_records(vault))
    login["passphrase"] = WB_PASS
    login.submit(status=303)
    listing = workbench.get("/cases", {"lang": "en"})
    cid = re.search(r'href="http://localhost/cases/(\d+)"', listing.text).group(1)
    case = workbench.get(f"/cases/{cid}", {"lang": "en"})
    assert "Send the standard acknowledgment to the reporter" in case.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', case.text).group(1)
    workbench.post(f"/cases/{cid}/acknowledge", {"csrf_token": csrf}, status=303)
    case = workbench.get(f"/cases/{cid}", {"lang": "en"})
    assert re.search(r'<tr class="clock-met"><td>Acknowledgment', case.text)
    assert "Send the standard acknowledgment" not in case.text  # sent once

    out = _cli(capsys, "workbench", "export-replies", str(media / "replies-1.bundle"),
               *wb_args)
    assert "1 question(s) or message(s)" in out
    page = gateway.post("/replies", {"csrf_token": _csrf(gateway, "/")}, upload_files=[
        ("bundle", "replies-1.bundle", (media / "replies-1.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text

    # The reporter reads it, in Indonesian and in English, with the deployment's targets.
    reporter.post("/login", {"csrf_token": _csrf(reporter, "/"), "codename": codename,
                             "website": ""}, status=303)
    page = reporter.get("/followup")
    text = " ".join(page.text.split())
    assert "Laporan Anda telah diterima dan sedang ditelaah." in text
    assert "Your report has been received and is being reviewed." in text
    assert "Within 3 working days of receipt it is reviewed" in text
    assert "within 75 working days of receipt" in text
