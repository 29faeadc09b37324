"""The register of physical files: loans and returns."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther

from .viewsupport import case_service
from .viewsupport import clock as _clock
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels
from .viewsupport import user as _user


def loan_return(request: Any) -> Any:
    svc = case_service(request)
    svc.return_file(_user(request), _int(request.matchdict["loan"], 0))
    return HTTPSeeOther(request.route_url("case.register"))


def register(request: Any) -> dict[str, Any]:
    svc = case_service(request)
    only_out = request.GET.get("out") == "1"
    return {**_labels(request), "loans": svc.file_register(_user(request), only_out),
            "only_out": only_out, "today": _clock(request).today()}
