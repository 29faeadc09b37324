"""Enrolling auditor cards, and the recipient lists submissions are sealed to.

Cards are in one of two groups (dropbox_app/routing.py): the inspectorate's auditors, who
read every report, and the conflict group, who alone read reports about the inspectorate
itself. A group has at most ``MAX_GROUP`` active cards: every envelope has that many slots
(crypto/envelope.py), so one sealed to either group has the same size and shape."""

from __future__ import annotations

from dataclasses import dataclass

from nacl.public import PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.envelope import DEFAULT_SLOTS
from crypto.errors import CryptoError
from crypto.identity import MAX_CARD_BYTES, Card
from peluit.ground.errors import UserError

from .gateway import adminlog
from .models import AuditorCard
from .routing import CONFLICT, GROUPS, INSPECTORATE

MAX_GROUP = DEFAULT_SLOTS


class EnrollError(UserError):
    pass


@dataclass(frozen=True)
class Enrolled:
    key_id: str
    name: str
    fingerprint: str
    already: bool


def parse_card(data: bytes) -> Card:
    if len(data) > MAX_CARD_BYTES:
        raise EnrollError("the card file is too large to be a Peluit card")
    try:
        card = Card.from_bytes(data)
    except CryptoError as exc:
        raise EnrollError(f"not a valid card: {exc}") from None
    if card.kind != "auditor" or card.box_key is None:
        raise EnrollError("this is a server card, not an auditor card")
    return card


def _logged(row: AuditorCard) -> dict[str, str]:
    return {"key_id": row.key_id, "name": row.name, "fingerprint": row.fingerprint,
            "group": row.recipient_group}


def _check_room(db: Session, group: str) -> None:
    n = len(db.scalars(select(AuditorCard.key_id).where(
        AuditorCard.active.is_(True), AuditorCard.recipient_group == group)).all())
    if n >= MAX_GROUP:
        raise EnrollError(f"the {group} group has {MAX_GROUP} active cards already, as many as "
                          "an envelope has recipient slots: disable one first")


def enroll(db: Session, data: bytes, day: str, *, actor: str,
           group: str = INSPECTORATE) -> Enrolled:
    """Add (or re-activate) an auditor card in ``group``. Returns what to show the admin: the
    fingerprint to compare aloud with the auditor before trusting the card."""
    if group not in GROUPS:
        raise EnrollError(f"unknown group {group!r} (one of: {', '.join(GROUPS)})")
    card = parse_card(data)
    row = db.get(AuditorCard, card.key_id)
    if row is not None:
        if row.recipient_group != group:
            # One card in both groups would let an auditor read reports about the inspectorate.
            raise EnrollError(f"this card is enrolled in the {row.recipient_group} group; a card "
                              "is in one group only")
        already = row.active
        if not already:
            _check_room(db, group)
            adminlog.record(db, day, actor, "card.enable", _logged(row))
        row.active = True
        return Enrolled(row.key_id, row.name, row.fingerprint, already)
    _check_room(db, group)
    row = AuditorCard(key_id=card.key_id, card=card.to_bytes(), name=card.name,
                      fingerprint=card.fingerprint, active=True, enrolled_day=day,
                      recipient_group=group)
    db.add(row)
    adminlog.record(db, day, actor, "card.enroll", _logged(row))
    return Enrolled(card.key_id, card.name, card.fingerprint, False)


def set_active(db: Session, key_id: str, active: bool, *, actor: str, day: str) -> AuditorCard:
    row = db.get(AuditorCard, key_id.strip().lower())
    if row is None:
        raise EnrollError(f"no enrolled card with key id {key_id}")
    if active and not row.active:
        _check_room(db, row.recipient_group)
    if row.active != active:
        adminlog.record(db, day, actor, "card.enable" if active else "card.disable",
                        _logged(row))
    row.active = active
    return row


#: The key ids of the conflict-group cards that the signed protection policy names
#: (``[conflict] members``; policies.documents.LandingPolicy.conflict), or None when the policy
#: in force names none. Only a card both active here and named there reads reports about the
#: inspectorate: the gateway's admin runs the server for the inspectorate and must not be able
#: to add such a reader alone (issue 19).
Pinned = frozenset[str] | None


def active_cards(db: Session, group: str | None = INSPECTORATE) -> list[Card]:
    """The active cards of ``group`` (None: of every group), pinned or not: what the gateway's
    admin page lists. Never a recipient list for the conflict group: see ``recipients``."""
    query = select(AuditorCard).where(AuditorCard.active.is_(True))
    if group is not None:
        query = query.where(AuditorCard.recipient_group == group)
    return [Card.from_bytes(r.card) for r in db.scalars(query.order_by(AuditorCard.key_id))]


def _readers(db: Session, group: str, pinned: Pinned) -> list[Card]:
    cards = active_cards(db, group)
    if group == CONFLICT:
        cards = [c for c in cards if c.key_id in (pinned or ())]
    return cards


def any_active(db: Session, group: str = INSPECTORATE, pinned: Pinned = None) -> bool:
    """Whether the group can be sealed to (for the conflict group: a pinned card is active)."""
    if group == CONFLICT:
        return bool(_readers(db, group, pinned))
    return db.scalar(select(AuditorCard.key_id).where(
        AuditorCard.active.is_(True), AuditorCard.recipient_group == group).limit(1)
    ) is not None


def conflict_group_ready(db: Session, pinned: Pinned = None) -> bool:
    """Whether reports about the inspectorate itself can be routed away from it: an active
    conflict-group card that the signed policy names."""
    return any_active(db, CONFLICT, pinned)


def active_counts(db: Session) -> dict[str, int]:
    """Active cards per group, every group named (0 for one without any): what the admin page
    shows beside the card list, each against ``MAX_GROUP``."""
    counts = dict(db.execute(select(AuditorCard.recipient_group, func.count())
                             .where(AuditorCard.active.is_(True))
                             .group_by(AuditorCard.recipient_group)).all())
    return {g: counts.get(g, 0) for g in GROUPS}


def recipients(db: Session, group: str = INSPECTORATE, pinned: Pinned = None
               ) -> list[PublicKey]:
    """The box keys of the active cards of ``group`` (of the conflict group: only those the
    signed policy names, ``pinned``): each submission routed to that group is readable by each
    of them, and by nobody else."""
    return [c.box_key for c in _readers(db, group, pinned) if c.box_key is not None]


def recipient_groups(db: Session, pinned: Pinned = None) -> dict[str, list[PublicKey]]:
    return {g: recipients(db, g, pinned) for g in GROUPS}
