"""Forwarding a case to an outside agency, and the agencies' keys."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import select

from peluit.ground.forms import UploadedFile
from workbench import db, filestore, vault
from workbench.safecopy import redact

from . import forwarding, outgoing, preview, redactions, safecopies, scrub
from .file_views import file_bytes, make_safe_copy
from .messages import message
from .models import Agency, Forward
from .viewsupport import case_id as _case_id
from .viewsupport import case_service, case_settings
from .viewsupport import clock as _clock
from .viewsupport import content_key as _key
from .viewsupport import int_param as _int
from .viewsupport import labels as _labels
from .viewsupport import user as _user
from .workflow import Forbidden, WorkflowError


def forward_submit(request: Any) -> Any:
    """Seal the package: each ticked file as its redacted safe copy (made now if nobody made
    one), or as its original when the auditor chose that for it (outgoing.py); then a note in
    the case's thread says what left and what was taken out of each file."""
    svc = case_service(request)
    user = _user(request)
    detail = svc.detail(user, _case_id(request))
    p = request.form
    vault_path = request.registry.settings["workbench.vault"]
    box = vault.vault_box_key(_key(request))
    red = redactions.load(vault_path, detail.case.id, box)
    prepared, names = [], []
    for sub_id in p.getall("file"):
        if not isinstance(sub_id, str):
            raise WorkflowError("bad_input", "a file part where a submission id belongs")
        sub = request.dbsession.get(db.Submission, sub_id)
        if sub is None or sub.kind != "file" or sub.report_id != detail.case.report_id:
            raise WorkflowError("bad_input", "not a file of this case")
        choice = p.text(f"as_{sub.id}", outgoing.SAFE)
        if choice not in (outgoing.SAFE, outgoing.ORIGINAL):
            raise WorkflowError("bad_input", "unknown form of a file")
        try:
            if choice == outgoing.SAFE:
                pdf = safecopies.load(vault_path, sub.id, box)
                if pdf is None:
                    try:
                        pdf = make_safe_copy(request, detail.case, sub)
                    except WorkflowError:
                        raise WorkflowError("safecopy_forward", f"{sub.id}: no safe copy") \
                            from None
                prepared.append(outgoing.safe_copy(pdf, red.of(sub.id), red.phrases))
            else:
                prepared.append(outgoing.original(file_bytes(request, sub, 64 * 1024 * 1024),
                                                  sub.file_name, sub.content_type))
        except (preview.PreviewError, scrub.ScrubError):
            raise WorkflowError("scrub", f"{sub.id} could not be cleaned") from None
        names.append(filestore.download_name(sub.file_name, "file"))
    fields = {k: redact.redact_text(p.text(k), red.phrases) for k in forwarding.FORWARD_FIELDS}
    clock = _clock(request)
    record, _path = forwarding.forward(
        request.dbsession, forwarding.keyring(vault_path), vault_path, user.role, user.id,
        detail.case, _int(p.text("agency"), 0), fields, case_settings(request).categories,
        clock.today(), clock.now(), [f.file for f in prepared], [f.form for f in prepared])
    svc.add_note(user, detail.case.id, _forward_report(request, record.reference, names,
                                                        prepared))
    svc.audit(user, "case.forward", detail.case, reference=record.reference,
              agency=record.agency_id, files=len(prepared),
              originals=sum(f.form != "safe-copy" for f in prepared))
    return HTTPSeeOther(request.route_url("case.forward.file", id=detail.case.id,
                                          reference=record.reference))


def _forward_report(request: Any, reference: str, names: list[str],
                    prepared: list[outgoing.Prepared]) -> str:
    """The thread's note on a forward: per file, the form it left in and what was removed (names
    of metadata, never values), in the auditor's language."""
    _ = request.gettext
    lines = [_("Forwarded, reference %(ref)s.") % {"ref": reference}]
    for i, (name, f) in enumerate(zip(names, prepared, strict=True)):
        sent = f"lampiran-{i + 1}.{f.file.extension}"
        if f.form == "safe-copy":
            lines.append(_("%(sent)s: safe copy of %(name)s (page pixels and the words read from "
                           "them). Removed: metadata (author, software, times), scripts and "
                           "actions, links and forms, attached files, fonts and the original "
                           "text layer (re-made by OCR), earlier versions. Blacked out: "
                           "%(regions)s regions, %(words)s words.")
                         % {"sent": sent, "name": name, "regions": f.regions, "words": f.words})
        elif f.form == "original-as-is":
            lines.append(_("%(sent)s: the ORIGINAL %(name)s, sent as it is: nothing was removed "
                           "and no redaction applies.") % {"sent": sent, "name": name})
        else:
            lines.append(_("%(sent)s: the ORIGINAL %(name)s; no redaction applies. Removed: "
                           "%(removed)s. Anything else in it (comments, tracked changes, hidden "
                           "content) went with it.")
                         % {"sent": sent, "name": name,
                            "removed": ", ".join(f.removed) or _("nothing found")})
    return "\n".join(lines)


def forward_file(request: Any) -> Response:
    """Download the encrypted package (it is ciphertext to the agency's key)."""
    rec = request.dbsession.scalars(select(Forward).where(
        Forward.reference == request.matchdict["reference"],
        Forward.case_id == _case_id(request))).first()
    if rec is None:
        raise HTTPNotFound()
    path = forwarding.Path(request.registry.settings["workbench.vault"]) / forwarding.OUT_DIR \
        / rec.file_name
    if not path.is_file():
        raise HTTPNotFound()
    response = Response(body=path.read_bytes(), content_type="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{rec.file_name}"'
    return response


def agencies(request: Any, error: str | None = None) -> dict[str, Any]:
    ring = forwarding.keyring(request.registry.settings["workbench.vault"])
    rows = request.dbsession.scalars(select(Agency).order_by(Agency.name)).all()
    keys = {}
    for a in rows:
        try:
            keys[a.id] = ring.get(a.fingerprint)
        except Exception:  # a key removed from the keyring by hand: show the row without it
            keys[a.id] = None
    return {**_labels(request), "agencies": rows, "keys": keys, "error": error,
            "kinds": forwarding.AGENCY_KINDS}


def agency_add(request: Any) -> Any:
    p = request.form
    ring = forwarding.keyring(request.registry.settings["workbench.vault"])
    armored = p.text("key")
    upload = p.get("key_file")
    if isinstance(upload, UploadedFile) and upload.data:
        armored = upload.data[:1024 * 1024 + 1].decode("utf-8", "replace")
    try:
        agency = forwarding.add_agency(request.dbsession, ring, request.identity.role,
                                       p.text("name"), p.text("kind"), armored)
    except Forbidden:
        raise
    except WorkflowError as exc:
        request.response.status_int = 400
        return agencies(request, message(request, exc.code))
    case_service(request).audit(_user(request), "agency.add", None,
                                 agency=agency.id, fingerprint=agency.fingerprint)
    return HTTPSeeOther(request.route_url("case.agencies"))
