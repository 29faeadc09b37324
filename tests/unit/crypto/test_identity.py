import datetime as dt
import json

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import identity, kdf
from crypto.encoding import b64encode, canonical_json
from crypto.errors import AuthenticationError, MalformedError, WrongPassphraseError

DAY = dt.date(2026, 11, 23)


def _edit(card_bytes, **changes):
    obj = json.loads(card_bytes)
    obj.update(changes)
    return canonical_json(obj)


def test_card_round_trip(ani):
    card = ani.card(DAY)
    data = card.to_bytes()
    parsed = identity.Card.from_bytes(data)
    assert parsed == card and parsed.created == "2026-11-23"
    assert parsed.key_id == ani.key_id
    assert parsed.box_key_id is not None and len(parsed.box_key_id) == 16
    assert identity.Card.from_bytes(data + b"\n") == card   # a trailing newline in a file


def test_fingerprint_covers_both_keys(ani, budi):
    a, b = ani.card(DAY), budi.card(DAY)
    assert a.fingerprint != b.fingerprint
    mixed = identity.AuditorIdentity("Ani Wijaya", budi.box, ani.signing).card(DAY)
    assert mixed.fingerprint != a.fingerprint and mixed.key_id == a.key_id


@pytest.mark.parametrize("change", [
    {"name": "Ani Wijaya (KPK)"},
    {"created": "2026-11-24"},
    {"kind": "server", "box_key": None},
])
def test_edited_card_fails_self_signature(ani, change):
    with pytest.raises(AuthenticationError):
        identity.Card.from_bytes(_edit(ani.card(DAY).to_bytes(), **change))


def test_swapped_box_key_fails(ani, budi):
    data = _edit(ani.card(DAY).to_bytes(), box_key=b64encode(bytes(budi.box.public_key)))
    with pytest.raises(AuthenticationError):
        identity.Card.from_bytes(data)


def test_signature_from_another_key_fails(ani, budi):
    forged = _edit(ani.card(DAY).to_bytes(),
                   signature=json.loads(budi.card(DAY).to_bytes())["signature"])
    with pytest.raises(AuthenticationError):
        identity.Card.from_bytes(forged)


@pytest.mark.parametrize("change", [
    {"format": "other"}, {"version": 2}, {"kind": "reporter"}, {"name": ""},
    {"name": "Ani\u202eevil"}, {"name": "x" * 81}, {"name": " Ani"}, {"name": 5},
    {"created": "20261123"}, {"created": "2026-W47-1"}, {"created": "2026-02-30"},
    {"created": "2026-11-23T10:00"}, {"sign_key": "AAAA"}, {"box_key": None},
    {"box_key": b64encode(bytes(32))}, {"signature": "AAAA"}, {"extra": 1},
])
def test_malformed_cards(ani, change):
    with pytest.raises(MalformedError):
        identity.Card.from_bytes(_edit(ani.card(DAY).to_bytes(), **change))


def test_weak_box_key_refused_even_when_signed():
    signing = SigningKey.generate()
    unsigned = identity._unsigned_fields("auditor", "Eve", signing.verify_key, None, "2026-11-23")
    unsigned["box_key"] = b64encode(bytes(32))
    sig = signing.sign(identity.CARD_DOMAIN + canonical_json(unsigned)).signature
    with pytest.raises(MalformedError):
        identity.Card.from_bytes(canonical_json({**unsigned, "signature": b64encode(sig)}))


def test_names_checked_when_making_cards():
    for bad in ["", "a\nb", "a\u200bb", "x" * 81]:
        with pytest.raises(ValueError):
            identity.AuditorIdentity(bad, PrivateKey.generate(), SigningKey.generate()).card()
    assert identity.valid_name("Ratna Sari Dewi, S.E., M.Ak.")


def test_server_card(server_key):
    card = server_key.card(DAY)
    parsed = identity.Card.from_bytes(card.to_bytes())
    assert parsed.kind == "server" and parsed.box_key is None and parsed.box_key_id is None
    with pytest.raises(MalformedError):
        identity.Card.from_bytes(_edit(card.to_bytes(), box_key="A" * 43 + "="))


def test_sealed_identity(ani):
    blob = ani.seal("sandi yang panjang sekali", kdf.TEST_PARAMS)
    back = identity.AuditorIdentity.unseal(blob, "sandi yang panjang sekali")
    assert bytes(back.box) == bytes(ani.box) and bytes(back.signing) == bytes(ani.signing)
    assert back.name == ani.name
    with pytest.raises(WrongPassphraseError):
        identity.AuditorIdentity.unseal(blob, "salah")
    key = bytes(range(32))
    back = identity.AuditorIdentity.unseal_with_key(ani.seal_with_key(key), key)
    assert back.key_id == ani.key_id
    assert "box" not in repr(ani) or "PrivateKey" not in repr(ani)


def test_server_key_file(server_key):
    data = server_key.to_bytes()
    assert identity.ServerKey.from_bytes(data + b"\n").key_id == server_key.key_id
    for bad in [b"", b"{}", _edit(data, format="x"), _edit(data, version=2),
                _edit(data, signing="AAAA"), _edit(data, extra=1), "text"]:
        with pytest.raises(MalformedError):
            identity.ServerKey.from_bytes(bad)  # type: ignore[arg-type]
