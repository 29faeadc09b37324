"""What the pages are made of. Every reporter and gateway page, as rendered by the real apps in
both languages, with hostile text in every place a page shows something it did not write
itself: no script, no event handler, no inline style, nothing loaded or linked from elsewhere,
a CSRF token in every POST form (first, in multipart forms, where the upload parser requires
it), a label for every field, and under 50 KB with its style sheet. The templates are scanned
too, so a page no test renders is still covered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nacl.public import PublicKey
from sqlalchemy import select

import dropbox_app
from crypto.identity import AuditorIdentity
from dropbox_app.models import Reporter
from tests.fixtures.drop import Browser, csrf, form_token
from tests.fixtures.gateway import create_account, login, page_csrf, reply_bundle
from tests.fixtures.pages import Page, check_css, check_page

XSS = '"><script>alert(1)</script><img src=https://evil.example/x onerror=alert(2)>'
TEMPLATE_DIRS = [Path(dropbox_app.__file__).parent / "reporter" / "templates",
                 Path(dropbox_app.__file__).parent / "gateway" / "templates"]
STATIC_DIRS = [Path(dropbox_app.__file__).parent / "reporter" / "static",
               Path(dropbox_app.__file__).parent / "gateway" / "static"]


def test_templates_and_style_sheets_load_nothing_from_elsewhere():
    templates = [p for d in TEMPLATE_DIRS for p in d.glob("*.jinja2")]
    assert len(templates) > 20
    for path in templates:
        text = path.read_text()
        low = text.lower()
        for bad in ("<script", "<iframe", "<object", "<embed", "<img", "<style", "<base",
                    "http://", "https://", "javascript:", "|safe", "autoescape false",
                    "markup("):
            assert bad not in low, (path.name, bad)
        assert not re.search(r"\son[a-z]+\s*=", low), path.name
        assert not re.search(r"\sstyle\s*=", low), path.name
        assert not re.search(r"""(href|src|action)\s*=\s*["']//""", low), path.name
    sheets = [p for d in STATIC_DIRS if d.exists() for p in d.iterdir()]
    assert sheets
    for path in sheets:
        assert path.suffix == ".css", path.name  # no fonts, images or scripts served
        check_css(path.read_text(), path.name)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_reporter_page(drop, lang):
    dep = drop.dep
    b = Browser(drop.reporter())
    app = b.app
    q = f"?lang={lang}"
    check_page(app, app.get("/" + q), "landing")
    page = app.post("/codename" + q, {"csrf_token": csrf(app), "words": lang, "website": ""})
    check_page(app, page, "codename")
    check_page(app, app.post("/codename/confirm" + q, {"csrf_token": csrf(app)}, status=400),
               "codename not confirmed")
    b.codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
    b.confirm()
    form = app.get("/report/new" + q)
    check_page(app, form, "report form")
    # Too short: the form comes back with what was typed, which must stay inert text.
    short = app.post("/report/new/send" + q,
                     params=[("csrf_token", csrf(app)), ("form_token", form_token(form)),
                             ("what", XSS[:15]), ("who_name", XSS), ("how", XSS)],
                     upload_files=[], content_type="multipart/form-data", status=400)
    check_page(app, short, "report form again")
    b.report("Kepala bagian meminta uang pelicin untuk setiap izin.", who_name=XSS)
    check_page(app, app.get("/report/received" + q), "received")
    # A question whose text is hostile, as a compromised workbench could send.
    with dep.db() as db:
        pub = PublicKey(db.scalar(select(Reporter.public_key)))
    report_id = b.report_id()
    login(dep, create_account(dep, "ani"))
    dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                 upload_files=[("bundle", "r.bundle",
                                reply_bundle(dep, replies=[(report_id, pub, XSS)]))])
    followup = app.get("/followup" + q)
    assert "&lt;script&gt;" in followup.text
    check_page(app, followup, "followup")
    check_page(app, app.post("/login" + q, {"csrf_token": csrf(app), "codename": XSS},
                             status=400), "login failed")
    check_page(app, app.get("/nope" + q, status=404), "404")
    check_page(app, app.post("/login" + q, {"codename": "x"}, status=400), "csrf error")
    check_page(app, b.logout(), "logged out")
    check_page(app, app.get("/followup" + q, status=403), "session ended")


