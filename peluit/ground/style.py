"""The house style sheet (static/house.css), one file served by every app of the house.

Each app includes this module (``config.include("peluit.ground.style")``) and links
``HOUSE_CSS`` before its own sheet, so the reporter app, the gateway and the workbench share one
type, one palette and one set of components. It is a plain static file under the app's own
origin: nothing is loaded from elsewhere (the apps' CSP allows ``style-src 'self'`` only)."""

from __future__ import annotations

from typing import Any

STATIC = "peluit.ground:static"
HOUSE_CSS = f"{STATIC}/house.css"
PREFIX = "house"  # served at /house/house.css by each app


def includeme(config: Any) -> None:
    config.add_static_view(PREFIX, STATIC, cache_max_age=0)
