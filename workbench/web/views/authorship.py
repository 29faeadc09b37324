"""Proof of authorship on the workbench (workbench/authorship.py): attest a report for its
reporter, download the deployment's authorship card, counter-sign a statement (receipt)."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response

from ... import authorship, db
from ..security import Permission


def _attachment(body: bytes, name: str) -> Response:
    response = Response(body, content_type="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def attest(request: Any) -> Any:
    report = request.dbsession.get(db.Report, request.matchdict["report_id"])
    if report is None:
        raise HTTPNotFound()
    from .reports import report_view

    try:
        authorship.attest(request.dbsession, request.identity.require_content(), report.id,
                          request.identity.key_id)
    except authorship.AuthorshipError as exc:
        request.response.status_int = 400
        return report_view(request, request.gettext(str(exc)))
    return HTTPSeeOther(request.route_url("report.view", report_id=report.id,
                                          _anchor="authorship"))


def card_download(request: Any) -> Response:
    try:
        card = authorship.card(request.dbsession, request.identity.require_content())
    except authorship.AuthorshipError:
        raise HTTPNotFound() from None
    return _attachment(card.to_bytes() + b"\n", "authorship-card.json")


def receipt_page(request: Any, error: str | None = None) -> dict[str, Any]:
    card = authorship.card(request.dbsession, request.identity.require_content())
    return {"card": card, "error": error, "csrf_token": request.session_csrf_token}


def receipt_make(request: Any) -> Any:
    form = request.form
    try:
        made = authorship.receipt(request.dbsession, request.identity.require_content(),
                                  form.text("statement"), form.text("recipient"),
                                  request.identity.key_id)
    except authorship.AuthorshipError as exc:
        request.response.status_int = 400
        return receipt_page(request, request.gettext(str(exc)))
    return _attachment(made.to_bytes() + b"\n",
                       f"authorship-receipt-{made.statement.attestation.report[:8]}.json")


def includeme(config: Any) -> None:
    config.add_route("authorship.attest", "/reports/{report_id}/authorship")
    config.add_route("authorship.card", "/authorship/card")
    config.add_route("authorship.receipt", "/authorship")
    config.add_view(attest, route_name="authorship.attest", request_method="POST",
                    renderer="report.jinja2", permission=Permission.DECIDE)
    config.add_view(card_download, route_name="authorship.card", request_method="GET",
                    permission=Permission.VIEW_CONTENT)
    config.add_view(receipt_page, route_name="authorship.receipt", request_method="GET",
                    renderer="authorship.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(receipt_make, route_name="authorship.receipt", request_method="POST",
                    renderer="authorship.jinja2", permission=Permission.DECIDE)
    config.add_workbench_nav("authorship.receipt", "Proof of authorship",
                             Permission.VIEW_CONTENT, order=60)
