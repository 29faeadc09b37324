"""Proof of authorship (crypto/authorship.py, docs/crypto.md §13): a genuine statement verifies
with the card alone; every forgery, alteration and transplant an attacker would try fails."""

import base64
import hashlib
import json

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import authorship
from crypto.authorship import Attestation, AuthorshipCard, AuthorshipRefused, Receipt, Statement
from crypto.encoding import canonical_json
from crypto.errors import AuthenticationError, CryptoError, MalformedError
from crypto.kdf import reporter_keys, subkey

DEPLOYMENT = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
REPORT_A = "0123456789abcdef0123456789abcdef"
REPORT_B = "fedcba9876543210fedcba9876543210"


@pytest.fixture(scope="module")
def deployment():
    key = SigningKey.generate()
    return key, AuthorshipCard.make(key, DEPLOYMENT, "Inspektorat Contoh", "2026-11-23")


def _statement(deployment, reporter, report=REPORT_A, day="2026-11-20", category="corruption",
               purpose="untuk LPSK"):
    key, _card = deployment
    author = authorship.author_key(reporter, report)
    att = Attestation.issue(key, DEPLOYMENT, report, day, category, author.verify_key,
                            "2026-11-23")
    return Statement.sign(att, author, purpose)


def _doc(statement):
    return json.loads(statement.to_bytes())


def _armor(doc):
    """An armoured block around any JSON document (as an attacker would re-wrap an edit)."""
    raw = base64.b64encode(canonical_json(doc)).decode()
    lines = [raw[i:i + 64] for i in range(0, len(raw), 64)]
    return "\n".join([authorship.ARMOR_BEGIN, *lines, authorship.ARMOR_END]) + "\n"


def test_a_genuine_statement_verifies_with_the_card_alone(deployment):
    _key, card = deployment
    st = _statement(deployment, PrivateKey.generate())
    # What a verifier holds: the printed text (with whatever is around the block) and the card.
    text = "Pernyataan kepengarangan\nreport ...\n\n" + st.armor() + "\nprinted page footer\n"
    got = authorship.verify_text(text, card.to_bytes() + b"\n")
    assert (got.attestation.report, got.attestation.day, got.attestation.category,
            got.purpose) == (REPORT_A, "2026-11-20", "corruption", "untuk LPSK")


@pytest.mark.parametrize("field,value", [("report", REPORT_B), ("day", "2026-11-21"),
                                         ("category", "pungli"), ("issued", "2026-11-24"),
                                         ("deployment", "another-deployment")])
def test_an_altered_attestation_fails(deployment, field, value):
    _key, card = deployment
    doc = _doc(_statement(deployment, PrivateKey.generate()))
    doc["attestation"][field] = value
    with pytest.raises(AuthenticationError):
        authorship.verify_text(_armor(doc), card.to_bytes())


def test_an_altered_purpose_fails(deployment):
    _key, card = deployment
    doc = _doc(_statement(deployment, PrivateKey.generate()))
    doc["purpose"] = "untuk KPK"
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(_armor(doc), card.to_bytes())
    assert exc.value.code == "reporter_signature"


def test_any_changed_byte_fails(deployment):
    """Every single-byte change of the statement's canonical bytes, re-armoured: none passes."""
    _key, card = deployment
    raw = _statement(deployment, PrivateKey.generate()).to_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        text = (authorship.ARMOR_BEGIN + "\n" + base64.b64encode(bytes(bad)).decode()
                + "\n" + authorship.ARMOR_END)
        with pytest.raises(CryptoError):
            authorship.verify_text(text, card.to_bytes())


def test_any_changed_armour_character_fails(deployment):
    _key, card = deployment
    text = _statement(deployment, PrivateKey.generate()).armor()
    body_start = text.index("\n") + 1
    body_end = text.rindex(authorship.ARMOR_END)
    for i in range(body_start, body_end, 7):
        if text[i] == "\n":
            continue
        bad = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1:]
        with pytest.raises(CryptoError):
            authorship.verify_text(bad, card.to_bytes())


