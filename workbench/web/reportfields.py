"""How a report's sealed form reads on the report page: its fields in 4W+1H order (what, who,
where, when, how, then the evidence), each under a label in the page's language, and the values
that are codes (category, language) as words, never the form's keys or raw tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from peluit.ground.i18n import N_

#: (field, label msgid), in the order a reader follows the report.
ORDER = (
    ("what", N_("What happened")),
    ("who_name", N_("Who (name)")), ("who_position", N_("Who (position)")),
    ("who_unit", N_("Who (unit)")),
    ("where", N_("Where")), ("when", N_("When")), ("how", N_("How")),
    ("evidence", N_("Evidence")),
    ("text", N_("Message")),
    ("category", N_("Category")),
    ("concerns", N_("Concerns the inspectorate itself")),
    ("language", N_("Language of the report")),
)
#: Fields never shown as text (a key, a pointer the thread shows by its place).
HIDDEN = frozenset({"author_key", "in_reply_to"})
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}


def fields(content: Mapping[str, Any], categories: Mapping[str, str],
           gettext: Any) -> list[tuple[str, str, str]]:
    """(field, label, value) of the non-empty fields, labels and coded values translated;
    a field this page does not know (a newer reporter app) comes last under its own name."""
    out = []
    known = {k for k, _label in ORDER}
    for key, label in ORDER:
        value = content.get(key)
        if not value or not isinstance(value, str):
            continue
        if key == "category":
            value = gettext(categories.get(value, value))
        elif key == "concerns":
            value = gettext(N_("yes") if value == "inspectorate" else N_("no"))
        elif key == "language":
            value = LANGUAGE_NAMES.get(value, value)
        out.append((key, gettext(label), value))
    for key, value in content.items():
        if key not in known and key not in HIDDEN and value and isinstance(value, str):
            out.append((key, key, value))
    return out
