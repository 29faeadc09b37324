"""Retaliation flags: the list (no content: the compliance officer sees it) and handling one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from . import retaliation
from .viewsupport import case_settings
from .viewsupport import clock as _clock
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels


def retaliation_list(request: Any) -> dict[str, Any]:
    """Every retaliation flag: case number, day flagged, due day, status. No content, so the
    compliance officer sees it too; new flags are picked up here (plain columns only)."""
    cs = case_settings(request)
    retaliation.sync(request.dbsession, cs.calendar, cs.policy)
    rows = retaliation.flags(request.dbsession, request.identity.role, _clock(request).today())
    return {**_labels(request), "rows": rows}


def retaliation_handle(request: Any) -> Any:
    clock = _clock(request)
    flag = retaliation.handle(request.dbsession, request.identity.role, request.identity.key_id,
                              _int(request.matchdict["flag"], 0), request.form.text("reason"),
                              clock.today(),
                              at=clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"))
    back = request.form.text("back") == "case"
    return HTTPSeeOther(request.route_url("case.view", id=flag.case_id) if back
                        else request.route_url("case.retaliation"))
