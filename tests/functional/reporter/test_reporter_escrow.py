"""Identity in escrow through the real reporter app (dropbox_app/reporter/deposits.py): the
deposit on the report form and from the follow-up page, what the server and the auditors can
see of it, and the reporter's consent or refusal of a lead's request."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from crypto import escrow
from crypto.encoding import b64decode
from crypto.envelope import read_header
from crypto.errors import CryptoError
from crypto.identity import CustodianIdentity
from dropbox_app.models import AnswerReceipt, Reply, Report, Reporter, Submission, new_id
from tests.fixtures import escrow as esc
from tests.fixtures.reporter_client import csrf, form_token, open_submissions


@pytest.fixture
def people(config):
    people = esc.custodians(2)
    esc.install_policy(config.base_dir / "policy", people)
    return people


def _deposits(subs):
    return [(meta, body) for meta, body in subs if meta["kind"] == "deposit"]


def _all_bytes(config) -> bytes:
    out = b""
    for p in config.base_dir.rglob("*"):
        if p.is_file():
            out += p.read_bytes()
    return out


def test_no_fieldset_without_custodians(reporter):
    reporter.get_codename()
    reporter.confirm()
    page = reporter.app.get("/report/new")
    assert 'name="id_name"' not in page.text


def test_deposit_with_the_report(reporter, people, db, config, auditor):
    reporter.get_codename()
    reporter.confirm()
    page = reporter.app.get("/report/new")
    assert 'name="id_name"' in page.text and 'id="escrow"' in page.text
    res = reporter.report(**esc.FORM)
    assert "dititipkan bersama laporan" in res.text

    subs = open_submissions(db, config.store_dir, auditor)
    [(meta, body)] = _deposits(subs)
    report = db.scalar(select(Report))
    # What the auditors get: that a deposit exists, for this report, and nothing of it.
    dep = escrow.parse_deposit(body)
    assert dep.deposit_id == meta["submission"] and dep.report_id == report.id
    for value in esc.IDENTITY.values():
        assert value.encode() not in body
        assert value.encode() not in _all_bytes(config)  # nowhere on the seized server
    with pytest.raises(CryptoError):
        escrow.open_deposit(body, report_id=report.id, reporter_key=dep.reporter_key,
                            custodians=[CustodianIdentity(auditor.name, auditor.box,
                                                          auditor.signing)],
                            release=bytes(32))
    # The server's rows say submission for all; the deposit's envelope has the report's
    # recipients and the size of any short message.
    rows = db.scalars(select(Submission)).all()
    assert {r.kind for r in rows} == {"submission"}
    by_id = {r.id: r for r in rows}
    report_row = next(by_id[m["submission"]] for m, _ in subs if m["kind"] == "report")
    deposit_row = by_id[dep.deposit_id]
    assert deposit_row.padded_size == report_row.padded_size
    deposit_bytes = (config.store_dir / deposit_row.member).read_bytes()
    with (config.store_dir / deposit_row.member).open("rb") as a, \
            (config.store_dir / report_row.member).open("rb") as b:
        (ha, _), (hb, _) = read_header(a), read_header(b)
    # The envelope header (version 2: fixed recipient slots, no key id in the clear) is the
    # same shape as the report's: nothing says it went to custodians.
    assert (ha.version, ha.slots, len(ha.raw)) == (hb.version, hb.slots, len(hb.raw))
    assert ha.recipient_ids == hb.recipient_ids == ()
    for person in people:
        assert bytes.fromhex(person.key_id) not in deposit_bytes
        assert person.card().box_key_id not in deposit_bytes
        assert person.key_id.encode() not in deposit_bytes

    # The custodian opens it with the reporter's release, which only the codename makes.
    assert escrow.open_deposit(body, report_id=report.id, reporter_key=dep.reporter_key,
                               custodians=people[:1],
                               release=_release(reporter, dep.deposit_id)) == esc.IDENTITY


def _release(reporter, deposit_id):
    """The release as the reporter's session would make it (from the codename)."""
    from crypto import codename as codenames
    from crypto.kdf import TEST_PARAMS, reporter_keys

    app = reporter.app.app
    from dropbox_app.configurator import service
    from dropbox_app.reporter.settings import ReporterSettings

    salt = service(app, ReporterSettings).salt
    keys = reporter_keys(codenames.normalise(reporter.codename), salt, TEST_PARAMS)
    return escrow.release_key(keys.private_key, deposit_id)


def _token(page, rid):
    """The form token of the page's deposit form."""
    return form_token(page.text.split(f"/followup/{rid}/deposit", 1)[1])


def test_name_missing_keeps_the_report(reporter, people, db):
    reporter.get_codename()
    reporter.confirm()
    res = reporter.report(status=400, what="Kepala bagian meminta uang pelicin setiap bulan.",
                          id_nip="1987")
    assert "setidaknya nama Anda" in res.text
    assert "uang pelicin" in res.text and 'value="1987"' in res.text  # nothing lost
    assert db.scalar(select(Report)) is None


