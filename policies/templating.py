"""Jinja templates of the reports ``policies`` writes as HTML files (``templates/``), in the
report's language, every value autoescaped."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _environment(language: str) -> Any:
    import jinja2

    from peluit.ground.i18n import translations

    env = jinja2.Environment(loader=jinja2.PackageLoader("policies", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations("policies", "policies", language),
                                     newstyle=False)  # plain strings, escaped on output
    return env


def render(name: str, language: str, **context: Any) -> str:
    return _environment(language).get_template(name).render(language=language, **context)
