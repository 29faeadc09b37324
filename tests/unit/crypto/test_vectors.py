"""Check the published vectors in tests/vectors/. Where it is practical the expected values are
recomputed from the primitives directly (hashlib, argon2, libsodium) as docs/crypto.md describes
them, not through crypto/, so these tests check the documentation as much as the code."""

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from argon2.low_level import Type, hash_secret_raw
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_scalarmult_base,
)
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

from crypto import bundle, codename, envelope, identity, kdf, keys, sealed
from crypto.encoding import canonical_json, parse_canonical_json
from crypto.errors import (
    AuthenticationError,
    InvalidCodenameError,
    MalformedError,
    NotARecipientError,
    ReplayError,
)
from crypto.padding import padme

VECTORS = Path(__file__).resolve().parents[2] / "vectors"


def load(name):
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def b64(text):
    return base64.b64decode(text)


def test_canonical_json():
    doc = load("canonical_json.json")
    for case in doc["accept"]:
        raw = bytes.fromhex(case["canonical_hex"])
        assert canonical_json(case["value"]) == raw
        assert parse_canonical_json(raw) == case["value"]
    for bad in doc["reject_hex"]:
        with pytest.raises(MalformedError):
            parse_canonical_json(bytes.fromhex(bad))


def _padme(length):   # docs/crypto.md §5, independently of crypto/padding.py
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def test_padme_and_envelope_sizes():
    doc = load("padme.json")
    for length, padded in doc["padme"]:
        assert padme(length) == padded == _padme(length)
    for row in doc["envelope_sizes"]:
        d = max(1, -(-row["plaintext"] // 65532))
        k = _padme(d)
        assert (row["data_chunks"], row["padded_chunks"]) == (d, k)
        assert row["size_1_recipient"] == 4182 + 96 * 1 + 65553 * k
        assert row["size_3_recipients"] == 4182 + 96 * 3 + 65553 * k
        # the vectors' sizes are version 1's (clear key ids), which readers still accept
        assert envelope.padded_size(row["plaintext"], 3, envelope.VERSION_CLEAR) \
            == row["size_3_recipients"]
        # version 2: 16 slots (80 bytes each, and a 16-byte id each in the sealed list, whose
        # message costs 17 bytes), whatever the number of recipients
        assert envelope.padded_size(row["plaintext"]) == 4182 + 17 + 96 * 16 + 65553 * k


def _fingerprint(*public_keys):
    h = hashlib.sha512(b"peluit-fingerprint-v1\0" + b"".join(public_keys)).digest()
    return " ".join(f"{int.from_bytes(h[5 * i:5 * i + 5], 'big') % 100000:05d}" for i in range(8))


def test_key_ids_and_fingerprints():
    for k in load("keys.json")["keys"]:
        sign_pk = bytes(SigningKey(b64(k["ed25519_seed"])).verify_key)
        assert sign_pk == b64(k["ed25519_public"])
        sid = hashlib.blake2b(sign_pk, digest_size=16, person=b"peluit-sig-id-v1").hexdigest()
        assert sid == k["sign_key_id"] == keys.sign_key_id(sign_pk)
        pks = [sign_pk]
        if "x25519_secret" in k:
            box_pk = crypto_scalarmult_base(b64(k["x25519_secret"]))
            assert box_pk == b64(k["x25519_public"])
            bid = hashlib.blake2b(box_pk, digest_size=16, person=b"peluit-box-id-v1").hexdigest()
            assert bid == k["box_key_id_hex"] == keys.box_key_id(box_pk).hex()
            pks.append(box_pk)
        assert k["fingerprint"] == _fingerprint(*pks) == keys.fingerprint(*pks)


def test_reporter_key_derivation():
    doc = load("reporter_keys.json")
    for case in doc["derivations"]:
        salt = bytes.fromhex(case["salt_hex"])
        p = case["argon2id"]
        master = hash_secret_raw(case["codename"].encode("utf-8"), salt, p["t"], p["m"], p["p"],
                                 32, Type.ID)
        assert master.hex() == case["master_hex"]

        def sub(person, master=master):
            return hashlib.blake2b(b"", key=master, digest_size=32, person=person).digest()

        assert sub(b"peluit-lookup-v1").hex() == case["lookup_id_hex"]
        sk = hashlib.sha512(sub(b"peluit-x25519-v1")).digest()[:32]
        assert sk.hex() == case["x25519_secret_hex"]
        assert crypto_scalarmult_base(sk).hex() == case["x25519_public_hex"]
        rk = kdf.reporter_keys(codename.Codename(tuple(case["codename"].split()), "en"), salt,
                               kdf.Argon2Params.from_dict(p))
        assert rk.lookup_id.hex() == case["lookup_id_hex"]
        assert bytes(rk.public_key).hex() == case["x25519_public_hex"]
    for case in doc["normalise"]:
        assert str(codename.normalise(case["typed"])) == case["canonical"]
    for typed in doc["refused"]:
        with pytest.raises(InvalidCodenameError):
            codename.normalise(typed)


def _seed(label):
    return hashlib.sha256(f"peluit test vector {label}".encode()).digest()


def _auditor(label, name):
    return identity.AuditorIdentity(name, PrivateKey(_seed(label + " box")),
                                    SigningKey(_seed(label + " signing")))


def test_cards():
    import datetime as dt
    doc = load("cards.json")
    made = {"ani": _auditor("ani", "Ani Wijaya").card(dt.date(2026, 11, 23)),
            "budi": _auditor("budi", "Budi Santoso").card(dt.date(2026, 11, 23)),
            "server": identity.ServerKey("peluit-vector-server",
                                         SigningKey(_seed("server signing"))).card(
                                             dt.date(2026, 11, 23))}
    for case in doc["cards"]:
        raw = case["card"].encode()
        assert made[case["name"]].to_bytes() == raw
        card = identity.Card.from_bytes(raw)
        assert card.fingerprint == case["fingerprint"]
        obj = json.loads(raw)
        sig = b64(obj.pop("signature"))
        VerifyKey(b64(obj["sign_key"])).verify(b"peluit-card-v1\0" + canonical_json(obj), sig)
    for bad in doc["must_fail_signature"]:
        with pytest.raises(AuthenticationError):
            identity.Card.from_bytes(bad.encode())


def test_bundles():
    signers = {"server": SigningKey(_seed("server signing")),
               "ani": SigningKey(_seed("ani signing"))}
    for case in load("bundles.json")["bundles"]:
        blob = b64(case["bundle_b64"])
        manifest = case["manifest"].encode()
        vk = signers[case["signer"]].verify_key
        # layout by hand: magic, version, reserved, length, manifest, signature, members
        assert blob[:12] == b"PELUIT-B\x01\0\0\0"
        n = int.from_bytes(blob[12:16], "big")
        assert blob[16:16 + n] == manifest
        vk.verify(b"peluit-bundle-v1\0" + manifest, blob[16 + n:80 + n])
        members = b"".join(b64(v) for v in case["members_b64"].values())
        assert blob[80 + n:] == members
        # and through the reader, with the sequence rules
        trusted = {keys.sign_key_id(vk): vk}

        def read(last, blob=blob, case=case, trusted=trusted):
            r = bundle.BundleReader(io.BytesIO(blob), trusted, case["kind"], lambda s: last,
                                    case["deployment"])
            return {m.member.name: m.read() for m in r.members()}

        got = read(case["seq"] - 1)
        assert got == {k: b64(v) for k, v in case["members_b64"].items()}
        with pytest.raises(ReplayError):
            read(case["seq"])
        # byte-exact regeneration: Ed25519 is deterministic
        m = bundle.parse_manifest(manifest)
        again = b"".join(bundle.iter_bundle(m, signers[case["signer"]],
                                            lambda name, c=case: io.BytesIO(
                                                b64(c["members_b64"][name]))))
        assert again == blob


def _pattern(n):
    return bytes((i * 7 + 3) % 251 for i in range(n))


def test_envelopes():
    people = {"Ani Wijaya": _auditor("ani", "Ani Wijaya"),
              "Budi Santoso": _auditor("budi", "Budi Santoso")}
    outsider = PrivateKey(_seed("outsider box"))
    for case in load("envelopes.json")["envelopes"]:
        blob = b64(case["envelope_b64"])
        n = len(case["recipients"])
        d = max(1, -(-case["plaintext_size"] // 65532))
        assert len(blob) == 4182 + 96 * n + 65553 * _padme(d)
        for name in case["recipients"]:
            meta, plain = envelope.open_bytes(blob, [people[name].box])
            assert meta == case["metadata"]
            assert hashlib.sha256(plain).hexdigest() == case["plaintext_sha256"]
            assert plain == _pattern(case["plaintext_size"])
        with pytest.raises(NotARecipientError):
            envelope.open_bytes(blob, [outsider])
        with pytest.raises(AuthenticationError):
            envelope.open_bytes(blob[:-1] + bytes([blob[-1] ^ 1]),
                                [people[case["recipients"][0]].box])


def test_sealed_files():
    import unicodedata
    for case in load("sealed.json")["sealed"]:
        raw = case["file"].encode()
        assert sealed.open_sealed(raw, case["passphrase"], case["label"]) == \
            b64(case["plaintext_b64"])
        # by hand: argon2id over the NFC passphrase, XChaCha20-Poly1305 with the header as AD
        obj = json.loads(raw)
        ct = b64(obj.pop("ciphertext"))
        k = obj["kdf"]
        key = hash_secret_raw(unicodedata.normalize("NFC", case["passphrase"]).encode(),
                              b64(k["salt"]), k["t"], k["m"], k["p"], 32, Type.ID)
        plain = crypto_aead_xchacha20poly1305_ietf_decrypt(ct, canonical_json(obj),
                                                           b64(obj["nonce"]), key)
        assert plain == b64(case["plaintext_b64"])


def test_authorship():
    """§13, recomputed from hashlib and libsodium: the author key from the reporter's X25519
    secret and the report id, then each signature over its domain prefix and canonical JSON."""
    from crypto import authorship

    doc = load("authorship.json")
    secret = bytes.fromhex(doc["reporter_x25519_secret_hex"])
    for case in doc["derivations"]:
        seed = hashlib.blake2b(case["report"].encode("ascii"), key=secret, digest_size=32,
                               person=b"peluit-author-v1").digest()
        assert seed.hex() == case["author_seed_hex"]
        assert bytes(SigningKey(seed).verify_key).hex() == case["author_public_hex"]
        assert bytes(authorship.author_key(PrivateKey(secret), case["report"])) == seed
    dk = SigningKey(bytes.fromhex(doc["deployment_seed_hex"]))
    card = parse_canonical_json(doc["card"].encode())
    att = parse_canonical_json(doc["attestation"].encode())
    st = parse_canonical_json(doc["statement"].encode())
    receipt = parse_canonical_json(doc["receipt"].encode())

    def signed(obj, domain, key):
        body = {k: v for k, v in obj.items() if k != "signature"}
        key.verify(domain + canonical_json(body), b64(obj["signature"]))

    signed(card, b"peluit-authorship-card-v1\0", dk.verify_key)
    signed(att, b"peluit-authorship-attestation-v1\0", dk.verify_key)
    signed(st, b"peluit-authorship-statement-v1\0", VerifyKey(b64(att["author_key"])))
    signed(receipt, b"peluit-authorship-receipt-v1\0", dk.verify_key)
    assert st["attestation"] == att
    assert att["author_key"] == base64.b64encode(
        bytes.fromhex(doc["derivations"][0]["author_public_hex"])).decode()
    armored = doc["statement_armor"].splitlines()
    assert armored[0] == "-----BEGIN PELUIT AUTHORSHIP STATEMENT-----"
    assert armored[-1] == "-----END PELUIT AUTHORSHIP STATEMENT-----"
    assert b64("".join(armored[1:-1])) == doc["statement"].encode()
    assert authorship.verify_text(doc["statement_armor"], doc["card"].encode()).purpose \
        == st["purpose"]
    authorship.Receipt.from_bytes(doc["receipt"].encode()).verify(
        authorship.AuthorshipCard.from_bytes(doc["card"].encode()))
