"""Routes of the vault's own screens; each view module registers its views in ``includeme``."""

from __future__ import annotations

from typing import Any

from peluit.ground.i18n import N_

from ..security import Permission


def includeme(config: Any) -> None:
    config.add_route("home", "/")
    config.add_route("login", "/login")
    config.add_route("logout", "/logout")
    config.add_route("report.list", "/reports")
    config.add_route("report.view", "/reports/{report_id}")
    config.add_route("reply.new", "/reports/{report_id}/questions")
    config.add_route("file.download", "/files/{submission_id}")
    config.add_route("gateway.log", "/gateway-log")
    config.include(".auth")
    config.include(".errors")
    config.include(".reports")
    config.include(".gateway")
    config.include(".authorship")
    config.include(".transfer")
    # N_ marks the labels for the catalogs; the navigation bar translates them per request.
    config.add_workbench_nav("report.list", N_("Reports"), Permission.VIEW_CONTENT, order=10)
    config.add_workbench_nav("gateway.log", N_("Gateway log"), Permission.VIEW_STATS, order=90)
