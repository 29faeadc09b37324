"""Gettext catalogs for every Peluit part, loaded straight from their ``.po`` files, and the
house's one way to choose a page's language.

Each part keeps ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po`` (Babel format), maintained
with ``pybabel`` (``make catalogs``; see ``babel.cfg``). Compiling them in memory at start-up
means there are no binary ``.mo`` files to keep in step with the sources, and one test holds
every catalog to "complete, no fuzzy entries" in both languages."""

from __future__ import annotations

import functools
import gettext
import io
from importlib import resources
from typing import Any

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

# (package, domain) of every catalog in the house. Each keeps its pybabel mapping in
# ``<package>/locale/babel.cfg``; `make catalogs` and the completeness test walk this list.
CATALOGS = (
    ("peluit", "peluit"),                    # the CLI's error path (peluit/ground/errors.py)
    ("dropbox_app", "dropbox_app"),          # the reporter app
    ("dropbox_app.gateway", "gateway"),
    ("policies", "policies"),
    ("workbench", "workbench"),
)
# Marker keywords beyond Babel's defaults (``_``, ``gettext``, ``ngettext``, ``N_``, …).
EXTRA_KEYWORDS = ("_n",)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it where it is written (it is
    translated where it is shown)."""
    return message


@functools.cache
def translations(package: str, domain: str, language: str) -> gettext.NullTranslations:
    """The catalog of ``domain`` in ``package`` for ``language``; English source text when the
    language has no catalog (English msgids are the source language)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    path = resources.files(package).joinpath(f"locale/{language}/LC_MESSAGES/{domain}.po")
    if not path.is_file():
        return gettext.NullTranslations()
    # Babel costs a fifth of a second to import: only when a catalog is read, so that modules
    # that only mark their messages (N_) keep `peluit --help` quick.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f, locale=language, domain=domain)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def negotiate(requested: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick a supported language from an explicit choice (a link or a form field), else the
    deployment default. Accept-Language is deliberately ignored: Tor Browser sends en-US to
    everyone, and honouring it would make the default language depend on nothing useful."""
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
    return default


def language(request: Any, cookie: str, default: str = DEFAULT_LANGUAGE) -> str:
    """A page's language: an explicit ``?lang=`` wins (the app remembers it in ``cookie``),
    then that cookie, then the deployment's default. ``request`` is anything with ``GET`` and
    ``cookies`` mappings (a WebOb request)."""
    asked = request.GET.get("lang")
    if asked in LANGUAGES:
        return asked
    return negotiate(request.cookies.get(cookie), negotiate(default))
