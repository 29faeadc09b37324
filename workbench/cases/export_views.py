"""The statistics export (per-case records, no content)."""

from __future__ import annotations

import json
from typing import Any

from pyramid.response import Response

from . import export
from .viewsupport import case_settings
from .viewsupport import clock as _clock


def stats_export(request: Any) -> Response:
    data = export.export(request.dbsession, request.identity.role,
                         case_settings(request).calendar, _clock(request).today())
    response = Response(body=json.dumps(data, ensure_ascii=False, sort_keys=True).encode(),
                        content_type="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="peluit-stats-export.json"'
    return response
