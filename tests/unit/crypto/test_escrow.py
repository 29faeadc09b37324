"""Identity in escrow (crypto/escrow.py, docs/crypto.md §12): who can open a deposit, and when.

Every attack here is made with real keys: the auditors' and the lead's keys are tried on every
sealed share; custodians who hold the deposit and their own keys try without the reporter's
release; deposits are edited, moved to another report and given another deposit's shares."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, SealedBox

from crypto import escrow
from crypto.encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from crypto.errors import AuthenticationError, CryptoError, MalformedError, NotARecipientError
from crypto.identity import AuditorIdentity, Card, CustodianIdentity

IDENTITY = {"name": "Siti Rahma", "nip": "198703122010012001", "unit": "Biro Keuangan",
            "contact": "siti@example.org"}


@pytest.fixture(scope="module")
def custodians():
    return [CustodianIdentity.generate(f"Kustodian {i}") for i in range(3)]


@pytest.fixture(scope="module")
def staff():
    """The workbench's people: two auditors and a lead, with real keys."""
    return [AuditorIdentity.generate(n) for n in ("Ani", "Budi", "Pimpinan Irjen")]


@pytest.fixture
def reporter():
    return PrivateKey.generate()


def deposit(reporter, custodians, rule=None, report=None, dep=None):
    rule = rule or escrow.Rule()
    dep = dep or secrets.token_hex(16)
    report = report or secrets.token_hex(16)
    data = escrow.seal_deposit(IDENTITY, deposit_id=dep, report_id=report,
                               reporter_secret=reporter,
                               custodians=[c.card() for c in custodians], rule=rule)
    return data, report, dep


def opens(data, report, reporter, who, **kw):
    return escrow.open_deposit(data, report_id=report,
                               reporter_key=bytes(reporter.public_key), custodians=who, **kw)


def test_custodian_opens_with_the_reporters_release(reporter, custodians):
    data, report, dep = deposit(reporter, custodians)
    release = escrow.release_key(reporter, dep)
    for c in custodians:
        assert opens(data, report, reporter, [c], release=release) == IDENTITY
    parsed = escrow.parse_deposit(data)
    assert parsed.report_id == report and parsed.deposit_id == dep
    assert parsed.check_release(release)
    assert not parsed.check_release(escrow.release_key(PrivateKey.generate(), dep))


def test_nothing_of_the_identity_in_the_clear(reporter, custodians):
    data, _, _ = deposit(reporter, custodians)
    for value in IDENTITY.values():
        assert value.encode() not in data


def test_auditors_and_lead_cannot_open(reporter, custodians, staff):
    """The workbench's own keys, tried on every sealed share of both parts and as custodians:
    none opens anything, with or without the reporter's release."""
    data, report, dep = deposit(reporter, custodians, escrow.Rule(1, 1))
    doc = parse_canonical_json(data)
    release = escrow.release_key(reporter, dep)
    for person in staff:
        for part in ("consent", "approval"):
            for _, sealed in doc[part]["shares"]:
                with pytest.raises(NaclCryptoError):
                    SealedBox(person.box).decrypt(b64decode(sealed))
        as_custodian = CustodianIdentity(person.name, person.box, person.signing)
        for kw in ({"release": release}, {"approval": True}, {}):
            with pytest.raises(NotARecipientError):
                opens(data, report, reporter, [as_custodian], **kw)


def test_custodians_cannot_open_without_consent(reporter, custodians):
    """All custodians together, with the deposit and their keys, and no release: refused by the
    cryptography, not by a check one could skip. A release of another deposit or another
    reporter does not help either."""
    data, report, dep = deposit(reporter, custodians)
    with pytest.raises(AuthenticationError):
        opens(data, report, reporter, custodians)
    with pytest.raises(AuthenticationError):
        opens(data, report, reporter, custodians, approval=True)  # the policy did not allow it
    for wrong in (escrow.release_key(reporter, secrets.token_hex(16)),
                  escrow.release_key(PrivateKey.generate(), dep), bytes(32)):
        with pytest.raises(AuthenticationError):
            opens(data, report, reporter, custodians, release=wrong)
    # Skipping the release check does not help: the content key needs the release itself.
    d = escrow.parse_deposit(data)
    c = escrow._combine(escrow._unseal_shares(d, "consent", custodians[:1]))
    body = {k: v for k, v in d.raw.items() if k != "ciphertext"}
    for guess in (bytes(32), c, escrow.release_check(escrow.release_key(reporter, dep))):
        with pytest.raises(NaclCryptoError):
            escrow.crypto_aead_xchacha20poly1305_ietf_decrypt(
                b64decode(d.raw["ciphertext"]), escrow.AEAD_DOMAIN + canonical_json(body),
                b64decode(d.raw["nonce"]), escrow._content_key(c, guess))


