from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]


def _msgids():
    found = set()
    for _fn, _line, msg, _c, _ctx in extract_from_dir(
            str(ROOT / "policies"), method_map=[("**.py", "python")],
            keywords={"_": None, "_n": None, "gettext": None}):
        if isinstance(msg, str):
            found.add(msg)
    return found


@pytest.mark.parametrize("lang", ["id", "en"])
def test_catalog_complete(lang):
    path = ROOT / "policies" / "locale" / lang / "LC_MESSAGES" / "policies.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=lang)
    entries = {m.id: m for m in catalog if m.id}
    used = _msgids()
    assert used, "extraction found nothing: the test would prove nothing"
    assert used <= set(entries), sorted(used - set(entries))
    for msgid in used:
        assert entries[msgid].string and not entries[msgid].fuzzy, msgid
