from peluit.ground.i18n import translations
from workbench import catalogs


def test_both_catalogs_are_complete():
    assert catalogs.problems() == []


def test_indonesian_is_really_translated():
    t = translations("workbench", "workbench", "id")
    for msgid in ("Reports", "Wrong name or passphrase.", "Log out and lock"):
        assert t.gettext(msgid) != msgid