def test_a_forged_attestation_with_another_key_fails(deployment):
    """The attacker makes their own deployment key and attests a report to their own author
    key, naming the real deployment and the real key id."""
    _key, card = deployment
    mine = SigningKey.generate()
    author = SigningKey.generate()
    att = Attestation.issue(mine, DEPLOYMENT, REPORT_A, "2026-11-20", "corruption",
                            author.verify_key, "2026-11-23")
    doc = json.loads(Statement.sign(att, author, "").to_bytes())
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(_armor(doc), card.to_bytes())
    assert exc.value.code == "other_key"
    doc["attestation"]["signer"] = card.key_id  # claim the real signer: the signature fails
    body = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"] = base64.b64encode(author.sign(
        authorship.STATEMENT_DOMAIN + canonical_json(body)).signature).decode()
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(_armor(doc), card.to_bytes())
    assert exc.value.code == "attestation_signature"


def test_a_transplanted_signature_fails(deployment):
    """Report A's genuine attestation, signed by codename B (who wants A's credit)."""
    _key, card = deployment
    a, b = PrivateKey.generate(), PrivateKey.generate()
    genuine = _statement(deployment, a)
    b_key = authorship.author_key(b, REPORT_A)
    with pytest.raises(ValueError):
        Statement.sign(genuine.attestation, b_key, "untuk LPSK")  # refused when made honestly
    doc = _doc(genuine)
    body = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"] = base64.b64encode(b_key.sign(
        authorship.STATEMENT_DOMAIN + canonical_json(body)).signature).decode()
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(_armor(doc), card.to_bytes())
    assert exc.value.code == "reporter_signature"
    # B swaps in their own key as author_key: the deployment's signature then fails.
    doc["attestation"]["author_key"] = base64.b64encode(bytes(b_key.verify_key)).decode()
    body = {k: v for k, v in doc.items() if k != "signature"}
    doc["signature"] = base64.b64encode(b_key.sign(
        authorship.STATEMENT_DOMAIN + canonical_json(body)).signature).decode()
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(_armor(doc), card.to_bytes())
    assert exc.value.code == "attestation_signature"


def test_a_statement_from_another_deployment_fails(deployment):
    """Genuine in its own deployment; checked against ours it fails, even when the other
    deployment reuses our deployment id or our card's name."""
    _key, card = deployment
    other_key = SigningKey.generate()
    other_card = AuthorshipCard.make(other_key, "other-deployment", "Inspektorat Contoh",
                                     "2026-11-23")
    author = authorship.author_key(PrivateKey.generate(), REPORT_A)
    att = Attestation.issue(other_key, "other-deployment", REPORT_A, "2026-11-20", "corruption",
                            author.verify_key, "2026-11-23")
    st = Statement.sign(att, author, "")
    authorship.verify_text(st.armor(), other_card.to_bytes())  # genuine where it belongs
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(st.armor(), card.to_bytes())
    assert exc.value.code == "other_deployment"
    att2 = Attestation.issue(other_key, DEPLOYMENT, REPORT_A, "2026-11-20", "corruption",
                             author.verify_key, "2026-11-23")
    with pytest.raises(AuthorshipRefused) as exc:
        authorship.verify_text(Statement.sign(att2, author, "").armor(), card.to_bytes())
    assert exc.value.code == "other_key"


def test_an_edited_card_fails(deployment):
    _key, card = deployment
    doc = json.loads(card.to_bytes())
    doc["deployment"] = "another-deployment"
    with pytest.raises(AuthenticationError):
        AuthorshipCard.from_bytes(canonical_json(doc))
    doc = json.loads(card.to_bytes())
    doc["sign_key"] = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    with pytest.raises(AuthenticationError):
        AuthorshipCard.from_bytes(canonical_json(doc))


