"""Services (pyramid_services) of a built app, reached without a request: server set-up,
commands and tests. Views use ``request.find_service(<class>)``; each app registers its
capabilities by class in its factory (dropbox_app/configurator.py, workbench/web/__init__.py)."""

from __future__ import annotations

from typing import Any


def service(app: Any, cls: type) -> Any:
    """A built app's singleton service of class ``cls``, or None when the app has none."""
    from pyramid_services import find_service_factory

    try:
        factory = find_service_factory(app, cls)
    except LookupError:
        return None
    return factory(None, None)


def replace_service(app: Any, obj: Any, cls: type) -> None:
    """Swap a built app's singleton service of class ``cls`` for ``obj`` (tests: a fixed clock,
    a gate that records what waits on it). Requests that start afterwards find the new one."""
    from pyramid_services import IServiceRegistry, ProxyFactory, SingletonServiceWrapper

    app.registry.getUtility(IServiceRegistry).register_factory(
        ProxyFactory(SingletonServiceWrapper(obj)), cls)
