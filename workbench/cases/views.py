"""Case management pages: where each page lives, and the pieces every page shares at start.

Thin views, one module per group of pages: ``list_views`` (list, deadlines, home inbox),
``intake_views`` (an off-line complaint), ``case_views`` (a case's page and every POST on it),
``register_views`` (file loans), ``retention_views``, ``retaliation_views``, ``file_views``
(previews, safe copies), ``forward_views`` (forwarding, agencies), ``redaction_views``,
``export_views``; their helpers in ``viewsupport``, their error messages in ``messages``. This
module registers their routes (in an order that matters: the catch-all action route last), the
error view, the index lock and the registry-wide pieces (``configure``).

Pyramid permissions gate each page coarsely (workbench.web.security); the service checks the
finer rule again (only a lead decides, a compliance officer never opens content), so a view
that forgot a check still cannot do what the role may not."""

from __future__ import annotations

from typing import Any

from workbench.i18n import N_
from workbench.web.security import Permission as WebPermission
from workbench.web.security import SessionStore

from . import access, redaction_views
from . import retention as case_retention
from .case_views import case_action, case_view
from .export_views import stats_export
from .file_views import file_preview, file_safe_copy, file_safe_copy_make
from .forward_views import agencies, agency_add, forward_file, forward_submit
from .intake_views import new_form, new_submit
from .list_views import case_list, deadlines, home
from .messages import message
from .register_views import loan_return, register
from .retaliation_views import retaliation_handle, retaliation_list
from .retention_views import retention_dispose, retention_list
from .search import CaseSearch
from .settings import CaseSettings
from .workflow import DEFAULT_CATEGORIES, Forbidden, WorkflowError


def drop_index_when_locked(event: Any) -> None:
    """The search index is decrypted content: when no session holds the vault key any more
    (everyone logged out or idled out), forget it; the next unlock builds it again."""
    search = event.request.find_service(CaseSearch)
    if search.index.empty:
        return
    if not event.request.find_service(SessionStore).any_holds_vault_key() \
            and not search.warming:
        search.clear()


def workflow_error(exc: WorkflowError, request: Any) -> dict[str, Any]:
    request.response.status_int = 403 if isinstance(exc, (Forbidden, access.Excluded)) else (
        404 if exc.code == "not_found" else 400)
    back = None
    if isinstance(exc, access.Excluded):
        back = None  # no way "back to the case": the member may not open it
    elif "id" in (request.matchdict or {}):
        back = request.route_url("case.view", id=request.matchdict["id"])
    return {"message": message(request, exc.code),
            "back": back}


