"""The one catalog completeness test: every catalog of the house (peluit.ground.i18n.CATALOGS),
extracted with the same pybabel mapping `make catalogs` uses (``<package>/locale/babel.cfg``),
holds exactly the messages the code and templates use, in Indonesian and English, translated,
nothing fuzzy, with the same placeholders as the msgid."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from peluit.ground.i18n import CATALOGS, EXTRA_KEYWORDS, LANGUAGES, translations

KEYWORDS = {**DEFAULT_KEYWORDS, **dict.fromkeys(EXTRA_KEYWORDS)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w*\}")
# msgids that are Indonesian already (the language switch names itself).
SAME_IN_INDONESIAN = {"Bahasa Indonesia"}
# The fewest messages extraction must find in a catalog (fewer: the extraction is broken). The
# CLI's own catalog holds its error path's messages (peluit/ground/errors.py) and the demo's.
AT_LEAST = {"peluit": 1}


def _root(package: str) -> Path:
    return Path(str(resources.files(package)))


def used_msgids(package: str) -> set[str]:
    root = _root(package)
    with (root / "locale" / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = set()
    for _file, _line, msg, _comments, _ctx in extract_from_dir(
            str(root), method_map, options_map, keywords=KEYWORDS):
        found.add(msg if isinstance(msg, str) else msg[0])
    return found


def catalog(package: str, domain: str, lang: str) -> dict:
    with (_root(package) / "locale" / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
        cat = read_po(f, locale=lang, domain=domain)
    return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in cat if m.id}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("package", "domain"), CATALOGS)
def test_catalog_is_complete_and_exact(package, domain, lang):
    used = used_msgids(package)
    assert len(used) >= AT_LEAST.get(domain, 50), \
        "extraction found (almost) nothing: the test would prove nothing"
    entries = catalog(package, domain, lang)
    assert not used - set(entries), f"missing in {lang}: {sorted(used - set(entries))[:5]}"
    assert not set(entries) - used, f"stale in {lang}: {sorted(set(entries) - used)[:5]}"
    for msgid, m in entries.items():
        text = m.string if isinstance(m.string, str) else m.string[0]
        assert text and not m.fuzzy, f"untranslated or fuzzy in {lang}: {msgid!r}"
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
    if lang == "id":
        same = [k for k, m in entries.items()
                if m.string == k and len(k) > 12 and k not in SAME_IN_INDONESIAN]
        assert not same, f"left in English: {same[:5]}"


def test_the_test_sees_a_missing_message(tmp_path):
    """A msgid the code uses but the catalog lacks is caught (the check can fail)."""
    entries = catalog("workbench", "workbench", "id")
    used = used_msgids("workbench")
    some = sorted(used)[0]
    del entries[some]
    assert used - set(entries) == {some}


@pytest.mark.parametrize(("package", "domain", "msgid"), [
    ("workbench", "workbench", "Log out and lock"),
    ("dropbox_app.gateway", "gateway", "Sign in"),
    ("dropbox_app.gateway", "gateway", "The bundle was made for another Peluit server."),
    ("policies", "policies", "Deployment check"),
])
def test_indonesian_is_really_translated(package, domain, msgid):
    assert translations(package, domain, "id").gettext(msgid) != msgid
    assert translations(package, domain, "en").gettext(msgid) == msgid
