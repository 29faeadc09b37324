"""The navigation bar as data, so other packages add their pages without editing templates.

``config.add_workbench_nav(route_name, label, permission, order)``; the label is an English
msgid, translated when the page renders; items show only to people whose role permits them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyramid.events import BeforeRender


@dataclass(frozen=True)
class NavItem:
    route_name: str
    label: str
    permission: str
    order: int


def add_workbench_nav(config: Any, route_name: str, label: str, permission: str,
                      order: int = 100) -> None:
    items = config.registry.workbench_nav
    items.append(NavItem(route_name, label, str(permission), order))
    items.sort(key=lambda i: (i.order, i.route_name))


def _on_before_render(event: Any) -> None:
    request = event.get("request")
    if request is None:
        return
    event["nav_items"] = [i for i in request.registry.workbench_nav
                          if request.identity is not None and request.has_permission(i.permission)]


def includeme(config: Any) -> None:
    config.registry.workbench_nav = []
    config.add_directive("add_workbench_nav", add_workbench_nav)
    config.add_subscriber(_on_before_render, BeforeRender)
