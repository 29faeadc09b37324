"""The house style sheet reaches every app (served on the app's own origin, under its CSP), and
the workbench's navigation speaks the page's language (the "Gateway log" label was English on
Indonesian pages)."""

from __future__ import annotations

from tests.fixtures.gateway import create_account, login


def test_workbench_links_and_serves_the_house_sheet_and_translates_its_navigation(lead_app):
    page = lead_app.get("/?lang=id")
    links = [link["href"] for link in page.html.select("link[rel=stylesheet]")]
    assert links[0].endswith("/house/house.css") and links[1].endswith("/workbench.css")
    nav = page.html.select_one("header nav").get_text(" ")
    assert "Log gerbang" in nav and "Gateway log" not in nav
    css = lead_app.get("/house/house.css")
    assert css.content_type == "text/css" and "button.danger" in css.text
    assert "style-src 'self'" in css.headers["Content-Security-Policy"]


def test_gateway_links_and_serves_the_house_sheet(deployment):
    dep = deployment
    login(dep, create_account(dep, "root", "admin"))
    page = dep.app.get("/admin")
    links = [link["href"] for link in page.html.select("link[rel=stylesheet]")]
    assert links == ["/house/house.css", "/static/gateway.css"]
    assert dep.app.get("/house/house.css").content_type == "text/css"