def test_k_of_n_consent(reporter, custodians):
    data, report, dep = deposit(reporter, custodians, escrow.Rule(consent_k=2))
    release = escrow.release_key(reporter, dep)
    for one in custodians:
        with pytest.raises(AuthenticationError):
            opens(data, report, reporter, [one], release=release)
    for pair in ([0, 1], [0, 2], [1, 2]):
        assert opens(data, report, reporter, [custodians[i] for i in pair],
                     release=release) == IDENTITY


def test_approval_where_the_policy_allows_it(reporter, custodians):
    data, report, _ = deposit(reporter, custodians, escrow.Rule(consent_k=1, approval_k=2))
    for one in custodians:
        with pytest.raises(AuthenticationError):
            opens(data, report, reporter, [one], approval=True)
    assert opens(data, report, reporter, custodians[1:], approval=True) == IDENTITY


def test_transplanted_deposit_refused(reporter, custodians):
    """A deposit moved to another report or reporter key does not open there, whether the
    workbench is told the other case or the document is edited to name it."""
    data, report, dep = deposit(reporter, custodians)
    release = escrow.release_key(reporter, dep)
    other = PrivateKey.generate()
    with pytest.raises(AuthenticationError):
        opens(data, secrets.token_hex(16), reporter, custodians, release=release)
    with pytest.raises(AuthenticationError):
        escrow.open_deposit(data, report_id=report, reporter_key=bytes(other.public_key),
                            custodians=custodians, release=release)
    doc = parse_canonical_json(data)
    new_report = secrets.token_hex(16)
    edited = canonical_json({**doc, "report": new_report})
    with pytest.raises(AuthenticationError):
        opens(edited, new_report, reporter, custodians, release=release)
    edited = canonical_json({**doc, "reporter_key": b64encode(bytes(other.public_key))})
    with pytest.raises(AuthenticationError):
        escrow.open_deposit(edited, report_id=report, reporter_key=bytes(other.public_key),
                            custodians=custodians, release=release)


def test_shares_from_another_deposit_refused(reporter, custodians):
    data, report, dep = deposit(reporter, custodians)
    other, _, _ = deposit(reporter, custodians, report=report)
    doc, odoc = parse_canonical_json(data), parse_canonical_json(other)
    spliced = canonical_json({**doc, "consent": odoc["consent"]})
    with pytest.raises(AuthenticationError):
        opens(spliced, report, reporter, custodians[:1],
              release=escrow.release_key(reporter, dep))


def test_tampered_deposit_refused(reporter, custodians):
    data, report, dep = deposit(reporter, custodians, escrow.Rule(1, 1))
    release = escrow.release_key(reporter, dep)
    doc = parse_canonical_json(data)
    edits = [
        {"nonce": b64encode(bytes(24))},
        {"ciphertext": b64encode(b64decode(doc["ciphertext"])[:-1] + b"\0")},
        {"approval": None},
        {"custodians": doc["custodians"][:2],
         "consent": {"k": 1, "shares": doc["consent"]["shares"][:2]},
         "approval": {"k": 1, "shares": doc["approval"]["shares"][:2]}},
        {"consent": {"k": 2, "shares": doc["consent"]["shares"]}},
    ]
    for edit in edits:
        with pytest.raises(CryptoError):
            opens(canonical_json({**doc, **edit}), report, reporter, custodians[:1],
                  release=release)
    for i in range(0, len(data), 97):  # bit flips all along the document
        flipped = bytearray(data)
        flipped[i] ^= 0x04
        with pytest.raises(CryptoError):
            opens(bytes(flipped), report, reporter, custodians[:1], release=release)


