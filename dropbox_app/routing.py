"""Which recipient group a report is sealed to, kept so that only its reporter can tell.

A report that concerns the Inspectorate General itself (one of its employees, or its head)
is sealed to the deployment's conflict group (the minister's designated officer, an
independent unit: cards enrolled with ``--group conflict``) and never to the inspectorate's
auditors; every later message, file and retaliation report on it goes the same way.

The server must not learn which group that is (docs/reporter.md). Envelopes say nothing of
their recipients (crypto/envelope.py, version 2); the report's row keeps the choice as
``route``: a SealedBox of one byte to the reporter's own public key, 49 bytes of random-looking
data on every report whichever the group. It opens only with the key derived from the codename,
which the server holds in memory while the reporter is logged in; a page rendered then carries
the group in a hidden field, for a form sent after the session ended (its compose grant)."""

from __future__ import annotations

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

INSPECTORATE = "inspectorate"
CONFLICT = "conflict"
GROUPS = (INSPECTORATE, CONFLICT)
ROUTE_BYTES = 49  # SealedBox: ephemeral public key (32) + MAC (16) + one byte
FORM_FIELD = "route"          # the hidden field of follow-up forms
CONCERNS_FIELD = "concerns"   # the report form's question: "no" or "inspectorate"


class RouteError(ValueError):
    """A route that does not open with the reporter's key: never guessed at (guessing the
    inspectorate would hand a report about it to the people it is about)."""


def seal(reporter_public_key: bytes, group: str) -> bytes:
    return SealedBox(PublicKey(reporter_public_key)).encrypt(bytes([GROUPS.index(group)]))


def open_route(route: bytes | None, reporter_key: PrivateKey) -> str:
    """The group of a report. Reports filed before groups existed (no route) went to the
    inspectorate's auditors, the only group there was."""
    if route is None:
        return INSPECTORATE
    try:
        plain = SealedBox(reporter_key).decrypt(bytes(route))
    except NaclCryptoError:
        raise RouteError("the report's route does not open with this reporter's key") from None
    if len(plain) != 1 or plain[0] >= len(GROUPS):
        raise RouteError("unknown route")
    return GROUPS[plain[0]]


def group_of_answer(value: str) -> str | None:
    """The report form's answer to "does it concern the inspectorate itself?"."""
    return {"no": INSPECTORATE, "inspectorate": CONFLICT}.get(value)
