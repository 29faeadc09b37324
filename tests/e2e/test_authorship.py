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

import pytest
from sqlalchemy import select

from peluit.cli import main
from tests.fixtures.roundtrip import RoundTrip

pytestmark = pytest.mark.slow

WHAT = "Kepala bagian pengadaan meminta 10% dari setiap kontrak."


def test_proof_of_authorship_end_to_end(tmp_path, capsys):
    from crypto import authorship as crypto_authorship
    from dropbox_app.models import Reply
    from dropbox_app.store import Store

    rt = RoundTrip(tmp_path, capsys).install()
    cfg, reporter, workbench = rt.cfg, rt.reporter, rt.workbench

    # --- the reporter files a report, logged in ----------------------------------------------
    codename, _ = rt.file_report(("what", WHAT), ("category", "corruption"))

    rt.login_gateway()
    rt.fetch_inbox(1)
    rt.import_inbox(1)

    # --- the lead sends the proof of authorship --------------------------------------------
    rt.login_workbench()
    report_id = re.search(r"/reports/([0-9a-f]{32})", workbench.get("/reports").text).group(1)
    page = workbench.get(f"/reports/{report_id}")
    assert "author_key" not in page.text  # the key is not content to show
    attest = next(f for f in page.forms.values() if f.action.endswith("/authorship"))
    attest.submit(status=303)
    card = workbench.get("/authorship/card")
    assert card.headers["Content-Disposition"].startswith("attachment")
    (tmp_path / "card.json").write_bytes(card.body)
    rt.export_replies(1)
    rt.upload_replies(1)

    # --- the reporter makes the statement ---------------------------------------------------
    rt.login_reporter(codename)
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
    rt.logout_reporter()

    # --- anyone verifies it offline: statement and card only --------------------------------
    for lang, word in (("id", "ASLI"), ("en", "GENUINE")):
        out = rt.cli("verify-authorship", str(tmp_path / "statement.txt"), "--card",
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
        assert [r.kind for r in db.scalars(select(Reply))] == ["entry"]
    engine.dispose()
    author = statement.attestation.author_key.encode()
    for path in (cfg.store_dir / m for m in Store(cfg.store_dir).members()):
        data = path.read_bytes()
        assert b"peluit-authorship" not in data and bytes(author) not in data
