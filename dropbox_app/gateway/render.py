"""Gateway pages: Jinja2, one environment per language, gettext domain ``gateway``."""

from __future__ import annotations

import functools
from typing import Any

import jinja2
from pyramid.csrf import get_csrf_token
from pyramid.request import Request
from pyramid.response import Response

from peluit.ground.i18n import LANGUAGES, N_, translations
from peluit.ground.i18n import language as choose_language

from ..config import Config

LANG_COOKIE = "gw_lang"
PACKAGE = "dropbox_app.gateway"
# Words templates translate from data (roles, key states): marked here for extraction.
DYNAMIC = (N_("admin"), N_("auditor"), N_("pending"), N_("current"), N_("retired"))
DOMAIN = "gateway"


@functools.cache
def environment(language: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(PACKAGE, "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined)
    env.install_gettext_translations(translations(PACKAGE, DOMAIN, language), newstyle=True)
    env.filters["size"] = human_size
    return env


def human_size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def language(request: Request) -> str:
    """``?lang=``, then the cookie, then the deployment's default (peluit.ground.i18n)."""
    return choose_language(request, LANG_COOKIE, request.find_service(Config).default_language)


def gettext(request: Request, message: str, **kw: Any) -> str:
    text = translations(PACKAGE, DOMAIN, request.language).gettext(message)
    return text % kw if kw else text


def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
    lang = request.language
    session = request.gw_session
    base = {
        "request": request,
        "lang": lang,
        "other_lang": "en" if lang == "id" else "id",
        "csrf_token": get_csrf_token(request),
        "route_url": request.route_path,
        "user": session.user if session else None,
        "static_url": lambda name: request.static_path(f"{PACKAGE}:static/{name}"),
    }
    body = environment(lang).get_template(template).render(**base, **ctx)
    response = Response(body=body.encode("utf-8"), status=status,
                        content_type="text/html", charset="utf-8")
    if request.GET.get("lang") in LANGUAGES and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="Strict", path="/",
                            max_age=365 * 86400)
    return response
