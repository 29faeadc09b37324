"""CSRF by default, proven by walking every route of every app.

The attack: a page elsewhere makes a signed-in victim's browser post a form to one of our apps
(the cookies ride along). Every view of every registered route is found through Pyramid's own
introspector, not from a list kept here, so a view added later is walked too: each one that
answers an unsafe method must refuse a post without the visitor's token, or with a wrong one,
before the view runs. The one explicit exception, the streaming upload views, must refuse a
multipart body whose first field is not the right token. And a view registered the ordinary way
without any CSRF code of its own is refused all the same (the mistake this default prevents)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import webtest
from pyramid.config import Configurator
from pyramid.response import Response

from dropbox_app.security import StreamingRoutes
from peluit.ground.services import service
from tests.fixtures.drop import Browser, build_drop
from tests.fixtures.gateway import create_account
from tests.fixtures.gateway import login as gateway_login
from tests.fixtures.workbench_vault import PASS, make_vault

SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# What each app says when the token is missing or wrong (English pages).
REFUSAL = {
    "reporter": "This form has expired",
    "gateway": "The form expired or did not come from this site",
    "workbench": "The form expired or did not come from this workbench",
}
# Values tried for a route's placeholders, the first that its pattern accepts is used.
CANDIDATES = ("0" * 32, "0" * 16, "1", "admin", "disable", "style.css", "x")


def _fill(pattern: str, known: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name, _, regex = match.group(1).partition(":")
        for value in (*known.get(name, ()), *CANDIDATES):
            if not regex or re.fullmatch(regex, value):
                return value
        raise AssertionError(f"no test value fits {match.group(0)} in {pattern}")

    path = re.sub(r"\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", one, pattern)
    path = re.sub(r"\*\w+$", "style.css", path)
    return path if path.startswith("/") else "/" + path


def unsafe_views(registry: Any, known: dict[str, str] | None = None
                 ) -> list[tuple[str, str, str, Any]]:
    """(route name, path, method, require_csrf) for every view that answers an unsafe method."""
    intr = registry.introspector
    routes = {r["introspectable"]["name"]: r["introspectable"]
              for r in intr.get_category("routes")}
    found = []
    for item in intr.get_category("views"):
        view = item["introspectable"]
        if view["route_name"] is None or view["exception_only"]:
            continue
        route = routes[view["route_name"]]
        # The view's own methods, else its route's; neither means every method, so POST too.
        methods = view["request_methods"] or route["request_methods"] or ("POST",)
        methods = (methods,) if isinstance(methods, str) else tuple(methods)
        for method in methods:
            if method not in SAFE:
                found.append((view["route_name"], _fill(route["pattern"], known or {}), method,
                              view["require_csrf"]))
    return found


# --- the three apps, each with a signed-in victim ----------------------------------------------

class Victim:
    def __init__(self, name: str, client: webtest.TestApp, registry: Any, streaming: set[str],
                 others: dict[str, webtest.TestApp] | None = None,
                 known: dict[str, tuple[str, ...]] | None = None):
        self.name = name
        self.client = client
        self.registry = registry
        self.streaming = streaming
        self.others = others or {}
        self.known = known or {}  # real values for a route's placeholders (the victim's own)

    def client_for(self, route: str) -> webtest.TestApp:
        """The victim's browser in the state where ``route`` does its work."""
        return self.others.get(route, self.client)

    def refused(self, res: webtest.TestResponse) -> bool:
        return res.status_int in (400, 403) and REFUSAL[self.name] in res.text


def _reporter(tmp_path: Path) -> Victim:
    drop = build_drop(tmp_path / "r")
    browser = Browser(drop.reporter())
    browser.new_report()
    browser.login()
    browser.app.get("/?lang=en")  # remembered in a cookie
    # The report form is sent once per codename, before there is a reporter: a second browser
    # that has a fresh codename and is about to send its report.
    fresh = Browser(drop.reporter())
    fresh.app.get("/?lang=en")
    fresh.get_codename()
    fresh.confirm()
    wsgi = drop.reporter_wsgi
    return Victim("reporter", browser.app, wsgi.registry,
                  set(service(wsgi, StreamingRoutes)), {"report.submit": fresh.app},
                  {"report": (browser.report_id(),)})


