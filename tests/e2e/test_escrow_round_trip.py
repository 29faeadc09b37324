"""Identity in escrow, the whole loop with the real programs: a deployment from ``peluit init``
whose signed policy names two custodians (``peluit policy new-custodian``), the reporter app and
the gateway (WebTest), a vault from ``peluit workbench init``, bundles carried as files.

deposit with the report → inbox bundle → import (the lead sees that a deposit exists) → the lead's
written request on the case page → ``escrow-open`` refused (no consent) → reply bundle → the
reporter sees the request and consents → inbox bundle → import → ``escrow-open`` by a custodian
prints the identity → the audit log has each step, ESC-1 passes → the reporter is told."""

from __future__ import annotations

import re
import time

import pytest
import webtest

from peluit.cli import main
from tests.fixtures import escrow as esc

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

WB_PASS = "kopi tubruk pagi hari di kantor inspektorat"
CUSTODIAN_PASS = "kustodian kepatuhan yang panjang"
REASON = "Untuk permohonan perlindungan saksi pelapor ke LPSK."
DEMO = "--demo-not-air-gapped"


def _cli(capsys, *argv: str, code: int = 0) -> str:
    got = main(list(argv))
    out, err = capsys.readouterr()
    assert got == code, f"peluit {' '.join(argv[:2])}: {err}"
    return out if code == 0 else out + err


def _csrf(app: webtest.TestApp, path: str) -> str:
    return app.get(path).html.find("input", {"name": "csrf_token"})["value"]


