"""Page rendering: Jinja2 with one environment per language (gettext catalogs from
peluit/ground/i18n.py), so that rendering is thread-safe without per-request state in the
environment."""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from markupsafe import Markup, escape
from pyramid.csrf import get_csrf_token
from pyramid.request import Request
from pyramid.response import Response

from peluit.ground.i18n import LANGUAGES, translations
from peluit.ground.i18n import language as choose_language

from ..config import Config
from . import humane

LANG_COOKIE = "lang"
DOMAIN = "dropbox_app"


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dropbox_app.reporter", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined)
    env.install_gettext_translations(translations("dropbox_app", DOMAIN, language), newstyle=True)
    env.filters["human_day"] = lambda value: humane.day(value, language)
    env.filters["human_size"] = lambda value: humane.size(value, language)
    env.filters["megabytes"] = humane.megabytes
    env.filters["demote_headings"] = demote_headings
    return env


_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def demote_headings(html: Any, by: int = 2) -> Markup:
    """Embedded HTML (the signed policy, already sanitised by bleach) under the page's own h2:
    its h1 becomes h3 and so on, so that a page has one h1 and no level is skipped."""
    text = html.__html__() if hasattr(html, "__html__") else str(escape(html))
    # The input is already safe HTML (escaped or bleach-sanitised); only tag names change.
    return Markup(_HEADING.sub(  # noqa: S704
        lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + by)}", text))


def language(request: Request) -> str:
    """``?lang=``, then the cookie, then the deployment's default (peluit.ground.i18n)."""
    return choose_language(request, LANG_COOKIE, request.find_service(Config).default_language)


def gettext(request: Request, message: str, **kw: Any) -> str:
    text = translations("dropbox_app", DOMAIN, request.language).gettext(message)
    return text % kw if kw else text


# The words of error.jinja2's "size" message (the catalogs hold them from there).
_TOO_LARGE = ("Too large", "What you sent is larger than this channel accepts in one go. Send "
              "fewer or smaller files at a time; you can add more later.")


# The words of error.jinja2's "busy" message.
_BUSY = ("Busy, please try again", "The server is handling many requests at this moment. Wait "
         "a few seconds and try again.")


def oversize_page(default_language: str) -> bytes:
    """The page the HTTP server sends by itself for a body over its backstop (server.py): no
    request was parsed, so it speaks both languages, the deployment's first."""
    return _server_page(default_language, _TOO_LARGE)


def busy_page(default_language: str) -> bytes:
    """The page the HTTP server sends by itself when a request waited too long for a free
    worker (server.py), in both languages like oversize_page."""
    return _server_page(default_language, _BUSY)


def _server_page(default_language: str, words: tuple[str, str]) -> bytes:
    from markupsafe import escape

    first = default_language if default_language in LANGUAGES else LANGUAGES[0]
    sections = []
    for i, lang in enumerate((first, *(x for x in LANGUAGES if x != first))):
        t = translations("dropbox_app", DOMAIN, lang)
        title, text = (escape(t.gettext(m)) for m in words)
        h = "h1" if i == 0 else "h2"  # one h1 a page: the other language is a section under it
        sections.append(f'<section lang="{lang}"><{h}>{title}</{h}><p>{text}</p>'
                        f'<p><a href="/">{escape(t.gettext("Back to the start page"))}</a></p>'
                        "</section>")
    return ('<!DOCTYPE html>\n<html lang="' + first + '">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="referrer" content="no-referrer">\n'
            '<title>Peluit</title>\n<link rel="stylesheet" href="/house/house.css">\n'
            '<link rel="stylesheet" href="/static/peluit.css">\n'
            '</head>\n<body>\n<main>\n' + "\n".join(sections) + '\n</main>\n</body>\n</html>\n'
            ).encode("utf-8")


_CSRF_MARK = "@@csrf-token-0f1e2d@@"
_CACHE_MAX = 64


def _page(request: Request, template: str, csrf: str, ctx: dict[str, Any]) -> str:
    lang = request.language
    base = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "csrf_token": csrf,
        "route_url": request.route_path,
        "static_url": lambda name: request.static_path(f"dropbox_app.reporter:static/{name}"),
    }
    return environment(lang).get_template(template).render(**base, **ctx)


def render(request: Request, template: str, status: int = 200, cache_key: Any = None,
           **ctx: Any) -> Response:
    """A page. With ``cache_key`` (which must capture everything the page shows besides the
    visitor's CSRF token), the page is rendered once per key and language and reused: the
    landing page is what every visitor loads first."""
    if cache_key is None:
        body = _page(request, template, get_csrf_token(request), ctx)
    else:
        cache = request.registry.setdefault("peluit.page_cache", {})
        key = (template, request.language, cache_key)
        page = cache.get(key)
        if page is None:
            page = _page(request, template, _CSRF_MARK, ctx)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[key] = page
        body = page.replace(_CSRF_MARK, get_csrf_token(request))
    return _respond(request, body, status)


def _respond(request: Request, body: str, status: int) -> Response:
    lang = request.language
    response = Response(body=body.encode("utf-8"), status=status,
                        content_type="text/html", charset="utf-8")
    if request.GET.get("lang") in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        # A session cookie: a dated one would be a trace, on the reporter's device, that this
        # browser visited the drop.
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="Strict", path="/")
    return response
