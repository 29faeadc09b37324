"""The compliance officer's pages on the workbench: the signed protection policy, and the
statistics report of policies/statistics.py computed from the cases' own export (counts and
rates only, small counts hidden). Both need only VIEW_STATS and read no content.

The policy shown is the signed one in ``VAULT/policy`` (the directory the server holds, copied
over on removable media, or installed with ``peluit policy install VAULT/policy`` and signed
here); an unsigned or altered policy is not shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from markupsafe import Markup
from pyramid.response import Response

from policies import statistics
from policies.documents import LandingPolicy
from workbench.cases.viewsupport import case_settings
from workbench.cases.viewsupport import clock as _clock
from workbench.i18n import N_
from workbench.web.security import Permission as WebPermission


def _report(request: Any) -> statistics.Report:
    from workbench.cases import export

    data = export.export(request.dbsession, request.identity.role,
                         case_settings(request).calendar, _clock(request).today())
    return statistics.compute(statistics.CaseRecord.from_dict(c) for c in data["cases"])


def stats_page(request: Any) -> dict[str, Any]:
    fragment = statistics.to_html_fragment(_report(request), request.workbench_language)
    return {"fragment": Markup(fragment)}  # noqa: S704 - built with every value escaped


def stats_csv(request: Any) -> Response:
    response = Response(body=statistics.to_csv(_report(request)).encode("utf-8"),
                        content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="peluit-statistics.csv"'
    return response


def policy_page(request: Any) -> dict[str, Any]:
    landing = request.find_service(LandingPolicy)
    rendered = landing.rendered(request.workbench_language, _clock(request).today())
    return {"policy": rendered,
            "policy_html": Markup(rendered.html) if rendered else None}  # noqa: S704 - bleach


def includeme(config: Any) -> None:
    vault_dir = Path(config.registry.settings["workbench.vault"])
    config.register_service(LandingPolicy(vault_dir / "policy"), LandingPolicy)
    config.add_route("compliance.stats", "/compliance/statistics")
    config.add_route("compliance.stats_csv", "/compliance/statistics.csv")
    config.add_route("compliance.policy", "/compliance/policy")
    tpl = "workbench.web:templates/"
    stats = WebPermission.VIEW_STATS
    config.add_view(stats_page, route_name="compliance.stats", request_method="GET",
                    renderer=tpl + "compliance_stats.jinja2", permission=stats)
    config.add_view(stats_csv, route_name="compliance.stats_csv", request_method="GET",
                    permission=stats)
    config.add_view(policy_page, route_name="compliance.policy", request_method="GET",
                    renderer=tpl + "compliance_policy.jinja2", permission=stats)
    config.add_workbench_nav("compliance.stats", N_("Statistics"), stats, order=20)
    config.add_workbench_nav("compliance.policy", N_("Protection policy"), stats, order=21)
