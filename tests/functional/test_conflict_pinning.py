"""The conflict group's members are pinned by the signed protection policy (issue 19).

The attacker is the gateway's admin: an employee of the inspectorate, who runs the server. They
enroll a card of their own (or a colleague's) in the conflict group, on the admin page or with
``peluit auditor enroll CARD --group conflict``, and wait for reports about the inspectorate.
Their goal: open such a report with that card's key. Nothing the inspectorate controls alone
may get them there: only a card that the compliance officer's signed policy names in its
``[conflict]`` section is ever sealed to."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from crypto.envelope import open_bytes
from crypto.errors import NotARecipientError
from crypto.identity import AuditorIdentity
from dropbox_app import auditors, routing
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Submission, SubmissionAck
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.drop import Drop, build_drop
from tests.fixtures.gateway import card_text, create_account, login, page_csrf, reply_bundle
from tests.fixtures.reporter_client import Reporter

ABOUT_THEM = "Kepala inspektorat meminta setoran dari setiap auditor yang turun ke daerah."


@pytest.fixture
def drop(tmp_path: Path) -> Iterator[Drop]:
    d = build_drop(tmp_path)
    yield d
    d.dep.engine.dispose()


@pytest.fixture
def officer(drop: Drop) -> AuditorIdentity:
    """The minister's designated officer: enrolled in the conflict group AND named in the
    signed policy's [conflict] section."""
    ident = AuditorIdentity.generate("Pejabat Menteri")
    with drop.dep.db() as db, db.begin():
        auditors.enroll(db, ident.card().to_bytes(), drop.clock.day(), actor=SHELL,
                        group=routing.CONFLICT)
    pin_conflict(drop.cfg.base_dir / "policy", [ident])
    return ident


def _admin_enrolls_on_the_web(drop: Drop, who: AuditorIdentity) -> None:
    """The gateway's admin enrolls a card in the conflict group on the admin page."""
    dep = drop.dep
    login(dep, create_account(dep, "root", "admin"))
    token = page_csrf(dep, "/admin")
    dep.app.post("/admin/cards/check", {"csrf_token": token, "card": card_text(who),
                                        "group": "conflict"})
    dep.app.post("/admin/cards", {"csrf_token": token, "card": card_text(who),
                                  "group": "conflict", "compared": "yes"}, status=303)


def _admin_enrolls_in_the_shell(drop: Drop, who: AuditorIdentity) -> None:
    """``peluit auditor enroll CARD --group conflict`` on the server."""
    from peluit.cli import main

    card = drop.cfg.base_dir / "colleague.card"
    card.write_bytes(who.card().to_bytes())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["auditor", "enroll", str(card), "--group", "conflict", "--config",
                     str(drop.cfg.base_dir / "peluit.toml")]) == 0
    # the command says at once that the card reads nothing until the officer names it
    assert "NOT named in the signed protection policy's [conflict] section" in out.getvalue()


def _file_about_the_inspectorate(drop: Drop) -> Reporter:
    client = Reporter(drop.reporter())
    client.get_codename()
    client.confirm()
    page = client.app.get("/report/new")
    assert page.html.find(attrs={"name": routing.CONCERNS_FIELD}) is not None
    client.report(what=ABOUT_THEM, files=[("bukti.pdf", b"%PDF-1.4 bukti")],
                  concerns="inspectorate")
    return client


@pytest.mark.parametrize("enroll", [_admin_enrolls_on_the_web, _admin_enrolls_in_the_shell],
                         ids=["admin-page", "cli"])
def test_a_card_the_admin_adds_to_the_conflict_group_cannot_open_reports_about_them(
        drop, officer, enroll):
    colleague = AuditorIdentity.generate("Auditor Kawan")
    enroll(drop, colleague)
    with drop.dep.db() as db:  # the attack's first step works: the card is in the group
        assert colleague.key_id in {c.key_id for c in auditors.active_cards(db, "conflict")}
    _file_about_the_inspectorate(drop)
    with drop.dep.db() as db:
        subs = db.scalars(select(Submission)).all()
    assert len(subs) == 2  # the report and its file
    for sub in subs:
        blob = (drop.cfg.store_dir / sub.member).read_bytes()
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [colleague.box])
        with pytest.raises(NotARecipientError):
            open_bytes(blob, [drop.dep.auditor.box])
        meta, body = open_bytes(blob, [officer.box])
        if meta["kind"] == "report":
            assert json.loads(body)["what"] == ABOUT_THEM


