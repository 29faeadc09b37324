"""The Transfers page: import an inbox bundle and export a reply bundle without the CLI.

The import runs in a background thread (workbench/transfer.py); its page refreshes itself every
two seconds with <meta http-equiv="refresh"> until the thread is done, then says what came in.
The export writes the reply bundle into a folder the auditor picks from the list (where it goes
to the USB stick) and offers the same file as a download."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse

from peluit.ground.i18n import N_

from ... import transfer
from ...exporter import ExportRefused, NothingToExport, export_replies
from ...importer import ImportRefused
from ..security import Permission

#: Seconds between two refreshes of a running import's page.
REFRESH = 2

#: What the page says about a refusal raised before the import thread starts.
START_REFUSALS = {
    "not-a-file": N_("There is no bundle file at that path."),
    "unreadable": N_("The workbench cannot read that file."),
    "busy": N_("Another import is running: wait until it is done."),
}


def _folders(request: Any) -> list[Path]:
    settings = request.registry.settings
    return transfer.folders(Path(settings["workbench.vault"]),
                            settings.get("workbench.transfer_dirs"))


def page(request: Any, error: str | None = None, export_error: str | None = None,
         exported: Any = None) -> dict[str, Any]:
    dirs = _folders(request)
    return {"bundles": transfer.bundles(dirs), "folders": dirs, "error": error,
            "export_error": export_error, "exported": exported,
            "running": request.find_service(transfer.Jobs).running(),
            "csrf_token": request.session_csrf_token}


def start_import(request: Any) -> Any:
    raw = request.form.text("bundle").strip()
    if not raw:
        request.response.status_int = 400
        return page(request, error=request.gettext("Choose a bundle file."))
    try:
        job = request.find_service(transfer.Jobs).start(request.identity,
                                                        Path(raw).expanduser())
    except ImportRefused as exc:
        request.response.status_int = 409 if str(exc) == "busy" else 400
        return page(request, error=request.gettext(START_REFUSALS.get(str(exc), str(exc))))
    return HTTPSeeOther(request.route_url("transfer.job", job=job.id))


def job_page(request: Any) -> dict[str, Any]:
    job = request.find_service(transfer.Jobs).get(request.matchdict["job"],
                                                  request.identity.key_id)
    if job is None:
        raise HTTPNotFound()
    # Read once: the import thread may finish while the page renders, and a page that says
    # "done" must not also refresh itself (nor one that refreshes say nothing).
    state = job.state
    return {"job": job, "state": state, "refresh": REFRESH if state == "running" else None}


def export(request: Any) -> Any:
    dirs = _folders(request)
    chosen = request.form.text("folder")
    folder = next((d for d in dirs if str(d) == chosen), None)
    if folder is None:
        request.response.status_int = 400
        return page(request, export_error=request.gettext("Choose a folder from the list."))
    out = transfer.export_path(folder, request.identity.key_id)
    try:
        result = export_replies(request.identity, out)
    except NothingToExport:
        request.response.status_int = 409
        return page(request, export_error=request.gettext(
            "Nothing to export: no new question, status change or import to confirm since the "
            "last reply bundle."))
    except ExportRefused as exc:
        request.response.status_int = 400
        return page(request, export_error=str(exc))
    except OSError as exc:
        request.response.status_int = 400
        return page(request, export_error=f"{out}: {exc.strerror or exc.__class__.__name__}")
    request.find_service(transfer.Exported).add(out)
    return page(request, exported=result)


def download(request: Any) -> Any:
    path = request.find_service(transfer.Exported).get(request.matchdict["name"])
    if path is None or not path.is_file():
        raise HTTPNotFound()
    response = FileResponse(str(path), request=request, content_type="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{path.name}"'
    return response


def includeme(config: Any) -> None:
    config.include("workbench.transfer")
    config.add_route("transfer.page", "/transfers")
    config.add_route("transfer.import", "/transfers/import")
    config.add_route("transfer.job", "/transfers/import/{job}")
    config.add_route("transfer.export", "/transfers/export")
    config.add_route("transfer.download", "/transfers/exported/{name}")
    config.add_view(page, route_name="transfer.page", request_method="GET",
                    renderer="transfer.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(start_import, route_name="transfer.import", request_method="POST",
                    renderer="transfer.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(job_page, route_name="transfer.job", request_method="GET",
                    renderer="transfer_job.jinja2", permission=Permission.VIEW_CONTENT)
    config.add_view(export, route_name="transfer.export", request_method="POST",
                    renderer="transfer.jinja2", permission=Permission.WRITE_REPLY)
    config.add_view(download, route_name="transfer.download", request_method="GET",
                    permission=Permission.WRITE_REPLY)
    config.add_workbench_nav("transfer.page", "Transfers", Permission.VIEW_CONTENT, order=80)