def _gateway(tmp_path: Path) -> Victim:
    drop = build_drop(tmp_path / "g")
    admin = create_account(drop.dep, "admin", role="admin")
    gateway_login(drop.dep, admin)  # fresh: the admin actions need no re-authentication
    wsgi = drop.gateway_wsgi
    return Victim("gateway", drop.dep.app, wsgi.registry,
                  set(service(wsgi, StreamingRoutes)))


def _workbench(tmp_path: Path) -> Victim:
    from workbench.web import make_app

    tv = make_vault(tmp_path / "w")
    guard = make_app(tv.path, demo_not_air_gapped=True)
    app = webtest.TestApp(guard)
    form = app.get("/login?lang=en").forms[0]
    form["auditor"] = tv.lead.key_id
    form["passphrase"] = PASS
    form.submit(status=303)
    return Victim("workbench", app, guard.registry, set())


@pytest.fixture(scope="module", params=["reporter", "gateway", "workbench"])
def victim(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Victim:
    make = {"reporter": _reporter, "gateway": _gateway, "workbench": _workbench}[request.param]
    return make(tmp_path_factory.mktemp(request.param))


def _post(victim: Victim, route: str, path: str, method: str, token: str | None,
          streaming: bool) -> webtest.TestResponse:
    fields = [("text", "forged"), ("username", "mallory"), ("role", "admin")]
    if token is not None:
        fields.insert(0, ("csrf_token", token))
    if streaming:
        # The token field (if any), then the file: what the upload form sends.
        file_field = "bundle" if victim.name == "gateway" else "files"
        return victim.client_for(route).post(
            path, params=fields[:1] if token is not None else [],
            upload_files=[(file_field, "a.txt", b"forged")],
            content_type="multipart/form-data", expect_errors=True)
    return victim.client.request(path, method=method, expect_errors=True,
                                 body="&".join(f"{k}={v}" for k, v in fields).encode(),
                                 content_type="application/x-www-form-urlencoded")


def test_every_unsafe_route_refuses_a_forged_post(victim: Victim) -> None:
    views = unsafe_views(victim.registry, victim.known)
    assert len(views) >= 5, views  # the walk found the app's forms
    for route, path, method, _ in views:
        streaming = route in victim.streaming
        for token in (None, "", "forged-" + "a" * 40):
            res = _post(victim, route, path, method, token, streaming)
            assert victim.refused(res), (victim.name, route, method, token, res.status,
                                         res.text[:300])


def test_the_only_opt_out_is_the_streaming_uploads(victim: Victim) -> None:
    """A view registered with ``require_csrf=False`` is acceptable only on a route whose body
    is streamed and whose first field is the token (security.check_body refuses any other
    body there, ingest.py and gateway/upload.py check the token before a file byte)."""
    opted_out = {route for route, _, _, require in unsafe_views(victim.registry, victim.known)
                 if require is False}
    assert opted_out == victim.streaming, victim.name
    for route, path, method, _ in unsafe_views(victim.registry, victim.known):
        if route in victim.streaming:
            # a urlencoded body on a streaming route: refused before the view runs
            res = victim.client.request(path, method=method, expect_errors=True,
                                        body=b"text=forged",
                                        content_type="application/x-www-form-urlencoded")
            assert res.status_int == 415, (route, res.status)


def test_a_new_view_that_forgets_csrf_is_still_protected(victim: Victim) -> None:
    calls = []

    def forgetful(request: Any) -> Response:
        calls.append(request.method)
        return Response("done")

    config = Configurator(registry=victim.registry)
    name = f"forgetful.{len(victim.registry.introspector.get_category('routes'))}"
    config.add_route(name, f"/{name}", request_method="POST")
    config.add_view(forgetful, route_name=name)
    config.commit()
    res = victim.client.post(f"/{name}", {"text": "forged"}, expect_errors=True)
    assert not calls and victim.refused(res), (victim.name, res.status, res.text[:300])
    res = victim.client.post(f"/{name}", {"text": "forged", "csrf_token": "x" * 43},
                             expect_errors=True)
    assert not calls and victim.refused(res), (victim.name, res.status)
