"""Forwarding a case to an outside agency (KPK, Ombudsman, LPSK, police, another APIP) or a unit,
as an OpenPGP package encrypted to that agency's key (crypto.openpgp, a keyring inside the vault).

What goes out, decided once here rather than case by case:

* the complaint's substance as the auditor edits it in the forwarding form (4W+1H, evidence
  described), the category, darwas, the core issue and the rule from the review, and the
  grounds for forwarding, each shown in the form first so the auditor can redact anything in
  the reporter's own words that would identify them;
* the month the complaint was received (not the day: the server and the workbench keep days,
  and a day could be matched against who was seen handing in a letter); no forwarding day
  either (the agency sees when the package arrives, and a case forwarded at once would
  give the day of receipt away);
* a fresh random reference, recorded in the vault against the case, so the agency can answer
  without ever learning an id that exists elsewhere;
* only the attachments the auditor ticks, renamed ``lampiran-N.ext``, each as its safe copy with
  the case's redactions burnt in unless the auditor chose its original (outgoing.py says what
  each form removes); ``attachment_forms`` names the form of each.

Never: the reporter's public key, the server's report or submission ids, the case number, the
channel, the sender of an off-line complaint, the questions and answers exchanged with the
reporter, original file names.

Package: a POSIX tar (``complaint.json``, ``README.txt``, ``lampiran-*``) with owner, group
and times zeroed, encrypted to the one agency fingerprint, compression off."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import re
import secrets
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import OpenPGPError
from crypto.openpgp import Keyring

from .models import Agency, Case, Forward
from .workflow import Permission, State, WorkflowError, require

FORMAT = "peluit-forward"
VERSION = 1
AGENCY_KINDS = ("kpk", "ombudsman", "lpsk", "police", "apip", "unit")
KEYRING_DIR = "agency-keyring"
OUT_DIR = "forwards"
FORWARD_FIELDS = ("what", "who_name", "who_position", "who_unit", "where", "when", "how",
                  "evidence", "core_issue", "rule", "grounds")
_EXT = re.compile(r"^[a-z0-9]{1,8}$")

README = """Paket penerusan pengaduan / Forwarded complaint

Berkas complaint.json memuat substansi pengaduan yang diteruskan oleh Inspektorat karena
berada di luar kewenangannya. Identitas pelapor tidak disertakan. Gunakan nomor referensi
untuk menanggapi.

complaint.json holds the substance of a complaint forwarded by the Inspectorate because it is
outside its authority. Nothing identifying the reporter is included. Quote the reference when
you reply.
"""


@dataclass(frozen=True)
class OutgoingFile:
    data: bytes
    extension: str


def keyring(vault_path: str | os.PathLike[str]) -> Keyring:
    return Keyring(Path(vault_path) / KEYRING_DIR)


def add_agency(session: Session, ring: Keyring, role: str, name: str, kind: str,
               armored: str) -> Agency:
    """Enrol an agency's public key (a lead; the fingerprint is then compared out of band)."""
    require(role, Permission.AGENCIES)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise WorkflowError("bad_input", "name the agency")
    if kind not in AGENCY_KINDS:
        raise WorkflowError("bad_input", "unknown agency kind")
    try:
        key = ring.import_key(armored or "")
    except OpenPGPError:
        raise WorkflowError("bad_key", "not exactly one OpenPGP public key") from None
    existing = session.scalars(select(Agency).where(Agency.fingerprint == key.fingerprint)).first()
    if existing is not None:
        raise WorkflowError("duplicate_key", "that key is already enrolled")
    agency = Agency(name=name, kind=kind, fingerprint=key.fingerprint)
    session.add(agency)
    session.flush()
    return agency


def package_document(reference: str, case: Case, fields: Mapping[str, str],
                     categories: Mapping[str, str], today: dt.date,
                     files: Sequence[OutgoingFile], forms: Sequence[str] = ()
                     ) -> dict[str, Any]:
    names = [f"lampiran-{i + 1}.{f.extension}" for i, f in enumerate(files)]
    return {
        "format": FORMAT, "version": VERSION, "reference": reference,
        "received_month": case.received_day.strftime("%Y-%m"),
        "category": {"code": case.category or "",
                     "name": categories.get(case.category or "", "")},
        "darwas": case.darwas,
        "complaint": {k: str(fields.get(k, "")).strip() for k in FORWARD_FIELDS},
        "attachments": names,
        # What each attachment is: "safe-copy" (page pixels and OCR text, redactions burnt in)
        # or which cleaning its original had (outgoing.py).
        "attachment_forms": dict(zip(names, forms, strict=True)) if forms else {},
    }


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def build_tar(document: Mapping[str, Any], files: Sequence[OutgoingFile]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _add(tar, "complaint.json",
             json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode())
        _add(tar, "README.txt", README.encode())
        for i, f in enumerate(files):
            _add(tar, f"lampiran-{i + 1}.{f.extension}", f.data)
    return buf.getvalue()


def safe_extension(name: str | None) -> str:
    ext = (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    return ext if _EXT.fullmatch(ext) else "bin"  # fullmatch: "$" would let "gz\n" through


def forward(session: Session, ring: Keyring, vault_path: str | os.PathLike[str], role: str,
            actor: str, case: Case, agency_id: int, fields: Mapping[str, str],
            categories: Mapping[str, str], today: dt.date, now: dt.datetime,
            files: Sequence[OutgoingFile] = (), forms: Sequence[str] = ()
            ) -> tuple[Forward, Path]:
    """Seal the package to the agency's key; returns the record and the encrypted file's path
    (inside the vault's ``forwards/`` directory, written under a temporary name first)."""
    require(role, Permission.FORWARD)
    if case.state != State.FORWARDED.value:
        raise WorkflowError("forward_state", "only a case the lead decided to forward")
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise WorkflowError("no_agency", "choose an enrolled agency")
    if not str(fields.get("what", "")).strip():
        raise WorkflowError("what_required", "say what happened")
    reference = secrets.token_hex(8)
    doc = package_document(reference, case, fields, categories, today, files, forms)
    plain = build_tar(doc, files)
    out_dir = Path(vault_path) / OUT_DIR
    out_dir.mkdir(mode=0o700, exist_ok=True)
    final = out_dir / f"peluit-forward-{reference}.tar.gpg"
    try:
        # Atomic: the package appears under its name complete or not at all (encrypt_stream).
        ring.encrypt_stream(io.BytesIO(plain), final, agency.fingerprint)
    except OpenPGPError:
        raise WorkflowError("gpg", "gpg could not encrypt to that key") from None
    record = Forward(case_id=case.id, agency_id=agency.id, reference=reference,
                     at=now.astimezone(dt.UTC).replace(tzinfo=None), actor=actor,
                     file_name=final.name)
    session.add(record)
    session.flush()
    return record, final
