"""Every msgid of the gateway catalog: extracted from the templates, plus the messages that
Python code passes to templates (refusals, admin errors, roles and key states). The catalog
test holds both ``.po`` files to exactly this set."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def python_msgids() -> list[str]:
    from . import accounts, replies, serverkey, views

    return [
        replies.FOREIGN, replies.UNTRUSTED, replies.REPLAYED, replies.DAMAGED, replies.REFUSED,
        replies.NO_REPORT, replies.DUPLICATE, replies.NOT_SEALED,
        accounts.BAD_NAME, accounts.BAD_ROLE, accounts.TAKEN, accounts.NO_USER,
        accounts.OWN_ACCOUNT, serverkey.ROTATION_WAITING, views.BAD_CARD, views.NOT_COMPARED,
        "admin", "auditor", "pending", "current", "retired",
    ]


def template_msgids() -> list[str]:
    from babel.messages.extract import extract_from_dir

    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
    found = extract_from_dir(str(HERE), method_map=[("templates/**.jinja2",
                                                     "jinja2.ext:babel_extract")],
                             options_map={"templates/**.jinja2": options})
    return [msg for _f, _l, msg, _c, _ctx in found]


def all_msgids() -> list[str]:
    out: list[str] = []
    for m in template_msgids() + python_msgids():
        if m not in out:
            out.append(m)
    return out
