"""Which server signing keys the vault trusts, and the one manual way to change that.

The vault normally learns a new server key from inbox bundles signed by the old one
(``importer._rotate``), keeps trusting the old key until a bundle signed by the new one arrives,
and confirms the new key in its next reply bundle (``exporter``: ``server_key``); the gateway
switches only on that confirmation, so a lost bundle needs nothing by hand (docs/gateway.md).
For a vault that lost the chain some other way (a restore of an old vault copy, a gateway
rebuilt with a new key), ``peluit workbench pin-server CARD --fingerprint "…"`` recovers the way
``init`` trusted the first key: a lead compares the card's fingerprint with the one the
gateway's admin reads out on another channel and types it. Only a match pins the card and
retires the keys trusted until then; a key once retired is never trusted again. Nothing is lost
meanwhile: the gateway keeps every submission until a reply bundle acknowledges it."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.identity import Card

from . import audit, db, trust
from .vault import Unlocked, VaultError, server_card_from

_NOT_DIGITS = re.compile(r"[\s-]+")


def _digits(text: str) -> str:
    return _NOT_DIGITS.sub("", text)


def pin_replacement(session: Session, by: Unlocked, card_bytes: bytes, typed_fingerprint: str,
                    today: str) -> Card:
    """Trust ``card_bytes`` instead of the active server key(s); raise VaultError, changing
    nothing, unless ``by`` is a lead and the typed fingerprint matches the card."""
    if by.role != "lead" or by.vault_key is None:
        raise VaultError("only a lead can change which server key the vault trusts")
    trust.bind(session, trust.seal_keys(by.vault_key))
    card = server_card_from(card_bytes)
    typed = _digits(typed_fingerprint)
    if not typed.isdigit() or typed != _digits(card.fingerprint):
        raise VaultError("the fingerprint typed does not match this card: compare it again with "
                         "the gateway's admin, on another channel; nothing was changed")
    known = session.get(db.ServerCard, card.key_id)
    if known is not None:
        raise VaultError("the vault already trusts this server key" if known.active else
                         "this server key was retired earlier and cannot be trusted again")
    retired = []
    for row in session.scalars(select(db.ServerCard).where(db.ServerCard.active.is_(True))):
        row.active = False
        row.replaced_by = card.key_id
        retired.append(row.key_id)
    session.add(db.ServerCard(key_id=card.key_id, card=card.to_bytes(), pinned_day=today,
                              active=True))
    audit.record(session, by.key_id, "server.pin", details={
        "key_id": card.key_id, "retired": sorted(retired), "by_fingerprint": True})
    return card
