"""Reports about the inspectorate itself go to the conflict group only, and a seized server
cannot tell which reports those are (issue 19; dropbox_app/routing.py, docs/reporter.md).

The attacker here is the inspectorate: its auditors hold their private keys and may read the
seized server (database, store, inbox manifest). Their goals: read a report about themselves,
or find out which reports are about them."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from crypto import envelope
from crypto.envelope import open_bytes, read_header
from crypto.errors import NotARecipientError
from crypto.identity import AuditorIdentity
from dropbox_app import auditors, routing
from dropbox_app.db import session_factory
from dropbox_app.gateway import downloads, inbox
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import AuditorCard, Report, Reporter, Submission
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.reporter_client import Reporter as Client
from tests.fixtures.reporter_client import csrf, form_token

ABOUT_THEM = "Kepala inspektorat meminta setoran dari setiap auditor yang turun ke daerah."
ORDINARY = "Kepala bagian pengadaan meminta sepuluh persen dari setiap kontrak."


@pytest.fixture
def team(engine, clock) -> list[AuditorIdentity]:
    """Three inspectorate auditors (one of them is the fixture `auditor`'s colleague)."""
    people = [AuditorIdentity.generate(f"Auditor {n}") for n in ("Dua", "Tiga")]
    with session_factory(engine)() as s, s.begin():
        for p in people:
            auditors.enroll(s, p.card().to_bytes(), clock.day(), actor=SHELL)
    return people


@pytest.fixture
def officer(engine, clock, config) -> AuditorIdentity:
    """The minister's designated officer: the conflict group, enrolled on the server and named
    in the signed policy's [conflict] section (tests/functional/test_conflict_pinning.py)."""
    ident = AuditorIdentity.generate("Pejabat Menteri")
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, ident.card().to_bytes(), clock.day(), actor=SHELL,
                        group=routing.CONFLICT)
    pin_conflict(config.base_dir / "policy", [ident])
    return ident


def _file(app, concerns: str, files=(("bukti.pdf", b"%PDF-1.4 bukti"),)) -> Client:
    client = Client(app)
    client.get_codename()
    client.confirm()
    client.report(what=ABOUT_THEM if concerns == "inspectorate" else ORDINARY,
                  files=list(files), concerns=concerns)
    return client


def _held(db, store_dir, report_id):
    """Everything the server holds about one report, with ids and digests taken out: what
    would tell the two groups apart if anything did."""
    report = db.get(Report, report_id)
    subs = db.scalars(select(Submission).where(Submission.report_id == report_id)
                      .order_by(Submission.padded_size)).all()
    envelopes = []
    for s in subs:
        blob = (store_dir / s.member).read_bytes()
        header, slots = read_header(io.BytesIO(blob))
        envelopes.append((len(blob), s.padded_size, header.version, header.slots,
                          len(header.raw), [len(x) for x in slots]))
    rows = {"report": (report.status, report.created_day, len(report.route),
                       type(report.route).__name__),
            "submissions": [(s.kind, s.padded_size, s.created_day, s.acked_day, len(s.sha256),
                             len(s.member)) for s in subs],
            "envelopes": envelopes}
    body = inbox.inbox_body([p for p in downloads.pending(db) if p.report == report_id],
                            None, [])
    entries = [{k: (len(v) if k in ("id", "report", "reporter_key", "member") else v)
                for k, v in e.items()} for e in body["submissions"]]
    return rows, sorted(entries, key=lambda e: sorted(e.items()))


def test_report_about_the_inspectorate_is_readable_by_the_conflict_group_only(
        app, db, config, auditor, team, officer):
    _file(app, "inspectorate")
    subs = db.scalars(select(Submission)).all()
    assert len(subs) == 2   # the report and its file
    for sub in subs:
        blob = (config.store_dir / sub.member).read_bytes()
        # every auditor of the inspectorate tries, alone and all together: nothing opens
        for who in [auditor, *team]:
            with pytest.raises(NotARecipientError):
                open_bytes(blob, [who.box])
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [a.box for a in (auditor, *team)])
        meta, body = open_bytes(blob, [officer.box])
        if meta["kind"] == "report":
            assert json.loads(body)["what"] == ABOUT_THEM
            assert json.loads(body)["concerns"] == "inspectorate"


def test_ordinary_report_still_goes_to_every_auditor_and_not_the_conflict_group(
        app, db, config, auditor, team, officer):
    _file(app, "no")
    for sub in db.scalars(select(Submission)):
        blob = (config.store_dir / sub.member).read_bytes()
        for who in [auditor, *team]:
            open_bytes(blob, [who.box])
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [officer.box])


