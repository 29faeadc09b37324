"""Both catalogs are complete: every message in the templates has a non-fuzzy translation in
Indonesian and English with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PKG = ROOT / "dropbox_app"


def _template_messages() -> set[str]:
    method_map = [("reporter/templates/**.jinja2", "jinja2")]
    options = {"reporter/templates/**.jinja2": {"extensions": "jinja2.ext.i18n",
                                                "trimmed": "true"}}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(PKG), method_map, options_map=options):
        found.add(message if isinstance(message, str) else message[0])
    return found


MESSAGES = _template_messages()


def test_templates_have_messages():
    assert len(MESSAGES) > 150


@pytest.mark.parametrize("lang", ["id", "en"])
def test_catalog_is_complete(lang):
    with (PKG / "locale" / lang / "LC_MESSAGES" / "dropbox_app.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    entries = {m.id: m for m in catalog if m.id}
    missing = MESSAGES - set(entries)
    assert not missing, f"untranslated in {lang}: {sorted(missing)[:5]}"
    for msgid in MESSAGES:
        m = entries[msgid]
        assert m.string and not m.fuzzy, msgid
        assert re.findall(r"%\(\w+\)s", m.string) == re.findall(r"%\(\w+\)s", msgid), msgid
    if lang == "id":
        same = [k for k in MESSAGES if entries[k].string == k and len(k) > 12]
        assert not same, f"left in English: {same[:5]}"
