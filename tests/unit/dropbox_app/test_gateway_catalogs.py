"""The gateway's gettext catalogs: both languages complete, nothing fuzzy, nothing stale, and
the placeholders of every translation the same as its msgid's."""

import re
from importlib import resources

import pytest
from babel.messages.pofile import read_po

from dropbox_app.gateway.messages import all_msgids
from peluit.ground.i18n import translations

_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_catalog_complete_and_exact(lang):
    path = resources.files("dropbox_app.gateway").joinpath(
        f"locale/{lang}/LC_MESSAGES/gateway.po")
    with path.open("rb") as f:
        catalog = read_po(f)
    entries = {m.id: m for m in catalog if m.id}
    wanted = all_msgids()
    assert sorted(entries) == sorted(wanted)
    for msgid in wanted:
        m = entries[msgid]
        assert m.string and not m.fuzzy, msgid
        assert sorted(_PLACEHOLDER.findall(m.string)) == sorted(_PLACEHOLDER.findall(msgid))


def test_indonesian_is_really_translated():
    t = translations("dropbox_app.gateway", "gateway", "id")
    assert t.gettext("Sign in") == "Masuk"
    assert t.gettext("The bundle was made for another Peluit server.") != \
        "The bundle was made for another Peluit server."