def test_the_server_holds_nothing_that_tells_the_groups_apart(
        app, db, config, auditor, team, officer):
    """One report of each kind, each with a file of the same size: every row, envelope header,
    size and inbox manifest entry is the same but for random ids and digests."""
    _file(app, "inspectorate")
    _file(app, "no")
    reports = db.scalars(select(Report)).all()
    assert len(reports) == 2
    held = [_held(db, config.store_dir, r.id) for r in reports]
    assert held[0] == held[1]
    # the route is the same length of random-looking bytes; only the reporter's key opens it
    routes = [bytes(r.route) for r in reports]
    assert all(len(r) == routing.ROUTE_BYTES for r in routes) and routes[0] != routes[1]
    for r in reports:
        reporter = db.get(Reporter, r.reporter_id)
        for who in [auditor, *team, officer]:
            with pytest.raises(routing.RouteError):
                routing.open_route(r.route, who.box)
        assert reporter is not None
    # and no column of any table names the group (the cards' own group aside)
    assert {c.name for c in Report.__table__.columns} == {
        "id", "reporter_id", "status", "created_day", "route"}


def test_later_messages_follow_the_report(app, db, config, auditor, officer):
    client = _file(app, "inspectorate", files=())
    client.message("Ada bukti baru: rekaman rapat.", files=[("rekaman.txt", b"isi rekaman")])
    for sub in db.scalars(select(Submission)):
        blob = (config.store_dir / sub.member).read_bytes()
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [auditor.box])
        open_bytes(blob, [officer.box])


def test_message_on_a_compose_grant_uses_the_route_of_the_page(app, db, config, auditor,
                                                                officer):
    """A follow-up form sent after the session ended carries the group the page was rendered
    with; one sent without it is refused, not sealed to the auditors."""
    client = _file(app, "inspectorate", files=())
    page = client.followup()
    assert 'name="route" value="conflict"' in page.text
    rid = client.report_id()
    token = form_token(page)
    grant = __import__("re").search(r'name="compose" value="([^"]+)"', page.text).group(1)
    client.logout()
    params = [("csrf_token", csrf(app)), ("route", "conflict"), ("form_token", token),
              ("compose", grant), ("text", "Tambahan setelah sesi berakhir.")]
    app.post(f"/followup/{rid}/message", params=params,
             upload_files=[("files", "x.txt", b"x")], content_type="multipart/form-data")
    blobs = [(config.store_dir / s.member).read_bytes() for s in db.scalars(select(Submission))]
    assert len(blobs) == 3
    for blob in blobs:
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [auditor.box])
        open_bytes(blob, [officer.box])


def test_answer_must_come_before_the_files(app, db, auditor, officer):
    """A body whose file comes before the answer is refused: the file is never sealed to a
    group by default."""
    client = Client(app)
    client.get_codename()
    client.confirm()
    page = app.get("/report/new")
    params = [("csrf_token", csrf(app)), ("form_token", form_token(page)), ("what", ABOUT_THEM)]
    res = app.post("/report/new/send", params=params,
                   upload_files=[("files", "a.pdf", b"%PDF")], content_type="multipart/form-data",
                   status=400)
    assert res.status_int == 400
    assert db.scalars(select(Submission)).all() == []


def test_question_shown_only_with_a_conflict_group(app, engine, clock, auditor, config):
    client = Client(app)
    client.get_codename()
    client.confirm()
    assert 'name="concerns"' not in app.get("/report/new").text
    assert "kws.kpk.go.id" in app.get("/").text
    officer = AuditorIdentity.generate("Pejabat Menteri")
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, officer.card().to_bytes(), clock.day(), actor=SHELL,
                        group=routing.CONFLICT)
    # enrolled, but not named by the signed policy: still no question
    assert 'name="concerns"' not in app.get("/report/new").text
    pin_conflict(config.base_dir / "policy", [officer])
    assert 'name="concerns"' in app.get("/report/new").text


def test_a_card_is_in_one_group_only_and_groups_fit_the_slots(engine, clock, auditor):
    with session_factory(engine)() as s, s.begin():
        with pytest.raises(auditors.EnrollError):
            auditors.enroll(s, auditor.card().to_bytes(), clock.day(), actor=SHELL,
                            group=routing.CONFLICT)
        for i in range(envelope.DEFAULT_SLOTS - 1):
            auditors.enroll(s, AuditorIdentity.generate(f"A {i}").card().to_bytes(),
                            clock.day(), actor=SHELL)
        with pytest.raises(auditors.EnrollError):
            auditors.enroll(s, AuditorIdentity.generate("A 17").card().to_bytes(), clock.day(),
                            actor=SHELL)
        assert len(s.scalars(select(AuditorCard)).all()) == envelope.DEFAULT_SLOTS

