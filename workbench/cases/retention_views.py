"""Retention and disposal: closed cases past the retention period, disposed of by a lead."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from . import retention as case_retention
from .viewsupport import case_search, case_service, case_settings
from .viewsupport import clock as _clock
from .viewsupport import content_key as _key
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels
from .viewsupport import user as _user
from .workflow import Permission, WorkflowError, allowed, require


def retention_list(request: Any) -> dict[str, Any]:
    """Closed cases past the retention period (plain metadata only), for a lead to dispose of."""
    today, years = _clock(request).today(), case_settings(request).retention_years
    return {**_labels(request), "due": case_retention.due(request.dbsession, today, years),
            "years": years, "today": today,
            "can_dispose": allowed(request.identity.role, Permission.DECIDE)
            and _key(request) is not None}


def retention_dispose(request: Any) -> Any:
    """Dispose of the ticked cases (a lead with the vault key); each is logged."""
    from workbench.vault import VaultError

    user = _user(request)
    require(user.role, Permission.DECIDE)
    if _key(request) is None:
        raise WorkflowError("locked", "disposal needs the vault key")
    if request.POST.get("confirm") != "1":
        raise WorkflowError("confirm_disposal", "tick the confirmation")
    wanted = {_int(v, 0) for v in request.POST.getall("case")}
    today, years = _clock(request).today(), case_settings(request).retention_years
    svc = case_service(request)
    try:
        for d in case_retention.due(request.dbsession, today, years):
            if d.case.id in wanted:
                case_retention.dispose(request.dbsession, user, d.case, request.registry.settings[
                    "workbench.vault"], today, years, svc._at(), case_search(request))
    except (OSError, VaultError):
        raise WorkflowError("bad_input", "disposal failed") from None
    return HTTPSeeOther(request.route_url("case.retention"))
