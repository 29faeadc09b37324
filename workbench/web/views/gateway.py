"""The gateway's admin log as the vault keeps it (workbench/gatewaylog.py). Every role may read
it: it names staff and keys, never a reporter, and a compliance officer checks logs."""

from __future__ import annotations

from typing import Any

from ... import gatewaylog
from ..security import Permission

#: Entries on the page, newest first (``peluit workbench gateway-log show --last N`` for more).
SHOWN = 200


def gateway_log(request: Any) -> dict[str, Any]:
    session = request.dbsession
    return {"entries": gatewaylog.kept(session, SHOWN)[::-1],
            "problems": gatewaylog.last_problems(session)}


def includeme(config: Any) -> None:
    config.add_view(gateway_log, route_name="gateway.log", request_method="GET",
                    renderer="gateway_log.jinja2", permission=Permission.VIEW_STATS)
