"""The case list, the deadlines page and the home page's inbox."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import sessionmaker

from policies import clocks

from . import access, inbox, retaliation
from .service import CaseService, Filters
from .viewsupport import case_search, case_service, case_settings
from .viewsupport import clock as _clock
from .viewsupport import content_key as _key
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels
from .viewsupport import user as _user
from .workflow import Channel, State


def _fresh(request: Any, svc: CaseService) -> None:
    """Open cases for newly imported reports (key holders only: it decrypts them)."""
    key = _key(request)
    if key is not None:
        retaliation.remember_box_key(request.dbsession, key)
        svc.sync_reports(_user(request))
        case_search(request).warm_up(request.find_service(sessionmaker), key)


def case_list(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    _fresh(request, svc)
    g = request.GET
    f = Filters(q=g.get("q", "")[:200], state=g.get("state", ""), category=g.get("category", ""),
                channel=g.get("channel", ""), deadline=g.get("deadline", ""),
                clock=g.get("clock", "") if g.get("clock", "") in clocks.BY_NAME else "",
                page=_int(g.get("page")))
    page = svc.list_cases(_user(request), f)
    params = {k: v for k, v in (("q", f.q), ("state", f.state), ("category", f.category),
                                ("channel", f.channel), ("deadline", f.deadline),
                                ("clock", f.clock)) if v}
    return {**_labels(request), "page": page, "filters": f, "query": urlencode(params),
            "clocks": svc.case_clocks(page.items),
            "channels": list(Channel), "states": list(State)}


def deadlines(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    user = _user(request)
    g = request.GET
    clock = g.get("clock", "") if g.get("clock", "") in clocks.BY_NAME else ""
    # The first 50 of each; the full lists are one click away (the list's deadline filter).
    overdue = svc.list_cases(user, Filters(deadline="overdue", clock=clock))
    soon = svc.list_cases(user, Filters(deadline="due_soon", clock=clock))
    return {**_labels(request), "overdue": overdue, "soon": soon, "clock": clock,
            "clocks": svc.case_clocks(overdue.items + soon.items),
            "counts": svc.deadline_counts()}


def home(request: Any) -> dict[str, Any]:
    """The home page's inbox (workbench/web/views/auth.py renders it)."""
    svc = case_service(request)
    _fresh(request, svc)
    cs = case_settings(request)
    box = inbox.build(request.dbsession, cs.calendar, _clock(request).today(),
                      cs.policy.carry_days)
    if request.identity is not None:  # the numbers of cases the member may not open go too
        out = access.excluded(request.dbsession, request.identity.key_id, request.identity.role)
        box.new = [c for c in box.new if c.id not in out]
        box.unread = [(c, n) for c, n in box.unread if c.id not in out]
        box.due_cases = [c for c in box.due_cases if c.id not in out]
        box.closed_new = [(c, n) for c, n in box.closed_new if c.id not in out]
    return {**_labels(request), **inbox.as_context(box)}