def test_deposit_later_and_consent(reporter, people, db, config, auditor, clock):
    reporter.new_report()
    page = reporter.followup()
    rid = reporter.report_id()
    assert f"/followup/{rid}/deposit" in page.text
    res = reporter.app.post(f"/followup/{rid}/deposit",
                            {"csrf_token": csrf(reporter.app), "form_token": _token(page, rid),
                             **esc.FORM, "website": ""})
    assert res.status_int == 303 and "done=deposit" in res.location
    [(_meta, body)] = _deposits(open_submissions(db, config.store_dir, auditor))
    dep = escrow.parse_deposit(body)

    # A lead's request arrives as a message; the page shows it with consent and refusal.
    reporter_row = db.scalar(select(Reporter))
    reply_id, request_id = new_id(), new_id()
    env = esc.request_reply(config.store_dir, reporter_row.public_key, rid, reply_id,
                            dep.deposit_id, request_id, "Untuk permohonan perlindungan LPSK.")
    db.add(Reply(id=reply_id, report_id=rid, kind="message", member=f"{reply_id}.env",
                 padded_size=len(env), created_day=clock.day()))
    db.commit()
    page = reporter.followup()
    assert "Untuk permohonan perlindungan LPSK." in page.text
    assert f"/followup/reply/{reply_id}/escrow" in page.text
    assert 'value="consent"' in page.text and 'value="refuse"' in page.text
    receipts_before = db.scalar(select(AnswerReceipt.id).limit(1))

    res = reporter.app.post(f"/followup/reply/{reply_id}/escrow",
                            {"csrf_token": csrf(reporter.app), "decision": "consent"})
    assert res.status_int == 303
    page = reporter.followup()
    assert "Anda menyetujui" in page.text and 'value="consent"' not in page.text
    # A second answer changes nothing: the first stands.
    reporter.app.post(f"/followup/reply/{reply_id}/escrow",
                      {"csrf_token": csrf(reporter.app), "decision": "refuse"})
    subs = open_submissions(db, config.store_dir, auditor)
    consents = [json.loads(b) for m, b in subs if m["kind"] == "consent"]
    assert len(consents) == 1
    [c] = consents
    assert c["decision"] == "consent" and c["request"] == request_id
    assert c["deposit"] == dep.deposit_id
    release = b64decode(c["release"], length=32)
    assert dep.check_release(release)
    assert escrow.open_deposit(body, report_id=rid, reporter_key=dep.reporter_key,
                               custodians=people[1:], release=release) == esc.IDENTITY
    # The server keeps no row that says consent: one more opaque receipt, one more submission.
    assert receipts_before is None and db.scalar(select(AnswerReceipt.id)) is not None
    assert {r.kind for r in db.scalars(select(Submission))} == {"submission"}


def test_refusal_carries_no_release(reporter, people, db, config, auditor, clock):
    reporter.new_report(**esc.FORM)
    rid = reporter.report_id()
    [(meta, _body)] = _deposits(open_submissions(db, config.store_dir, auditor))
    reporter_row = db.scalar(select(Reporter))
    reply_id = new_id()
    env = esc.request_reply(config.store_dir, reporter_row.public_key, rid, reply_id,
                            meta["submission"], new_id(), "Alasan")
    db.add(Reply(id=reply_id, report_id=rid, kind="message", member=f"{reply_id}.env",
                 padded_size=len(env), created_day=clock.day()))
    db.commit()
    reporter.app.post(f"/followup/reply/{reply_id}/escrow",
                      {"csrf_token": csrf(reporter.app), "decision": "refuse"})
    assert "Anda menolak" in reporter.followup().text
    subs = open_submissions(db, config.store_dir, auditor)
    [c] = [json.loads(b) for m, b in subs if m["kind"] == "consent"]
    assert c["decision"] == "refuse" and c["release"] is None


def test_escrow_answer_refused_for_a_plain_reply_or_another_reporter(reporter, people, db,
                                                                     config, clock, app):
    from tests.fixtures.reporter_client import Reporter as Client

    reporter.new_report()
    rid = reporter.report_id()
    reporter_row = db.scalar(select(Reporter))
    from nacl.public import PublicKey

    from crypto.envelope import seal_bytes

    reply_id = new_id()
    env = seal_bytes(json.dumps({"text": "Kapan?"}).encode(), [PublicKey(reporter_row.public_key)],
                     {"v": 1, "kind": "question", "report": rid, "reply": reply_id})
    (config.store_dir / f"{reply_id}.env").write_bytes(env)
    db.add(Reply(id=reply_id, report_id=rid, kind="question", member=f"{reply_id}.env",
                 padded_size=len(env), created_day=clock.day()))
    db.commit()
    reporter.app.post(f"/followup/reply/{reply_id}/escrow",
                      {"csrf_token": csrf(reporter.app), "decision": "consent"}, status=400)
    other = Client(type(reporter.app)(app.app))
    other.new_report()
    other.app.post(f"/followup/reply/{reply_id}/escrow",
                   {"csrf_token": csrf(other.app), "decision": "consent"}, status=404)
