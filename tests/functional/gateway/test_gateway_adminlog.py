"""The gateway's admin log, through the real app and the real CLI: who changed accounts, cards
and keys lands in a hash chain, a refused action leaves no entry, and every inbox bundle carries
the newest entries inside its signed manifest."""

import io
import subprocess
import sys

from sqlalchemy import func, select

from crypto.bundle import BundleReader
from crypto.identity import AuditorIdentity
from dropbox_app.gateway import adminlog
from dropbox_app.models import AdminLogRow
from policies import auditlog
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    login,
    page_csrf,
    server_trust,
)


def _log(dep):
    with dep.db() as db:
        return adminlog.newest(db)


def _admin(dep):
    login(dep, create_account(dep, "root", "admin"))
    return page_csrf(dep, "/admin")


def test_admin_actions_are_chained_with_the_admin_and_the_day(deployment):
    dep = deployment
    token = _admin(dep)
    budi = AuditorIdentity.generate("Budi")
    dep.app.post("/admin/cards", {"csrf_token": token, "card": budi.card().to_bytes().decode(),
                                  "compared": "yes"}, status=303)
    dep.app.post(f"/admin/cards/{budi.key_id}/disable", {"csrf_token": token, "confirm": "yes"},
                 status=303)
    dep.app.post("/admin/users", {"csrf_token": token, "username": "citra", "role": "auditor"})
    dep.app.post("/admin/users/citra/disable", {"csrf_token": token, "confirm": "yes"},
                 status=303)
    dep.app.post("/admin/server-key/rotate", {"csrf_token": token, "confirm": "yes"},
                 status=303)

    log = _log(dep)
    assert auditlog.verify_window(log) == [] and log[0].seq == 1
    mine = [(e.actor, e.action) for e in log if e.actor == "root"]
    assert mine == [("root", "card.enroll"), ("root", "card.disable"),
                    ("root", "account.create"), ("root", "account.disable"),
                    ("root", "serverkey.rotate")]
    # The fixture's own set-up ran in the shell: its auditor card and the admin's account.
    assert [(e.actor, e.action) for e in log[:2]] == [
        (adminlog.SHELL, "card.enroll"), (adminlog.SHELL, "account.create")]
    enroll = next(e for e in log if e.action == "card.enroll" and e.actor == "root")
    assert enroll.details == {"key_id": budi.key_id, "name": "Budi",
                              "fingerprint": budi.card().fingerprint,
                              "group": "inspectorate"}  # the recipient group it reads for
    assert {e.at for e in log} == {dep.clock.day()}  # a day, never a finer time
    page = dep.app.get("/admin")
    rows = page.html.find(id="admin-log").find_all("tr")[1:]
    assert "serverkey.rotate" in rows[0].text and "root" in rows[0].text  # newest first


def test_a_refused_admin_action_leaves_no_entry(deployment):
    dep = deployment
    token = _admin(dep)
    before = len(_log(dep))
    dep.app.post("/admin/users/root/disable", {"csrf_token": token, "confirm": "yes"},
                 status=400)  # own account
    dep.app.post("/admin/users", {"csrf_token": token, "username": "x", "role": "auditor"},
                 status=400)  # a name too short
    dep.app.post("/admin/cards", {"csrf_token": token, "card": "not a card",
                                  "compared": "yes"}, status=400)
    dep.app.post("/admin/cards/" + "ab" * 16 + "/disable", {"csrf_token": token,
                                                         "confirm": "yes"}, status=400)
    assert len(_log(dep)) == before


def test_a_sign_in_delay_is_logged_by_the_gateway_itself(deployment):
    dep = deployment
    acct = create_account(dep, "dewi")
    for _ in range(6):
        login(dep, acct, status=403, typed_code="000000")
    locks = [e for e in _log(dep) if e.action == "account.delay"]
    assert locks and locks[0].actor == adminlog.GATEWAY
    assert locks[0].details["user"] == "dewi" and locks[0].details["seconds"] > 0
    assert "passphrase" not in str(locks[0].to_dict())


def test_shell_commands_are_logged_as_the_server_shell(deployment):
    dep = deployment
    config = str(dep.data_dir / "peluit.toml")
    for args in (["gateway-user", "add", "eko"], ["gateway-user", "disable", "eko"],
                 ["server-key", "rotate"]):
        subprocess.run([sys.executable, "-m", "peluit", *args, "--config", config],
                       check=True, capture_output=True)
    tail = [(e.actor, e.action, e.details.get("user")) for e in _log(dep)[-3:]]
    assert tail == [(adminlog.SHELL, "account.create", "eko"),
                    (adminlog.SHELL, "account.disable", "eko"),
                    (adminlog.SHELL, "serverkey.rotate", None)]


def test_the_inbox_bundle_carries_the_log_in_its_signed_manifest(deployment):
    dep = deployment
    login(dep, create_account(dep, "ani"))
    add_submission(dep)
    data = dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}).body
    reader = BundleReader(io.BytesIO(data), server_trust(dep), "inbox", lambda s: None,
                          dep.cfg.deployment_id)
    carried = reader.manifest.body["admin_log"]
    log = _log(dep)
    assert [auditlog.Entry.from_dict(d) for d in carried] == log
    assert [d["hash"] for d in carried] == [e.hash for e in log]


def test_the_bundle_carries_only_the_newest_window(deployment, monkeypatch):
    dep = deployment
    monkeypatch.setattr(adminlog, "WINDOW", 2)
    with dep.db() as db, db.begin():
        for n in range(4):
            adminlog.record(db, dep.clock.day(), adminlog.SHELL, "account.unlock",
                            {"user": f"u{n}"})
    with dep.db() as db:
        total = db.scalar(select(func.count(AdminLogRow.seq)))
        carried = adminlog.for_bundle(db)
    assert [d["seq"] for d in carried] == [total - 1, total]
