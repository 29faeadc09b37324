"""A case's attachments: image previews and safe copies, made in the sandbox."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response

from workbench import db, filestore, safecopy, vault

from . import preview, safecopies
from .models import Case
from .viewsupport import case_service
from .viewsupport import content_key as _key
from .viewsupport import submission_of_case as _submission_of_case
from .viewsupport import user as _user
from .workflow import Forbidden, Permission, WorkflowError


def file_bytes(request: Any, sub: db.Submission, limit: int) -> bytes:
    key = vault.vault_box_key(request.identity.require_content())
    out = bytearray()
    for chunk in filestore.iter_plaintext(request.registry.settings["workbench.vault"],
                                          sub, key):
        out += chunk
        if len(out) > limit:
            raise preview.PreviewError("too large")
    return bytes(out)


def file_preview(request: Any) -> Response:
    """A re-encoded PNG of an image attachment (made in the sandboxed child process)."""
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    _case, sub = _submission_of_case(request)
    if (sub.content_type or "") not in preview.PREVIEWABLE:
        raise WorkflowError("preview", "not an image")
    try:
        png = preview.render(file_bytes(request, sub, preview.MAX_INPUT))
    except preview.PreviewError:
        raise WorkflowError("preview", "no preview") from None
    response = Response(body=png, content_type="image/png")
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def make_safe_copy(request: Any, case: Case, sub: db.Submission) -> bytes:
    """Render the attachment in the sandbox (workbench.safecopy), keep the pixels-only PDF in
    the vault, encrypted, and its OCR words in the case's thread; return the PDF."""
    key = vault.vault_box_key(request.identity.require_content())
    try:
        copy = safecopy.make(file_bytes(request, sub, safecopy.MAX_INPUT), ocr=True)
    except (preview.PreviewError, safecopy.SafeCopyError, safecopy.SandboxUnavailable):
        raise WorkflowError("safecopy", "no safe copy") from None
    safecopies.store(request.registry.settings["workbench.vault"], sub.id, copy.pdf, key)
    svc, user = case_service(request), _user(request)
    svc.add_ocr_text(user, case, filestore.download_name(sub.file_name, "file"),
                     " ".join(copy.text))
    svc.audit(user, "case.safe_copy", case, submission=sub.id, pages=copy.pages)
    return copy.pdf


def file_safe_copy_make(request: Any) -> Any:
    if _key(request) is None:
        raise Forbidden(Permission.READ)
    case, sub = _submission_of_case(request)
    make_safe_copy(request, case, sub)
    return HTTPSeeOther(request.route_url("case.view", id=case.id, _anchor=f"file-{sub.id}"))


def file_safe_copy(request: Any) -> Response:
    """The stored safe copy, decrypted on the way out, as a download."""
    key = _key(request)
    if key is None:
        raise Forbidden(Permission.READ)
    _case, sub = _submission_of_case(request)
    pdf = safecopies.load(request.registry.settings["workbench.vault"], sub.id,
                          vault.vault_box_key(key))
    if pdf is None:
        raise HTTPNotFound()
    name = filestore.download_name(sub.file_name, "file").rsplit(".", 1)[0] + "-safe.pdf"
    response = Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
