"""Language for workbench pages: Indonesian by default, English by an explicit choice
(``?lang=en``, remembered in a cookie). Templates get ``_`` and ``ngettext``."""

from __future__ import annotations

from typing import Any

from pyramid.events import BeforeRender, NewRequest

from peluit.ground.i18n import DEFAULT_LANGUAGE, LANGUAGES, translations
from peluit.ground.i18n import language as choose_language

COOKIE = "wb_lang"


def language(request: Any) -> str:
    return choose_language(request, COOKIE, DEFAULT_LANGUAGE)


def _on_new_request(event: Any) -> None:
    request = event.request
    lang = language(request)
    request.workbench_language = lang
    if request.GET.get("lang") in LANGUAGES:
        def remember(_request: Any, response: Any) -> None:
            response.set_cookie(COOKIE, lang, httponly=True, samesite="Strict", path="/")
        request.add_response_callback(remember)


def gettext_for(request: Any) -> Any:
    return translations("workbench", "workbench", getattr(request, "workbench_language",
                                                          DEFAULT_LANGUAGE))


def _on_before_render(event: Any) -> None:
    request = event.get("request")
    if request is None:
        return
    t = gettext_for(request)
    event["_"] = t.gettext
    event["ngettext"] = t.ngettext
    event["language"] = request.workbench_language


def includeme(config: Any) -> None:
    config.add_subscriber(_on_new_request, NewRequest)
    config.add_subscriber(_on_before_render, BeforeRender)
    config.add_request_method(lambda r: gettext_for(r).gettext, "gettext", reify=True)
