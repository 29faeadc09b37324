"""The admin page names each auditor card's recipient group (the inspectorate, or the conflict
group who alone read reports about the inspectorate itself: dropbox_app/routing.py), counts the
active cards of each, warns while the conflict group has none, and enrolls a card in the group
the admin chose (shown again on the fingerprint check before anything is stored)."""

from __future__ import annotations

import pytest

from crypto.identity import AuditorIdentity
from dropbox_app import auditors
from dropbox_app.gateway import adminlog
from dropbox_app.models import AuditorCard
from tests.fixtures.conflict_policy import pin_conflict
from tests.fixtures.gateway import card_text, create_account, login, page_csrf

WARNING = "no-conflict-group"


@pytest.fixture
def admin(deployment):
    login(deployment, create_account(deployment, "root", "admin"))
    return deployment


def _counts(page) -> dict[str, str]:
    return {li["id"]: li.get_text(" ", strip=True) for li in
            page.html.find(id="group-counts").find_all("li")}


def _groups_in_list(page) -> dict[str, str]:
    """Card name -> the text of its group cell."""
    rows = page.html.find(id="cards").find_all("tr")[1:]
    return {r.find_all("td")[0].text: r.find_all("td")[1].get_text(strip=True) for r in rows}


def _enroll(dep, who: AuditorIdentity, group: str | None):
    token = page_csrf(dep, "/admin")
    fields = {"csrf_token": token, "card": card_text(who)}
    if group is not None:
        fields["group"] = group
    check = dep.app.post("/admin/cards/check", fields)
    form = {"csrf_token": token, "card": card_text(who), "compared": "yes"}
    hidden = check.html.find("input", attrs={"name": "group"})
    if hidden is not None:
        form["group"] = hidden["value"]
    dep.app.post("/admin/cards", form, status=303)
    return check


def test_each_card_shows_its_group_and_the_check_page_the_chosen_one(admin):
    dep = admin
    officer = AuditorIdentity.generate("Pejabat Menteri")
    check = _enroll(dep, officer, "conflict")
    # the fingerprint check names the group before anything is stored, and carries it on
    assert "Conflict group" in check.html.find(id="card-group").text
    assert check.html.find("input", attrs={"name": "group"})["value"] == "conflict"
    budi = AuditorIdentity.generate("Budi")
    assert "Inspectorate" in _enroll(dep, budi, None).html.find(id="card-group").text
    with dep.db() as db:
        assert db.get(AuditorCard, officer.key_id).recipient_group == "conflict"
        assert db.get(AuditorCard, budi.key_id).recipient_group == "inspectorate"
        # the admin log says who enrolled which card in which group
        enrolled = {e.details["name"]: (e.actor, e.details["group"])
                    for e in adminlog.newest(db, 50) if e.action == "card.enroll"}
    assert enrolled["Pejabat Menteri"] == ("root", "conflict")
    assert enrolled["Budi"] == ("root", "inspectorate")
    page = dep.app.get("/admin")
    assert _groups_in_list(page) == {"Ani Auditor": "Inspectorate", "Budi": "Inspectorate",
                                     "Pejabat Menteri": "Conflict group"}
    assert _counts(page) == {"group-inspectorate": "Inspectorate : 2 active card(s), at most 16",
                             "group-conflict": "Conflict group : 1 active card(s), at most 16"}
    # and in Indonesian
    page = dep.app.get("/admin?lang=id")
    assert _groups_in_list(page)["Pejabat Menteri"] == "Kelompok konflik kepentingan"
    assert _groups_in_list(page)["Budi"] == "Inspektorat"
    assert "1 kartu aktif" in _counts(page)["group-conflict"]


def test_warning_while_the_conflict_group_has_no_active_card(admin):
    dep = admin
    page = dep.app.get("/admin")
    notice = page.html.find(id=WARNING)
    assert notice is not None and "warn" in notice["class"]   # a notice, not an error page
    assert page.status_int == 200 and "peluit auditor enroll CARD --group conflict" in notice.text
    assert "Kelompok konflik kepentingan tidak memiliki kartu aktif" in dep.app.get(
        "/admin?lang=id").text
    officer = AuditorIdentity.generate("Pejabat Menteri")
    _enroll(dep, officer, "conflict")
    # enrolled, but the signed policy does not name it: the warning stays (issue 19)
    assert dep.app.get("/admin?lang=en").html.find(id=WARNING) is not None
    pin_conflict(dep.cfg.base_dir / "policy", [officer])
    assert dep.app.get("/admin?lang=en").html.find(id=WARNING) is None
    # The group's last card switched off: the warning is back, and it agrees with the reporter
    # app, which stops asking the question (auditors.conflict_group_ready, the same test).
    token = page_csrf(dep, "/admin")
    dep.app.post(f"/admin/cards/{officer.key_id}/disable", {"csrf_token": token,
                                                            "confirm": "yes"}, status=303)
    page = dep.app.get("/admin")
    assert page.html.find(id=WARNING) is not None
    assert "0 active card(s)" in _counts(page)["group-conflict"]
    assert _groups_in_list(page)["Pejabat Menteri"] == "Conflict group"  # disabled, still named
    with dep.db() as db:
        assert not auditors.conflict_group_ready(db, frozenset({officer.key_id}))
    dep.app.post(f"/admin/cards/{officer.key_id}/enable", {"csrf_token": token}, status=303)
    assert dep.app.get("/admin").html.find(id=WARNING) is None


def test_an_unknown_group_or_a_second_group_is_refused(admin):
    dep = admin
    token = page_csrf(dep, "/admin")
    budi = AuditorIdentity.generate("Budi")
    for path, extra in (("/admin/cards/check", {}), ("/admin/cards", {"compared": "yes"})):
        res = dep.app.post(path, {"csrf_token": token, "card": card_text(budi),
                                  "group": "both", **extra}, status=400)
        assert "recipient groups" in res.text and "Traceback" not in res.text
    with dep.db() as db:
        assert db.get(AuditorCard, budi.key_id) is None
    # An inspectorate card cannot be enrolled in the conflict group as well: it would let an
    # auditor read the reports about the inspectorate.
    res = dep.app.post("/admin/cards", {"csrf_token": token, "card": card_text(dep.auditor),
                                        "group": "conflict", "compared": "yes"}, status=400)
    assert "one group only" in res.text
    with dep.db() as db:
        assert db.get(AuditorCard, dep.auditor.key_id).recipient_group == "inspectorate"