def includeme(config: Any) -> None:
    r = config.add_route
    r("case.list", "/cases")
    r("case.deadlines", "/cases/deadlines")
    r("case.new", "/cases/new")
    r("case.register", "/cases/register")
    r("case.agencies", "/cases/agencies")
    r("case.export", "/cases/export.json")
    r("case.retaliation", "/cases/retaliation")
    r("case.retention", "/cases/retention")
    r("case.retaliation.handle", "/cases/retaliation/{flag:\\d+}/handled")
    r("case.loan.return", "/cases/loans/{loan:\\d+}/return")
    r("case.view", "/cases/{id:\\d+}")
    r("case.preview", "/cases/{id:\\d+}/files/{submission_id:[0-9a-f]{32}}/preview")
    r("case.safecopy", "/cases/{id:\\d+}/files/{submission_id:[0-9a-f]{32}}/safe-copy")
    redaction_views.routes(config)
    r("case.forward", "/cases/{id:\\d+}/forward")
    r("case.forward.file", "/cases/{id:\\d+}/forward/{reference:[0-9a-f]{16}}")
    r("case.action", "/cases/{id:\\d+}/{action:[a-z]+}")

    tpl = "workbench.cases:templates/"
    v = config.add_view
    stats, content, decide = (WebPermission.VIEW_STATS, WebPermission.VIEW_CONTENT,
                              WebPermission.DECIDE)
    v(case_list, route_name="case.list", request_method="GET", renderer=tpl + "list.jinja2",
      permission=stats)
    v(deadlines, route_name="case.deadlines", request_method="GET",
      renderer=tpl + "deadlines.jinja2", permission=stats)
    v(new_form, route_name="case.new", request_method="GET", renderer=tpl + "new.jinja2",
      permission=content)
    v(new_submit, route_name="case.new", request_method="POST", renderer=tpl + "new.jinja2",
      permission=content)
    v(case_view, route_name="case.view", request_method="GET", renderer=tpl + "case.jinja2",
      permission=content)
    v(case_action, route_name="case.action", request_method="POST", permission=content)
    v(loan_return, route_name="case.loan.return", request_method="POST", permission=content)
    v(register, route_name="case.register", request_method="GET",
      renderer=tpl + "register.jinja2", permission=stats)
    v(file_preview, route_name="case.preview", request_method="GET", permission=content)
    v(file_safe_copy_make, route_name="case.safecopy", request_method="POST", permission=content)
    v(file_safe_copy, route_name="case.safecopy", request_method="GET", permission=content)
    redaction_views.views(config)
    v(forward_submit, route_name="case.forward", request_method="POST", permission=content)
    v(forward_file, route_name="case.forward.file", request_method="GET", permission=content)
    v(agencies, route_name="case.agencies", request_method="GET",
      renderer=tpl + "agencies.jinja2", permission=content)
    v(agency_add, route_name="case.agencies", request_method="POST",
      renderer=tpl + "agencies.jinja2", permission=decide)
    v(stats_export, route_name="case.export", request_method="GET", permission=stats)
    v(retention_list, route_name="case.retention", request_method="GET",
      renderer=tpl + "retention.jinja2", permission=stats)
    v(retention_dispose, route_name="case.retention", request_method="POST", permission=decide)
    v(retaliation_list, route_name="case.retaliation", request_method="GET",
      renderer=tpl + "retaliation.jinja2", permission=stats)
    v(retaliation_handle, route_name="case.retaliation.handle", request_method="POST",
      permission=stats)
    from pyramid.events import ContextFound

    config.add_subscriber(access.guard, ContextFound)
    config.add_exception_view(workflow_error, context=WorkflowError,
                              renderer=tpl + "error.jinja2")
    config.add_workbench_nav("case.list", N_("Cases"), stats, order=5)
    config.add_workbench_nav("case.deadlines", N_("Deadlines"), stats, order=6)
    config.add_workbench_nav("case.retaliation", N_("Retaliation"), stats, order=6)
    config.add_workbench_nav("case.new", N_("New complaint"), content, order=7)
    config.add_workbench_nav("case.register", N_("File register"), stats, order=8)
    config.add_workbench_nav("case.retention", N_("Retention"), stats, order=8)
    config.add_workbench_nav("case.agencies", N_("Agencies"), content, order=9)


def configure(config: Any) -> None:
    """Registry-wide pieces: the search index and list catalog of this process, the working-day
    calendar and deadlines (``VAULT/cases.toml``, or the ``workbench.cases.policy_file``
    setting: a ``[calendar]`` table as policies/calendar.py reads it and an optional
    ``[cases] categories`` table of token = label), the clock. Open cases' due dates are
    recomputed at start, so an amended holiday decree moves them."""
    from pathlib import Path

    from sqlalchemy.orm import Session

    from peluit.ground.clock import Clock
    from policies.calendar import DeadlinePolicy, WorkingCalendar, load_config

    from .deadlines import load_categories, recompute_deadlines

    settings = config.registry.settings
    default = Path(settings["workbench.vault"]) / "cases.toml"
    policy_file = settings.get("workbench.cases.policy_file") or (
        str(default) if default.is_file() else None)
    policy, overrides = load_config(policy_file) if policy_file else (DeadlinePolicy(), ())
    calendar = WorkingCalendar(overrides)
    # The capabilities the case pages use are services, found by class (pyramid_services):
    # request.find_service(CaseSettings); tests swap them with peluit.ground.services.
    config.register_service(CaseSearch(), CaseSearch)
    config.register_service(Clock(settings.get("workbench.cases.zone", "Asia/Jakarta")), Clock)
    config.register_service(CaseSettings(
        calendar=calendar, policy=policy,
        categories=(load_categories(policy_file) if policy_file else dict(DEFAULT_CATEGORIES)),
        retention_years=case_retention.load_years(policy_file)), CaseSettings)
    config.registry.workbench_home = home
    from workbench import db as _db

    engine = _db.make_engine(settings["workbench.vault"])
    try:
        _db.create_schema(engine)
        with Session(engine) as session, session.begin():
            recompute_deadlines(session, calendar, policy)
            # Retaliation reports imported while the workbench was stopped are flagged now.
            from .retaliation import sync as sync_retaliation

            sync_retaliation(session, calendar, policy)
    finally:
        engine.dispose()
