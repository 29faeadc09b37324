"""Enrolling auditor cards, and the recipient list every submission is sealed to."""

from __future__ import annotations

from dataclasses import dataclass

from nacl.public import PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.identity import MAX_CARD_BYTES, Card
from peluit.ground.errors import UserError

from .gateway import adminlog
from .models import AuditorCard


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
    return {"key_id": row.key_id, "name": row.name, "fingerprint": row.fingerprint}


def enroll(db: Session, data: bytes, day: str, *, actor: str) -> Enrolled:
    """Add (or re-activate) an auditor card. Returns what to show the admin: the fingerprint
    to compare aloud with the auditor before trusting the card."""
    card = parse_card(data)
    row = db.get(AuditorCard, card.key_id)
    if row is not None:
        already = row.active
        row.active = True
        if not already:
            adminlog.record(db, day, actor, "card.enable", _logged(row))
        return Enrolled(row.key_id, row.name, row.fingerprint, already)
    row = AuditorCard(key_id=card.key_id, card=card.to_bytes(), name=card.name,
                      fingerprint=card.fingerprint, active=True, enrolled_day=day)
    db.add(row)
    adminlog.record(db, day, actor, "card.enroll", _logged(row))
    return Enrolled(card.key_id, card.name, card.fingerprint, False)


def set_active(db: Session, key_id: str, active: bool, *, actor: str, day: str) -> AuditorCard:
    row = db.get(AuditorCard, key_id.strip().lower())
    if row is None:
        raise EnrollError(f"no enrolled card with key id {key_id}")
    if row.active != active:
        adminlog.record(db, day, actor, "card.enable" if active else "card.disable",
                        _logged(row))
    row.active = active
    return row


def active_cards(db: Session) -> list[Card]:
    rows = db.scalars(select(AuditorCard).where(AuditorCard.active.is_(True))
                      .order_by(AuditorCard.key_id))
    return [Card.from_bytes(r.card) for r in rows]


def any_active(db: Session) -> bool:
    """Whether the channel can accept anything (cheaper than parsing the cards)."""
    return db.scalar(select(AuditorCard.key_id).where(AuditorCard.active.is_(True)).limit(1)
                     ) is not None


def recipients(db: Session) -> list[PublicKey]:
    """The box keys of every active card: each submission is readable by each of them."""
    return [c.box_key for c in active_cards(db) if c.box_key is not None]