def test_escrow_round_trip(tmp_path, capsys, monkeypatch):
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import load
    from dropbox_app.gateway import totp
    from policies import documents
    from workbench.web import make_app as make_workbench_app

    media = tmp_path / "usb"
    media.mkdir()
    _cli(capsys, "init", "--data-dir", str(tmp_path / "server"), "--language", "en")
    conf = str(tmp_path / "server" / "peluit.toml")
    cfg = load(conf)

    # Two custodians make their keys; the officer puts their cards in the signed policy.
    cards = []
    for i in (1, 2):
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(CUSTODIAN_PASS + "\n"))
        out = _cli(capsys, "policy", "new-custodian", f"Kustodian {i}", "--out",
                   str(tmp_path / f"c{i}.sealed"), "--card", str(tmp_path / f"c{i}.card"))
        assert f"custodian Kustodian {i}: fingerprint" in out
        cards.append((tmp_path / f"c{i}.card").read_text().strip())
    from crypto.identity import AuditorIdentity

    officer = AuditorIdentity.generate("Petugas Kepatuhan")
    policy_dir = cfg.base_dir / "policy"
    documents.install(policy_dir)
    for version in documents.version_dirs(policy_dir):
        header = version / documents.HEADER_FILE
        header.write_text(header.read_text() + "\n[escrow]\ncustodians = [\n"
                          + ",\n".join(f"  '{c}'" for c in cards) + "\n]\nconsent_threshold = 1\n")
        documents.sign_version(version, officer)

    (media / "server.card").write_text(_cli(capsys, "server-key", "show", "--config", conf))
    (tmp_path / "wb.pass").write_text(WB_PASS + "\n")
    (tmp_path / "custodian.pass").write_text(CUSTODIAN_PASS + "\n")
    vault = tmp_path / "vault"
    out = _cli(capsys, "workbench", "init", str(vault), "--name", "Ani",
               "--server-card", str(media / "server.card"),
               "--deployment-id", cfg.deployment_id, "--passphrase-file",
               str(tmp_path / "wb.pass"), DEMO)
    (media / "ani.card").write_text(next(x for x in out.splitlines() if x.startswith("{")))
    _cli(capsys, "auditor", "enroll", str(media / "ani.card"), "--config", conf)
    out = _cli(capsys, "gateway-user", "add", "ani", "--config", conf)
    value = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines()
                                               if ":" in line)}
    gw_pass, gw_secret = value["passphrase"], value["TOTP secret"]
    wb_args = ("--vault", str(vault), "--as", "Ani", "--passphrase-file",
               str(tmp_path / "wb.pass"), DEMO)
    open_args = ("workbench", "escrow-open", "--custodian", str(tmp_path / "c2.sealed"),
                 "--custodian-passphrase-file", str(tmp_path / "custodian.pass"), *wb_args)

    reporter = webtest.TestApp(make_reporter_app(cfg))
    gateway = webtest.TestApp(make_gateway_app(cfg))
    workbench = webtest.TestApp(make_workbench_app(vault, demo_not_air_gapped=True))

    # --- the reporter files a report and deposits their identity -------------------------------
    page = reporter.post("/codename", {"csrf_token": _csrf(reporter, "/"), "words": "id",
                                       "website": ""})
    codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
    reporter.post("/codename/confirm", {"csrf_token": reporter.cookies["csrf"],
                                        "written_down": "yes"}, status=303)
    page = reporter.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', page.text).group(1)
    reporter.post("/report/new/send", params=[
        ("csrf_token", reporter.cookies["csrf"]), ("form_token", token),
        ("what", "Kepala bagian pengadaan meminta 10% dari setiap kontrak."),
        *esc.FORM.items()], content_type="multipart/form-data", status=200)
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    def login_gateway():
        gateway.post("/login", {"csrf_token": _csrf(gateway, "/login"), "username": "ani",
                                "passphrase": gw_pass,
                                "code": totp.code_at(gw_secret, time.time())}, status=303)

    def inbox(n: int) -> str:
        bundle = gateway.post("/inbox", {"csrf_token": _csrf(gateway, "/")})
        (media / f"inbox-{n}.bundle").write_bytes(bundle.body)
        for v in esc.IDENTITY.values():
            assert v.encode() not in bundle.body
        return _cli(capsys, "workbench", "import", str(media / f"inbox-{n}.bundle"), *wb_args)

    login_gateway()
    assert "2 new submission(s)" in inbox(1)

    # --- the lead sees that a deposit exists, and asks with a reason ---------------------------
    from workbench import vault as wvault

    login = workbench.get("/login").forms[0]
    login["auditor"] = next(r.key_id for r in wvault.auditor_records(vault))
    login["passphrase"] = WB_PASS
    login.submit(status=303)
    listing = workbench.get("/cases")
    cid = re.search(r'/cases/(\d+)"', listing.text).group(1)
    page = workbench.get(f"/cases/{cid}")
    assert 'id="escrow"' in page.text
    for v in esc.IDENTITY.values():
        assert v not in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/escrow"))
    form["reason"] = REASON
    form.submit(status=303)
    request_id = re.search(r"<code>([0-9a-f]{32})</code>",
                           workbench.get(f"/cases/{cid}").text).group(1)

    # --- no consent yet: the custodian is refused -----------------------------------------------
    out = _cli(capsys, *open_args[:2], "--request", request_id, *open_args[2:], code=1)
    assert "not opened" in out and "not answered" in out

    out = _cli(capsys, "workbench", "export-replies", str(media / "replies-1.bundle"), *wb_args)
    page = gateway.post("/replies", {"csrf_token": _csrf(gateway, "/")}, upload_files=[
        ("bundle", "replies-1.bundle", (media / "replies-1.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text

    # --- the reporter reads the request and consents ---------------------------------------------
    reporter.post("/login", {"csrf_token": _csrf(reporter, "/"), "codename": codename,
                             "website": ""}, status=303)
    page = reporter.get("/followup")
    assert REASON in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/escrow"))
    form.submit("decision", index=0, status=303)  # the first button: consent
    assert "You consented" in reporter.get("/followup").text \
        or "Anda menyetujui" in reporter.get("/followup").text
    reporter.post("/logout", {"csrf_token": reporter.cookies["csrf"]})

    assert "1 new submission(s)" in inbox(2)

    # --- the custodian opens it ------------------------------------------------------------------
    out = _cli(capsys, *open_args[:2], "--request", request_id, *open_args[2:])
    for name, v in esc.IDENTITY.items():
        assert f"{name}: {v}" in out
    page = workbench.get(f"/cases/{cid}")
    assert "with consent" in page.text or "dengan persetujuan pelapor" in page.text

    # The audit log has each step, and ESC-1 passes on it.
    from policies import auditlog, controls

    entries, _ = auditlog.load_source(vault)
    actions = [e.action for e in entries]
    for step in ("escrow.request", "escrow.consent", "escrow.open"):
        assert step in actions
    assert controls.escrow_findings(entries) == (1, [])

    # The reporter is told, with the next reply bundle.
    _cli(capsys, "workbench", "export-replies", str(media / "replies-2.bundle"), *wb_args)
    page = gateway.post("/replies", {"csrf_token": _csrf(gateway, "/")}, upload_files=[
        ("bundle", "replies-2.bundle", (media / "replies-2.bundle").read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text
    reporter.post("/login", {"csrf_token": _csrf(reporter, "/"), "codename": codename,
                             "website": ""}, status=303)
    assert "Kustodian 2" in reporter.get("/followup").text
