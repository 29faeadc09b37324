"""The workbench's part in the proof of authorship (crypto/authorship.py, docs/workbench.md).

The workbench alone knows a report's id, the day it was received and its category, so it is the
one to attest them. Its attestation key is derived from the vault key (``peluit-vlt-attst``):
every member who reads content can attest, a compliance officer cannot, and no new secret has
to be kept. The public half, with the deployment id, is the deployment's **authorship card**,
which the organisation publishes for verifiers.

* ``attest`` queues an attestation for the reporter, bound to the authorship key the reporter's
  session sealed into the report (or a later message); it leaves as an ordinary reply, sealed to
  the reporter's key (exporter.py), and the reporter's session turns it into a statement.
* ``receipt`` counter-signs a statement a reporter handed over, for an agency such as LPSK.
Both are in the audit log."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from nacl.signing import SigningKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.authorship import Attestation, AuthorshipCard, Receipt, Statement
from crypto.encoding import b64decode
from crypto.errors import CryptoError
from crypto.identity import valid_name
from crypto.kdf import subkey
from peluit.ground.clock import Clock

from . import audit, db
from .i18n import N_

ATTEST_PURPOSE = b"peluit-vlt-attst"
REPLY_KIND = "attestation"  # on the workbench only: outside it is an ordinary "message"
N_("attestation")  # the kind's label on the report and case pages (``_(kind)``)
DEFAULT_NAME = "Peluit"
_CATEGORY = re.compile(r"[a-z0-9_]{1,64}")


class AuthorshipError(ValueError):
    """Cannot attest or counter-sign; the message is an English msgid of the workbench
    catalog (views translate it)."""


def attestation_key(vault_key: bytes) -> SigningKey:
    return SigningKey(subkey(vault_key, ATTEST_PURPOSE))


def _today(today: dt.date | None) -> str:
    return (today or Clock().today()).isoformat()


def card(session: Session, vault_key: bytes, today: dt.date | None = None) -> AuthorshipCard:
    """The deployment's authorship card: the attestation key and the pinned deployment id,
    under the organisation's name (setting ``organisation``, else "Peluit")."""
    deployment = db.get_setting(session, "deployment")
    if not deployment:
        raise AuthorshipError(N_("The vault has no deployment id."))
    name = db.get_setting(session, "organisation") or DEFAULT_NAME
    if not valid_name(name):
        name = DEFAULT_NAME
    return AuthorshipCard.make(attestation_key(vault_key), deployment, name, _today(today))


def author_key(report: db.Report) -> bytes | None:
    """The reporter's authorship public key, from the sealed bodies of the report and its
    messages (None: none carried one yet). Two different keys are refused: the reporter's
    session always makes the same one, so a second key is a substitution."""
    keys = set()
    for sub in report.submissions:
        if sub.kind in ("report", "message") and isinstance(sub.content, dict) \
                and "author_key" in sub.content:
            keys.add(sub.content["author_key"])
    if len(keys) > 1:
        raise AuthorshipError(N_("The report's submissions name different authorship keys: "
                                 "no proof of authorship can be given."))
    if not keys:
        return None
    try:
        return b64decode(keys.pop(), length=32)
    except CryptoError:
        raise AuthorshipError(N_("The report's authorship key is damaged.")) from None


def key_state(report: db.Report) -> str:
    """For the report page: ``ready`` (a key arrived), ``missing`` or ``conflict``."""
    try:
        return "ready" if author_key(report) is not None else "missing"
    except AuthorshipError:
        return "conflict"


def category(report: db.Report) -> str | None:
    first = next((s for s in report.submissions if s.kind == "report"), None)
    value = first.content.get("category") if first and isinstance(first.content, dict) else None
    return value if isinstance(value, str) and _CATEGORY.fullmatch(value) else None


def attest(session: Session, vault_key: bytes, report_id: str, actor: str,
           today: dt.date | None = None) -> db.Reply:
    """Queue an attestation of ``report_id`` for its reporter (leaves with the next reply
    bundle) and record it in the audit log."""
    report = session.get(db.Report, report_id)
    if report is None:
        raise AuthorshipError(N_("No such report."))
    key = author_key(report)
    if key is None:
        raise AuthorshipError(N_("The reporter's authorship key has not arrived yet: it comes "
                                 "with the report, or with the first message the reporter sends "
                                 "while logged in."))
    cat = category(report)
    if cat is None:
        raise AuthorshipError(N_("The report has no category, so its authorship cannot be "
                                 "attested."))
    deployment = db.get_setting(session, "deployment")
    if not deployment:
        raise AuthorshipError(N_("The vault has no deployment id."))
    att = Attestation.issue(attestation_key(vault_key), deployment, report.id,
                            report.received_day, cat, key, _today(today))
    seq = (session.scalar(select(func.max(db.Reply.seq))) or 0) + 1
    reply = db.Reply(id=secrets.token_hex(16), seq=seq, report_id=report.id, kind=REPLY_KIND,
                     text=att.to_bytes().decode("utf-8"), author=actor,
                     created_day=_today(today))
    session.add(reply)
    session.flush()
    audit.record(session, actor, "authorship.attest",
                 details={"report": report.id, "reply": reply.id, "day": report.received_day,
                          "category": cat, "signer": att.signer})
    return reply


def receipt(session: Session, vault_key: bytes, statement_text: str, recipient: str, actor: str,
            today: dt.date | None = None) -> Receipt:
    """Counter-sign a statement a reporter handed over, for ``recipient`` (e.g. LPSK). Only a
    statement that verifies against this deployment's own card is counter-signed."""
    recipient = " ".join(recipient.split())
    if not valid_name(recipient):
        raise AuthorshipError(N_("Name the recipient (1 to 80 characters)."))
    own = card(session, vault_key, today)
    try:
        statement = Statement.from_armor(statement_text)
        statement.verify(own)
    except CryptoError:
        raise AuthorshipError(N_("This is not a genuine statement of this deployment.")) from None
    made = Receipt.issue(attestation_key(vault_key), own, statement, recipient, _today(today))
    audit.record(session, actor, "authorship.receipt",
                 details={"report": statement.attestation.report, "recipient": recipient})
    return made
