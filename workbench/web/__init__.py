"""The workbench's local web UI (Pyramid). ``make_app`` reads like a table of contents.

It refuses to build while a non-loopback network interface is up, unless the demo switch is
given; then every page carries the NOT AIR-GAPPED banner (and every response a header saying so).
Serve it on loopback only (``workbench.serve``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from pyramid.config import Configurator
from pyramid.events import BeforeRender
from pyramid.response import Response

from .. import airgap, vault
from .guard import Guard
from .i18n import gettext_for
from .security import SessionStore


def _air_gap_tween_factory(handler: Any, registry: Any) -> Any:
    """Started air-gapped, the workbench keeps checking: if an interface comes up while it runs
    (a cable, a USB modem), it drops every session (and with them the keys) and refuses every
    request until it is restarted on an air-gapped machine. Reading sysfs costs microseconds."""

    def tween(request: Any) -> Any:
        watch = request.find_service(airgap.AirGapWatch)
        if watch.newly_broken():
            request.find_service(SessionStore).drop_all()
        if watch.broken:
            text = gettext_for(request).gettext(
                "The workbench locked itself: a network interface came up. Disconnect it and "
                "restart the workbench.")
            return Response(text + "\n", status=503, content_type="text/plain",
                            charset="utf-8", headers={"Cache-Control": "no-store"})
        response = handler(request)
        if not watch.air_gapped:
            response.headers["X-Peluit-Air-Gap"] = airgap.BANNER
        return response
    return tween


def _banner(event: Any) -> None:
    request = event.get("request")
    if request is not None:
        event["not_air_gapped"] = not request.find_service(airgap.AirGapWatch).air_gapped
        event["air_gap_banner"] = airgap.BANNER


def make_app(vault_path: Path | str, *, demo_not_air_gapped: bool = False,
             settings: dict[str, Any] | None = None, sysfs: Path = airgap.SYS_CLASS_NET) -> Any:
    air_gapped = airgap.check(demo_not_air_gapped, sysfs)  # raises NotAirGappedError
    if not vault.is_vault(Path(vault_path)):
        raise vault.VaultError(f"{vault_path} is not a Peluit workbench vault")
    settings = {**(settings or {}), "workbench.vault": str(vault_path)}
    with Configurator(settings=settings) as config:
        # Capabilities are services found by class (request.find_service), as on the server.
        config.include("pyramid_services")
        config.register_service(airgap.AirGapWatch(air_gapped, sysfs), airgap.AirGapWatch)
        config.include("pyramid_jinja2")
        config.add_jinja2_renderer(".jinja2")
        config.add_jinja2_search_path("workbench.web:templates", name=".jinja2")
        config.include(".forms")      # form bodies parsed in memory: nothing spooled to disk
        config.include(".security")   # sessions, roles, CSRF on every unsafe request
        config.include(".database")   # per-request DB session; vault key tween above pyramid_tm
        config.include(".headers")    # CSP, no-store, no referrer, no framing
        config.include(".i18n")       # id by default, en on request
        config.include(".nav")        # the navigation bar other packages extend
        config.add_tween("workbench.web._air_gap_tween_factory")
        config.add_subscriber(_banner, BeforeRender)
        config.add_static_view("static", "workbench.web:static", cache_max_age=0)
        config.include("peluit.ground.style")  # the house style sheet, shared by every app
        config.include(".views")
        # Case management (issue 5) plugs in here when its package exists.
        if importlib.util.find_spec("workbench.cases") is not None:
            config.include("workbench.cases")
            config.include("workbench.compliance")  # policy and statistics pages (policies/)
        return Guard(config.make_wsgi_app())