def test_two_statements_are_unlinkable_beyond_what_they_state(deployment):
    """Two reports (two codenames, as a codename files one report): the statements share only
    the deployment's own fields; no key, signature or value of one appears in the other."""
    one = _doc(_statement(deployment, PrivateKey.generate(), REPORT_A))
    two = _doc(_statement(deployment, PrivateKey.generate(), REPORT_B, "2026-11-21", "pungli"))
    shared = {"format", "version", "deployment", "signer", "issued"}
    for field, value in one["attestation"].items():
        if field not in shared:
            assert value != two["attestation"][field], field
            assert str(value) not in json.dumps(two), field
    assert one["signature"] not in json.dumps(two)


def test_the_author_key_is_per_report_and_domain_separated():
    reporter = PrivateKey.generate()
    a, b = authorship.author_key(reporter, REPORT_A), authorship.author_key(reporter, REPORT_B)
    assert bytes(a) != bytes(b)  # one codename's two reports would not share a key either
    # Not the secret itself, nor any other subkey made from it with another personalisation.
    for purpose in (b"peluit-lookup-v1", b"peluit-x25519-v1", b"peluit-vlt-kchk",
                    b"peluit-answered"):
        assert bytes(a) != subkey(bytes(reporter), purpose)
        assert bytes(a) != hashlib.blake2b(REPORT_A.encode(), key=bytes(reporter),
                                           digest_size=32, person=purpose).digest()
    assert bytes(a) != bytes(reporter)
    assert bytes(a) == hashlib.blake2b(REPORT_A.encode(), key=bytes(reporter), digest_size=32,
                                       person=b"peluit-author-v1").digest()


def test_the_author_key_follows_the_codename(tmp_path):
    """The same codename typed again gives the same key (the reporter logs in another day)."""
    from crypto import codename
    from crypto.kdf import TEST_PARAMS

    name = codename.generate("en")
    salt = bytes(range(32))
    one = reporter_keys(codename.normalise(str(name).upper()), salt, TEST_PARAMS)
    two = reporter_keys(codename.normalise(str(name)), salt, TEST_PARAMS)
    assert bytes(authorship.author_key(one.private_key, REPORT_A)) == \
        bytes(authorship.author_key(two.private_key, REPORT_A))


@pytest.mark.parametrize("purpose", ["a\nb", "x" * 201, " lead", "\u202eevil", "a\u200bb"])
def test_a_purpose_line_that_would_hide_what_was_signed_is_refused(deployment, purpose):
    key, _card = deployment
    author = authorship.author_key(PrivateKey.generate(), REPORT_A)
    att = Attestation.issue(key, DEPLOYMENT, REPORT_A, "2026-11-20", "corruption",
                            author.verify_key, "2026-11-23")
    with pytest.raises(ValueError):
        Statement.sign(att, author, purpose)


@pytest.mark.parametrize("text", ["", "no block", authorship.ARMOR_BEGIN + "\n" +
                                  authorship.ARMOR_END, authorship.ARMOR_BEGIN + "\n!!\n" +
                                  authorship.ARMOR_END, "x" * 100_000])
def test_garbage_is_malformed_never_a_crash(deployment, text):
    _key, card = deployment
    with pytest.raises(MalformedError):
        authorship.verify_text(text, card.to_bytes())


def test_two_blocks_are_refused(deployment):
    _key, card = deployment
    a = _statement(deployment, PrivateKey.generate()).armor()
    with pytest.raises(MalformedError):
        authorship.verify_text(a + a, card.to_bytes())


def test_a_receipt_counter_signs_a_genuine_statement_only(deployment):
    key, card = deployment
    st = _statement(deployment, PrivateKey.generate())
    receipt = Receipt.issue(key, card, st, "LPSK", "2026-11-25")
    Receipt.from_bytes(receipt.to_bytes()).verify(card)
    doc = json.loads(receipt.to_bytes())
    doc["recipient"] = "KPK"
    with pytest.raises(AuthorshipRefused):
        Receipt.from_bytes(canonical_json(doc)).verify(card)
    bad = _doc(st)
    bad["purpose"] = "changed"
    with pytest.raises(AuthenticationError):
        Receipt.issue(key, card, Statement.from_bytes(canonical_json(bad)), "LPSK", "2026-11-25")