def test_replayed_deposit_is_the_same_deposit(reporter, custodians):
    """A deposit sent again keeps its id (the AEAD binds it): the workbench keeps one per id
    (tests/unit/workbench for the refusal); changing the id breaks the deposit."""
    data, report, dep = deposit(reporter, custodians)
    assert escrow.parse_deposit(data).deposit_id == dep
    doc = parse_canonical_json(data)
    new = secrets.token_hex(16)
    with pytest.raises(CryptoError):
        opens(canonical_json({**doc, "deposit": new}), report, reporter, custodians,
              release=escrow.release_key(reporter, new))


@pytest.mark.parametrize("junk", [b"", b"{}", b"[]", b"null", b"x" * 70000])
def test_malformed(junk):
    with pytest.raises(MalformedError):
        escrow.parse_deposit(junk)


def test_custodian_card_is_its_own_kind(custodians):
    card = Card.from_bytes(custodians[0].card().to_bytes())
    assert card.kind == "custodian" and card.box_key == custodians[0].box.public_key
    sealed = custodians[0].seal_with_key(bytes(32))
    with pytest.raises(CryptoError):  # a vault never takes it for a member's identity
        AuditorIdentity.unseal_with_key(sealed, bytes(32))
    assert CustodianIdentity.unseal_with_key(sealed, bytes(32)).key_id == custodians[0].key_id


def test_rule_and_input_checks(reporter, custodians):
    cards = [c.card() for c in custodians]
    for rule in (escrow.Rule(0), escrow.Rule(4), escrow.Rule(1, 0), escrow.Rule(1, 4)):
        with pytest.raises(ValueError):
            escrow.seal_deposit(IDENTITY, deposit_id="0" * 32, report_id="1" * 32,
                                reporter_secret=reporter, custodians=cards, rule=rule)
    auditor_card = AuditorIdentity.generate("Ani").card()
    with pytest.raises(ValueError):
        escrow.seal_deposit(IDENTITY, deposit_id="0" * 32, report_id="1" * 32,
                            reporter_secret=reporter, custodians=[auditor_card],
                            rule=escrow.Rule())
    for bad in ({**IDENTITY, "name": ""}, {**IDENTITY, "unit": "a\nb"}, {"name": "x"}):
        with pytest.raises(ValueError):
            escrow.seal_deposit(bad, deposit_id="0" * 32, report_id="1" * 32,
                                reporter_secret=reporter, custodians=cards, rule=escrow.Rule())


def test_vectors():
    """The derivations of docs/crypto.md §12, byte for byte."""
    secret = PrivateKey(bytes(range(32)))
    dep = "00112233445566778899aabbccddeeff"
    release = escrow.release_key(secret, dep)
    assert release == hashlib.blake2b(bytes.fromhex(dep), key=bytes(range(32)),
                                      person=b"peluit-esc-rel-1", digest_size=32).digest()
    assert release.hex() == VECTOR_RELEASE
    assert escrow.release_check(release).hex() == VECTOR_CHECK
    assert escrow._content_key(bytes([0x42]) * 32, release).hex() == VECTOR_KEY
    # Shamir over GF(2^128) on each half (PyCryptodome): these shares rebuild 0x00..0x1f.
    shares = {i: bytes.fromhex(h) for i, h in VECTOR_SHARES.items()}
    assert escrow._combine({1: shares[1], 3: shares[3]}) == bytes(range(32))
    assert escrow._combine({2: shares[2], 3: shares[3]}) == bytes(range(32))


VECTOR_RELEASE = "38597172a9dfce81e5839267559f5dd4c0653a42f8686db390b7b6dd8f28ff8f"
VECTOR_CHECK = "f2b91ee5dc5db05766a117734fd28a660f619ee8826811083750e4cfd6b40410"
VECTOR_KEY = "4c118601e427d2074ad538c5351d3f3897e7095a4f6104e8b9b03935f71391dd"
VECTOR_SHARES = {
    1: "a73996b9e618373d98557de11e74f5e4cee59260dc5451e5159eb4b0b187cd94",
    2: "4e702b76c03f647228b1e5df28fef95eadf812f4849799f30316474c4728b98e",
    3: "e948bfcc22225548b8ed92353a8702b5730c92874cd6de010e91e9e7eab26a05",
}
