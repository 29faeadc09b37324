"""Keep the workbench catalogs in step with the code: ``python -m workbench.catalogs update``
adds new msgids to both ``.po`` files (English: msgstr = msgid; Indonesian: empty, to translate)
and drops unused ones; ``check`` exits non-zero when a catalog misses or leaves out anything."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent
DOMAIN = "workbench"
LANGUAGES = ("id", "en")
METHOD_MAP = [("**/templates/**.jinja2", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.jinja2": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def msgids() -> list[str]:
    found: dict[str, None] = {}
    for _fn, _line, msg, _comments, _ctx in extract_from_dir(
            str(ROOT), METHOD_MAP, keywords=KEYWORDS, options_map=OPTIONS):
        if isinstance(msg, tuple):
            msg = msg[0]
        found.setdefault(msg, None)
    return sorted(found)


def po_path(lang: str) -> Path:
    return ROOT / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=lang, domain=DOMAIN, project="peluit-workbench")
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def update() -> None:
    ids = msgids()
    for lang in LANGUAGES:
        old = load(lang)
        new = Catalog(locale=lang, domain=DOMAIN, project="peluit-workbench", fuzzy=False,
                      creation_date=old.creation_date)  # no churn in the header
        for msgid in ids:
            prev = old.get(msgid)
            text = prev.string if prev is not None and prev.string else ""
            if lang == "en" and not text:
                text = msgid
            new.add(msgid, text)
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, new, width=100, omit_header=False, sort_output=True)


def problems() -> list[str]:
    ids = set(msgids())
    out = []
    for lang in LANGUAGES:
        cat = load(lang)
        have = {m.id: m for m in cat if m.id}
        out += [f"{lang}: missing {m!r}" for m in sorted(ids - set(have))]
        out += [f"{lang}: untranslated {m!r}" for m in sorted(ids & set(have))
                if not have[m].string or have[m].fuzzy]
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        update()
        return 0
    found = problems()
    for p in found:
        print(p)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
