"""Identity in escrow, the reporter's side (crypto/escrow.py, docs/reporter.md).

A deposit (name, NIP, unit, contact) is sealed in this process's memory to the custodians of
the signed protection policy, inside an ordinary envelope to the auditors: on the server it is
one more ``submission`` row of one chunk, like a short message. A lead's request to open it
comes back as a reply whose sealed body carries ``escrow``; the reporter's answer goes as a
``consent`` envelope, with the release (made from the session's codename key) when the reporter
consents. What the reporter answered is remembered only as a receipt the reporter's key alone
can compute (models/receipts.py), so the server cannot tell a consent from a refusal, nor a
request from any other reply."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nacl.public import PrivateKey, PublicKey
from sqlalchemy.orm import Session

from crypto import escrow
from crypto.encoding import b64encode
from peluit.ground.clock import Clock

from ..forms import FormError
from ..models import AnswerReceipt, Report, Submission, new_id
from ..store import PendingEnvelope, Store
from . import services

#: The form's field names (on the report form and the follow-up page) → the deposit's.
FORM_FIELDS = {"id_name": "name", "id_nip": "nip", "id_unit": "unit", "id_contact": "contact"}
DECISIONS = services.ESCROW_DECISIONS


def identity_from(fields: Mapping[str, str]) -> dict[str, str] | None:
    """What the reporter typed in the identity fieldset, or None if they left it empty."""
    values = {name: " ".join(fields.get(form, "").split()) for form, name in FORM_FIELDS.items()}
    if not any(values.values()):
        return None
    if not values["name"]:
        raise FormError("deposit_name")
    if any(len(v) > escrow.MAX_FIELD for v in values.values()):
        raise FormError("deposit_long")
    return values


def seal(db: Session, store: Store, clock: Clock, recipients: Sequence[PublicKey],
         report: Report, reporter_secret: PrivateKey, identity: Mapping[str, str],
         terms: tuple[list[Any], escrow.Rule]) -> tuple[Submission, PendingEnvelope]:
    """The deposit as one more submission of ``report`` (its id is the deposit's id)."""
    cards, rule = terms
    sub_id = new_id()
    document = escrow.seal_deposit(identity, deposit_id=sub_id, report_id=report.id,
                                   reporter_secret=reporter_secret, custodians=cards, rule=rule)
    meta = {"v": 1, "kind": "deposit", "report": report.id, "submission": sub_id}
    pending = services.seal_small(store, recipients, meta, document)
    return services.record(db, store, clock, report, "deposit", pending, sub_id)


def answer(db: Session, store: Store, clock: Clock, recipients: Sequence[PublicKey],
           report: Report, key: PrivateKey, reply_id: str, request: Mapping[str, str],
           decision: str) -> tuple[Submission, PendingEnvelope]:
    """The reporter's consent or refusal, sealed to the auditors. A consent carries the
    release, the reporter's half of the deposit's key; a refusal carries nothing."""
    if decision not in DECISIONS:
        raise FormError("malformed")
    release = (b64encode(escrow.release_key(key, request["deposit"]))
               if decision == "consent" else None)
    sub_id = new_id()
    meta = {"v": 1, "kind": "consent", "report": report.id, "submission": sub_id}
    body = json.dumps({"request": request["request"], "deposit": request["deposit"],
                       "decision": decision, "release": release}, sort_keys=True).encode()
    done = services.record(db, store, clock, report, "consent",
                           services.seal_small(store, recipients, meta, body), sub_id)
    db.add(AnswerReceipt(id=services.escrow_receipt(key, reply_id, decision)))
    return done
