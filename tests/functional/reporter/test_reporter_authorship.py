"""Proof of authorship on the reporter app (dropbox_app/reporter/authorship.py): the sealed
report carries the authorship key; a report sent on its grant alone gets it with the next
logged-in message; an attestation in a reply becomes a statement page (text and QR) that
verifies offline; an attestation for another key or report is not offered; bad input is a 4xx."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import secrets

from nacl.public import PublicKey
from nacl.signing import SigningKey
from sqlalchemy import select

from crypto import authorship
from crypto.encoding import canonical_json
from crypto.envelope import seal_stream
from crypto.kdf import TEST_PARAMS, reporter_keys
from dropbox_app.models import Reply, Report, Reporter
from dropbox_app.sessions import ABSOLUTE_SECONDS, IDLE_SECONDS
from dropbox_app.store import Store
from tests.fixtures.reporter_client import csrf, form_token, open_submissions

DEPLOYMENT = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
DK = SigningKey.generate()
CARD = authorship.AuthorshipCard.make(DK, DEPLOYMENT, "Inspektorat Contoh", "2026-11-19")


def _author_public(config, codename: str, report_id: str) -> str:
    from crypto import codename as codenames

    keys = reporter_keys(codenames.normalise(codename), config.salt_file.read_bytes(),
                         TEST_PARAMS)
    return base64.b64encode(bytes(authorship.author_key(keys.private_key, report_id)
                                  .verify_key)).decode()


def _deliver(db, config, report_id: str, body: dict) -> str:
    """Put a reply on the server as the gateway would after a reply bundle: sealed to the
    reporter's public key, kind ``message``."""
    report = db.get(Report, report_id)
    reporter = db.get(Reporter, report.reporter_id)
    store = Store(config.store_dir)
    reply_id = secrets.token_hex(16)
    pending = store.begin(reply_id)
    seal_stream(io.BytesIO(canonical_json(body)), pending.sink, [PublicKey(reporter.public_key)],
                {"v": 1, "kind": "message", "report": report_id, "reply": reply_id})
    size, _sha = pending.commit(dt.date(2026, 11, 19))
    db.add(Reply(id=reply_id, report_id=report_id, kind="message", member=pending.member,
                 padded_size=size, created_day="2026-11-19"))
    db.commit()
    pending.release()
    return reply_id


def _attestation(report_id: str, author_b64: str, day="2026-11-19") -> str:
    return authorship.Attestation.issue(DK, DEPLOYMENT, report_id, day, "corruption",
                                        base64.b64decode(author_b64), "2026-11-20"
                                        ).to_bytes().decode()


def test_the_sealed_report_carries_the_authorship_key(reporter, db, config, auditor):
    codename = reporter.new_report(category="corruption")
    rid = reporter.report_id()
    [body] = [b for m, b in open_submissions(db, config.store_dir, auditor)
              if m["kind"] == "report"]
    assert json.loads(body)["author_key"] == _author_public(config, codename, rid)
    # Nowhere in clear on the server.
    assert db.scalar(select(Reporter)).public_key != _author_public(config, codename, rid)


def test_a_report_sent_on_its_grant_gets_the_key_with_the_next_message(app, reporter, clock,
                                                                         db, config, auditor):
    codename = reporter.get_codename()
    reporter.confirm()
    page = app.get("/report/new")
    clock.advance(ABSOLUTE_SECONDS + IDLE_SECONDS + 60)  # the session is over
    grant = re.search(r'name="compose" value="([^"]+)"', page.text).group(1)
    app.post("/report/new/send", params=[
        ("csrf_token", csrf(app)), ("form_token", form_token(page)), ("compose", grant),
        ("what", "Kepala seksi meminta uang pelicin untuk setiap izin usaha."),
        ("category", "pungli")], content_type="multipart/form-data", status=200)
    subs = open_submissions(db, config.store_dir, auditor)
    assert "author_key" not in json.loads(subs[0][1])  # no key in memory to make it with
    reporter.login(codename)
    rid = reporter.report_id()
    reporter.message("Ini kunci saya.")
    [msg] = [json.loads(b) for m, b in open_submissions(db, config.store_dir, auditor)
             if m["kind"] == "message"]
    assert msg["author_key"] == _author_public(config, codename, rid)


def test_an_attestation_becomes_a_statement_that_verifies_offline(app, reporter, db, config):
    codename = reporter.new_report(category="corruption")
    rid = reporter.report_id()
    mine = _author_public(config, codename, rid)
    reply = _deliver(db, config, rid, {"text": "", "attestation": _attestation(rid, mine)})
    # One for another codename's key, and one for another report: not offered.
    other = SigningKey.generate().verify_key
    _deliver(db, config, rid, {"text": "", "attestation": _attestation(
        rid, base64.b64encode(bytes(other)).decode())})
    _deliver(db, config, rid, {"text": "", "attestation": _attestation("ab" * 16, mine)})
    page = reporter.followup()
    forms = [f for f in page.forms.values() if "purpose" in f.fields]
    assert [f["reply"].value for f in forms] == [reply]
    forms[0]["purpose"] = "  untuk   LPSK "
    shown = forms[0].submit(status=200)
    assert "<svg" in shown.text and 'class="qr"' in shown.text
    text = shown.html.find("pre", class_="statement-text").text
    # The QR code holds exactly that text (segno's SVG of it, inline: no file, no script).
    from dropbox_app.reporter.authorship import qr_svg

    assert str(qr_svg(text)) in shown.text
    st = authorship.verify_text(text, CARD.to_bytes())
    assert (st.attestation.report, st.purpose) == (rid, "untuk LPSK")
    # Only the reporter's own report and a real attestation reply; a bad purpose is a 400.
    post = {"csrf_token": csrf(app), "reply": reply, "purpose": "a\u202eb"}
    app.post(f"/followup/{rid}/authorship", post, status=400)
    app.post(f"/followup/{'cd' * 16}/authorship", {**post, "purpose": ""}, status=404)
    app.post(f"/followup/{rid}/authorship", {**post, "reply": "ef" * 16, "purpose": ""},
             status=404)
    reporter.logout()
    app.post(f"/followup/{rid}/authorship", {"csrf_token": csrf(app), "reply": reply,
                                             "purpose": ""}, status=403)


def test_asking_for_a_proof_is_an_ordinary_message_with_the_key(reporter, db, config, auditor):
    codename = reporter.new_report(category="corruption")
    rid = reporter.report_id()
    page = reporter.followup()
    [ask] = [f for f in page.forms.values() if 'class="ask-authorship"' in f.text]
    ask.submit(status=200)
    [msg] = [json.loads(b) for m, b in open_submissions(db, config.store_dir, auditor)
             if m["kind"] == "message"]
    assert msg["text"] == "I ask for a proof of authorship of this report." or \
        msg["text"] == "Saya meminta bukti kepengarangan untuk laporan ini."
    assert msg["author_key"] == _author_public(config, codename, rid)
