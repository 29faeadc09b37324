"""Every reporter page is small (under 50 KB with its two stylesheets), self-contained (nothing from
elsewhere, no script), and accessible: a language, one h1, a label for every field."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.fixtures.reporter_client import csrf


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.h1 = 0
        self.lang = None
        self.fields: list[dict] = []
        self.label_for: set[str] = set()
        self.in_label = 0
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "textarea", "select"):
            if a.get("type") not in ("hidden", "submit"):
                self.fields.append({**a, "_wrapped": self.in_label > 0})
        elif tag == "script":
            self.scripts += 1
        for k in ("src", "href", "action"):
            if a.get(k):
                self.urls.append(a[k])

    def handle_endtag(self, tag):
        if tag == "label":
            self.in_label -= 1


def _check(res, css_size):
    assert len(res.body) + css_size < 50_000, res.request.path
    p = _Page()
    p.feed(res.text)
    assert p.lang in ("id", "en")
    assert p.h1 == 1, res.request.path
    assert p.scripts == 0
    for f in p.fields:
        assert f["_wrapped"] or f.get("id") in p.label_for, f
    assert "/house/house.css" in p.urls, res.request.path
    for url in p.urls:
        assert not re.match(r"^(https?:)?//", url), url  # nothing from elsewhere


def test_every_page(app, reporter):
    css = app.get("/static/peluit.css")
    assert css.content_type == "text/css"
    house = app.get("/house/house.css")  # the house style sheet every app shares
    assert house.content_type == "text/css"
    size = len(css.body) + len(house.body)
    for lang in ("id", "en"):
        app.get(f"/?lang={lang}")
        _check(app.get("/"), size)
        _check(app.post("/codename", {"csrf_token": csrf(app), "words": lang}), size)
        reporter.confirm()
        _check(app.get("/report/new"), size)
        res = reporter.report(files=[("a.txt", b"a")])
        _check(res, size)
        _check(app.get("/report/received"), size)
        _check(reporter.followup(), size)
        _check(app.get("/nope", status=404), size)
        _check(reporter.logout(), size)


def test_indonesian_codename_round_trip(app, reporter):
    codename = reporter.get_codename("id")
    from crypto import codename as codenames

    assert codenames.normalise(codename).language == "id"
    reporter.confirm()
    reporter.report()
    reporter.logout()
    reporter.login(codename.replace(" ", ""))  # typed without spaces still works
    assert reporter.followup().status_int == 200


def test_language_switch_never_loses_a_page(app, reporter):
    page = app.post("/codename", {"csrf_token": csrf(app), "words": "en"})
    assert "?lang=" not in page.text  # leaving the codename page would lose the codename
    res = app.post("/login", {"csrf_token": csrf(app), "codename": "nonsense"}, status=400)
    assert 'href="/?lang=en"' in res.text  # a form's answer switches on the start page
    assert 'href="?lang=en"' in app.get("/").text


def test_favicon_is_an_explicit_none(app):
    # Every browser asks for it; a 404 page for each visit was noise (and a page to render).
    res = app.get("/favicon.ico", status=204)
    assert res.body == b""


def test_one_h1_and_the_safety_advice_first(app):
    for lang in ("id", "en"):
        page = app.get(f"/?lang={lang}").text
        assert page.count("<h1") == 1
        main = page[page.index("<main>"):]
        # The advice comes right after the heading, before the policy and the forms.
        assert main.index('class="safety"') < main.index("<form")
