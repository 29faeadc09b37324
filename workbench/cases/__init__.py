"""Case management on the workbench: the inspectorate's process from intake to closing.

``workflow`` (states, decisions, roles), ``service`` (every step, roles enforced, audit-logged),
``models`` (the case tables), ``catalog`` and ``search`` (the plain metadata and the filters),
``index`` and ``text`` (in-memory full-text search), ``duplicates`` (keyed bottom-k sketches),
``deadlines`` and ``retaliation`` (the clocks), ``forwarding`` (OpenPGP packages to outside
agencies), ``preview`` and ``scrub`` (sandboxed previews, metadata-free copies), ``export``
(per-case records for statistics), ``revision`` (the list catalog's revision counter),
``views`` (the local web UI: routes, and one ``*_views`` module per group of pages)."""

from typing import Any


def includeme(config: Any) -> None:
    """Plugged into the workbench web app by ``workbench.web.make_app``."""
    from . import views

    views.configure(config)
    config.include(views.includeme)
    config.include("workbench.cases.history")  # request.case_history(case), the case page's
    config.add_subscriber(views.drop_index_when_locked, "pyramid.events.NewRequest")