def test_every_gateway_page(drop):
    dep = drop.dep
    app = dep.app
    check_page(app, app.get("/login"), "login")
    check_page(app, app.post("/login", {"csrf_token": page_csrf(dep, "/login"),
                                        "username": XSS, "passphrase": XSS, "code": XSS},
                             status=403), "login failed")
    admin = create_account(dep, "root1", role="admin")
    login(dep, admin)
    check_page(app, app.get("/"), "home")
    check_page(app, app.get("/admin"), "admin")
    check_page(app, app.get("/reauth"), "reauth")
    # A card whose name is hostile, pasted by an admin who has not looked closely.
    evil = AuditorIdentity.generate(XSS)
    card = evil.card().to_bytes().decode()
    check = app.post("/admin/cards/check", {"csrf_token": page_csrf(dep, "/admin"),
                                            "card": card})
    check_page(app, check, "card check")
    app.post("/admin/cards", {"csrf_token": page_csrf(dep, "/admin"), "card": card,
                              "compared": "yes"}, status=303)
    admin_page = app.get("/admin")
    assert "<script>" not in admin_page.text
    check_page(app, admin_page, "admin with a hostile card name")
    check_page(app, app.post("/admin/users", {"csrf_token": page_csrf(dep, "/admin"),
                                              "username": XSS, "role": "auditor"},
                             status=400), "admin error")
    created = app.post("/admin/users", {"csrf_token": page_csrf(dep, "/admin"),
                                        "username": "budi", "role": "auditor"})
    check_page(app, created, "account created")
    check_page(app, app.post("/replies", {"csrf_token": page_csrf(dep)},
                             upload_files=[("bundle", "x", b"garbage")], status=422),
               "reply refused")
    check_page(app, app.get("/nope", status=404), "404")


HOSTILE_MD = """# Kebijakan

<script>alert(1)</script>
<img src="https://evil.example/pixel.png" onerror="alert(2)">
<iframe src="https://evil.example/"></iframe>
<a href="javascript:alert(3)">klik</a> [data](data:text/html;base64,PHNjcmlwdD4=)
[http](http://evil.example/) ![gambar](https://evil.example/x.png)
<style>body{background:url(https://evil.example/y)}</style>
<form action="https://evil.example/"><input name="codename"></form>
<p style="color:red" onclick="alert(4)">teks</p>
"""


def test_a_signed_policy_with_hostile_markdown_is_shown_inert(drop):
    """The landing page shows the signed protection policy: whatever its Markdown holds, the
    page keeps no script, handler, image, frame, form or non-https link."""
    from policies.documents import install, sign_version

    officer = AuditorIdentity.generate("Petugas Kepatuhan")
    policy_dir = drop.cfg.base_dir / "policy"
    [version] = install(policy_dir)[-1:]
    for lang in ("id", "en"):
        (version / f"{lang}.md").write_text(HOSTILE_MD)
    sign_version(version, officer)
    app = drop.reporter()
    for lang in ("id", "en"):
        res = app.get(f"/?lang={lang}")
        assert "Kebijakan" in res.text  # the signed policy is what is shown
        page = Page()
        page.feed(res.text)
        # https links are allowed in a policy (a signed choice of the officer); nothing else.
        problems = [p for p in page.problems if not p.startswith("href='https://")]
        assert problems == [], problems
        low = res.text.lower()
        for bad in ("<script", "<img", "<iframe", "<style", "javascript:", "data:text",
                    "http://", 'name="codename"></form>'):
            assert bad not in low.split('id="policy"')[1].split("</section>")[0], bad