def test_a_card_added_after_the_report_cannot_open_its_later_messages(drop, officer):
    """The admin waits for a report about them, then enrolls their card: the reporter's next
    message on that report is sealed to the pinned officer only."""
    client = _file_about_the_inspectorate(drop)
    with drop.dep.db() as db:
        before = {s.member for s in db.scalars(select(Submission))}
    colleague = AuditorIdentity.generate("Auditor Kawan")
    _admin_enrolls_on_the_web(drop, colleague)
    client.message("Ada bukti baru: daftar setoran bulan ini.")
    with drop.dep.db() as db:
        later = [s for s in db.scalars(select(Submission)) if s.member not in before]
    assert len(later) == 1
    blob = (drop.cfg.store_dir / later[0].member).read_bytes()
    with pytest.raises(NotARecipientError):
        open_bytes(blob, [colleague.box])
    open_bytes(blob, [officer.box])


def test_an_unpinned_conflict_card_cannot_acknowledge_or_write_as_the_group(drop, officer):
    """The admin's own conflict card signs a reply bundle acknowledging the report about them
    (so that retention deletes it once the inspectorate acknowledged it too): refused, nothing
    recorded. The pinned officer's bundle is accepted."""
    _file_about_the_inspectorate(drop)
    colleague = AuditorIdentity.generate("Auditor Kawan")
    _admin_enrolls_on_the_web(drop, colleague)
    with drop.dep.db() as db:
        sids = [s.id for s in db.scalars(select(Submission))]
    dep = drop.dep
    forged = reply_bundle(dep, acks=sids, signer=colleague)
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                        upload_files=[("bundle", "r.bundle", forged)], status=422)
    assert "Auditor Kawan" in page.text and "[conflict]" in page.text
    with dep.db() as db:
        assert db.scalars(select(SubmissionAck)).all() == []
    real = reply_bundle(dep, acks=sids, signer=officer)
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                        upload_files=[("bundle", "r.bundle", real)])
    assert page.html.find(id="accepted") is not None
    with dep.db() as db:
        assert len(db.scalars(select(SubmissionAck)).all()) == len(sids)


def test_an_unpinned_conflict_card_alone_does_not_make_the_form_ask(drop):
    """A deployment whose signed policy names no conflict group (or none is signed): a card
    the admin enrolled in the group does not make the question appear, and a report that
    answers it anyway is refused, never sealed to that card."""
    colleague = AuditorIdentity.generate("Auditor Kawan")
    _admin_enrolls_on_the_web(drop, colleague)
    client = Reporter(drop.reporter())
    client.get_codename()
    client.confirm()
    page = client.app.get("/report/new")
    assert page.html.find(attrs={"name": routing.CONCERNS_FIELD}) is None
    client.report(what=ABOUT_THEM, concerns="inspectorate", status=400)
    with drop.dep.db() as db:
        assert db.scalars(select(Submission)).all() == []
        assert not auditors.conflict_group_ready(db, None)
    landing = drop.reporter().get("/")
    assert "no separate group for reports about the Inspectorate General" in landing.text


def test_the_admin_page_says_which_conflict_cards_the_signed_policy_names(drop, officer):
    colleague = AuditorIdentity.generate("Auditor Kawan")
    _admin_enrolls_on_the_web(drop, colleague)
    page = drop.dep.app.get("/admin?lang=en")
    rows = {r.find_all("td")[0].text: r for r in page.html.find(id="cards").find_all("tr")[1:]}
    assert "not named" in rows["Auditor Kawan"].find(class_="pinned").get_text(" ", strip=True)
    assert "named" in rows["Pejabat Menteri"].find(class_="pinned").get_text(" ", strip=True)
    assert "not" not in rows["Pejabat Menteri"].find(class_="pinned").get_text(" ", strip=True)
    assert rows["Ani Auditor"].find(class_="pinned").get_text(strip=True) == ""
    assert page.html.find(id="conflict-unpinned") is not None
    assert "Auditor Kawan" in page.html.find(id="conflict-unpinned").text
    assert page.html.find(id="no-conflict-group") is None  # the officer is pinned and active
    idpage = drop.dep.app.get("/admin?lang=id")
    rows = {r.find_all("td")[0].text: r for r in idpage.html.find(id="cards").find_all("tr")[1:]}
    assert "tidak" in rows["Auditor Kawan"].find(class_="pinned").get_text(" ", strip=True)


def test_the_warning_counts_only_pinned_cards(drop):
    colleague = AuditorIdentity.generate("Auditor Kawan")
    _admin_enrolls_on_the_web(drop, colleague)
    page = drop.dep.app.get("/admin?lang=en")
    # an active conflict card, but one the signed policy does not name: still no conflict group
    assert page.html.find(id="no-conflict-group") is not None


def test_the_policy_shown_to_reporters_names_the_conflict_group(drop, officer):
    """The signed policy's parties: beside its signer, the members who alone read reports
    about the inspectorate, in both languages."""
    reporter = drop.reporter()
    en = reporter.get("/?lang=en").html.find(class_="policy-signature").text
    assert "read only by the conflict group this policy names: Pejabat Menteri." in en
    idn = reporter.get("/?lang=id").html.find(class_="policy-signature").text
    assert "hanya dibaca oleh kelompok konflik kepentingan" in idn and "Pejabat Menteri" in idn
