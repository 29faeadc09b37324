"""The gateway's admin page as a daily tool: destructive actions styled as such and behind a
confirmation (a checkbox: no JavaScript), none offered on one's own account (and refused by the
server), action codes never broken inside a word, no literal Markdown backticks."""

from sqlalchemy import select

from dropbox_app.models import GatewayUser
from tests.fixtures.gateway import create_account, login, page_csrf


def _active(dep, name):
    with dep.db() as db:
        return db.scalar(select(GatewayUser).where(GatewayUser.username == name)).active


def test_destructive_actions_need_the_confirm_box(deployment):
    dep = deployment
    login(dep, create_account(dep, "root", "admin"))
    token = page_csrf(dep, "/admin")
    dep.app.post("/admin/users", {"csrf_token": token, "username": "citra", "role": "auditor"})
    # A click (or a replayed form) without the box ticked changes nothing.
    page = dep.app.post("/admin/users/citra/disable", {"csrf_token": token}, status=400)
    assert "tick the box" in page.text and _active(dep, "citra")
    dep.app.post("/admin/users/citra/reset", {"csrf_token": token}, status=400)
    dep.app.post("/admin/server-key/rotate", {"csrf_token": token}, status=400)
    dep.app.post("/admin/users/citra/disable", {"csrf_token": token, "confirm": "yes"},
                 status=303)
    assert not _active(dep, "citra")
    # Enabling is reversible and needs no confirmation.
    dep.app.post("/admin/users/citra/enable", {"csrf_token": token}, status=303)
    assert _active(dep, "citra")


def test_admin_page_offers_no_destructive_action_on_own_account(deployment):
    dep = deployment
    login(dep, create_account(dep, "root", "admin"))
    token = page_csrf(dep, "/admin")
    dep.app.post("/admin/users", {"csrf_token": token, "username": "citra", "role": "auditor"})
    page = dep.app.get("/admin")
    assert "/admin/users/root/disable" not in page.text
    assert "/admin/users/root/reset" not in page.text
    assert "/admin/users/citra/disable" in page.text and "/admin/users/citra/reset" in page.text
    # Every destructive button is styled as one and sits in a form with a required checkbox.
    for form in page.html.find_all("form"):
        button = form.find("button")
        if any(a in form["action"] for a in ("/disable", "/reset", "/rotate")):
            assert "danger" in button["class"]
            box = form.find("input", attrs={"name": "confirm"})
            assert box["type"] == "checkbox" and box.has_attr("required")
    # The server refuses it too, confirmed or not.
    dep.app.post("/admin/users/root/disable", {"csrf_token": token, "confirm": "yes"},
                 status=400)
    dep.app.post("/admin/users/root/reset", {"csrf_token": token, "confirm": "yes"},
                 status=400)
    assert _active(dep, "root")


def test_action_codes_do_not_break_and_no_backticks(deployment):
    dep = deployment
    login(dep, create_account(dep, "root", "admin"))
    page = dep.app.get("/admin")
    assert "`" not in page.text
    codes = page.html.find(id="admin-log").find_all("code")
    assert codes and all("action" in c["class"] for c in codes)
    css = dep.app.get("/static/gateway.css").text
    rule = css[css.index("code.action"):]
    assert "white-space: nowrap" in rule.split("}")[0]
