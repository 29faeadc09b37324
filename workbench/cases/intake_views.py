"""Intake of an off-line complaint (letter, walk-in, phone...), typed in by an auditor."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from .messages import message
from .service import CONTENT_FIELDS
from .viewsupport import case_service
from .viewsupport import clock as _clock
from .viewsupport import date_param as _date
from .viewsupport import labels as _labels
from .viewsupport import user as _user
from .workflow import OFFLINE_CHANNELS, Forbidden, WorkflowError


def new_form(request: Any, error: str | None = None, values: Any = None) -> dict[str, Any]:
    return {**_labels(request), "error": error, "values": values or {},
            "channels": OFFLINE_CHANNELS, "fields": CONTENT_FIELDS,
            "today": _clock(request).today().isoformat()}


def new_submit(request: Any) -> Any:
    svc = case_service(request)
    p = request.form.as_dict()
    try:
        case = svc.intake_offline(_user(request), p.get("channel", ""), _date(p.get("received")),
                                  {k: p.get(k, "") for k in (*CONTENT_FIELDS, "category")})
    except Forbidden:
        raise
    except WorkflowError as exc:
        request.response.status_int = 400
        return new_form(request, message(request, exc.code), p)
    return HTTPSeeOther(request.route_url("case.view", id=case.id))
