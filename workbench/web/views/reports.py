"""The vault's minimal screens: reports, one report with its submissions and replies, file
downloads (always an attachment, never shown in place) and the question form."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import func, select

from ... import audit, authorship, db, filestore, outbox, vault
from ..security import Permission


def report_list(request: Any) -> dict[str, Any]:
    session = request.dbsession
    counts = dict(session.execute(
        select(db.Submission.report_id, func.count()).group_by(db.Submission.report_id)).all())
    reports = session.scalars(
        select(db.Report).order_by(db.Report.received_day.desc(), db.Report.id)).all()
    # Reports of cases the member is excluded from are not listed (workbench/cases/access.py;
    # the report and file pages themselves are guarded there).
    from workbench.cases import access
    from workbench.cases.models import Case

    out = access.excluded(session, request.identity.key_id, request.identity.role)
    if out:
        hidden = set(session.scalars(select(Case.report_id).where(Case.id.in_(out))))
        reports = [r for r in reports if r.id not in hidden]
    return {"reports": reports, "counts": counts}


def _report(request: Any) -> db.Report:
    report = request.dbsession.get(db.Report, request.matchdict["report_id"])
    if report is None:
        raise HTTPNotFound()
    return report


def report_view(request: Any, error: str | None = None) -> dict[str, Any]:
    from workbench.cases.models import Case

    from ..reportfields import fields

    report = _report(request)
    from workbench.cases.settings import CaseSettings

    categories = request.find_service(CaseSettings).categories
    # The report first, then what followed it in the order it came (a follow-up message of
    # the same day must not stand above the report it follows).
    submissions = sorted(report.submissions, key=lambda s: (s.kind != "report", s.received_day))
    case = request.dbsession.scalars(select(Case).where(Case.report_id == report.id)).first()
    return {"report": report, "error": error, "csrf_token": request.session_csrf_token,
            "authorship_key_state": authorship.key_state, "submissions": submissions,
            "case": case,
            "report_fields": lambda content: fields(content, categories, request.gettext)}


def reply_new(request: Any) -> Any:
    report = _report(request)
    try:
        reply = outbox.queue_reply(request.dbsession, report.id, request.identity.key_id,
                                   request.form.text("text"), kind="question")
    except outbox.OutboxError as exc:
        request.response.status_int = 400
        return report_view(request, request.gettext(str(exc)))
    audit.record(request.dbsession, request.identity.key_id, "reply.write",
                 details={"report": report.id, "reply": reply.id, "kind": reply.kind})
    return HTTPSeeOther(request.route_url("report.view", report_id=report.id))


def file_download(request: Any) -> Response:
    sub = request.dbsession.get(db.Submission, request.matchdict["submission_id"])
    if sub is None or sub.kind != "file" or not sub.file_path:
        raise HTTPNotFound()
    key = vault.vault_box_key(request.identity.require_content())
    audit.record(request.dbsession, request.identity.key_id, "file.export",
                 details={"report": sub.report_id, "submission": sub.id})
    name = filestore.download_name(sub.file_name, f"file-{sub.id[:8]}")
    response = Response(
        app_iter=filestore.iter_plaintext(request.registry.settings["workbench.vault"], sub,
                                          key),
        content_type="application/octet-stream")
    response.content_length = sub.size
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
    # Even if a browser ignored "attachment", nothing in the file may run or load anything.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def includeme(config: Any) -> None:
    config.add_view(report_list, route_name="report.list", request_method="GET",
                    renderer="reports.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(report_view, route_name="report.view", request_method="GET",
                    renderer="report.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(reply_new, route_name="reply.new", request_method="POST",
                    renderer="report.jinja2", permission=Permission.WRITE_REPLY)
    config.add_view(file_download, route_name="file.download", request_method="GET",
                    permission=Permission.VIEW_CONTENT)
