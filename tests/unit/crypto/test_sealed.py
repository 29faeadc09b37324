import json

import pytest

from crypto import kdf, sealed
from crypto.encoding import canonical_json
from crypto.errors import CryptoError, MalformedError, WrongPassphraseError

P = kdf.TEST_PARAMS


@pytest.fixture(scope="module")
def blob():
    return sealed.seal(b"secret keys", "kata sandi rahasia", "auditor-identity", P)


def _edit(blob, fn):
    obj = json.loads(blob)
    fn(obj)
    return canonical_json(obj)


def test_round_trip(blob):
    assert sealed.open_sealed(blob, "kata sandi rahasia", "auditor-identity") == b"secret keys"
    assert b"secret keys" not in blob and b"rahasia" not in blob
    assert sealed.kdf_of(blob, "auditor-identity")[0] == P


def test_fresh_salt_and_nonce_each_time():
    a = json.loads(sealed.seal(b"x", "pw", "t", P))
    b = json.loads(sealed.seal(b"x", "pw", "t", P))
    assert a["kdf"]["salt"] != b["kdf"]["salt"] and a["nonce"] != b["nonce"]


def test_wrong_passphrase(blob):
    with pytest.raises(WrongPassphraseError):
        sealed.open_sealed(blob, "kata sandi salah", "auditor-identity")


def test_wrong_label(blob):
    with pytest.raises(MalformedError):
        sealed.open_sealed(blob, "kata sandi rahasia", "vault")


@pytest.mark.parametrize("edit", [
    lambda o: o["kdf"].update(t=o["kdf"]["t"] + 1),      # weaker/stronger parameters
    lambda o: o["kdf"].update(m=o["kdf"]["m"] * 2),
    lambda o: o["kdf"].update(salt="A" * 22 + "=="),
    lambda o: o.update(nonce="A" * 32),
    lambda o: o.update(ciphertext="A" + o["ciphertext"][1:] if o["ciphertext"][0] != "A"
                       else "B" + o["ciphertext"][1:]),
])
def test_tampering_is_detected(blob, edit):
    with pytest.raises(WrongPassphraseError):
        sealed.open_sealed(_edit(blob, edit), "kata sandi rahasia", "auditor-identity")


@pytest.mark.parametrize("edit", [
    lambda o: o["kdf"].update(m=1 << 30 << 2),   # 4 TiB: refused before any allocation
    lambda o: o["kdf"].update(t=10**6),
    lambda o: o["kdf"].update(p=0),
    lambda o: o["kdf"].update(alg="scrypt"),
    lambda o: o["kdf"].update(extra=1),
    lambda o: o["kdf"].pop("salt"),
    lambda o: o.update(kdf={"alg": "none"}),
    lambda o: o.update(version=2),
    lambda o: o.update(extra=1),
    lambda o: o.update(nonce="AAAA"),
    lambda o: o.update(ciphertext="AAAA"),
    lambda o: o.pop("label"),
])
def test_malformed_is_refused(blob, edit):
    with pytest.raises(MalformedError):
        sealed.open_sealed(_edit(blob, edit), "kata sandi rahasia", "auditor-identity")


def test_with_key():
    key = bytes(range(32))
    blob = sealed.seal_with_key(b"vault", key, "vault")
    assert sealed.open_with_key(blob, key, "vault") == b"vault"
    with pytest.raises(WrongPassphraseError):
        sealed.open_with_key(blob, bytes(32), "vault")
    with pytest.raises(MalformedError):
        sealed.kdf_of(blob, "vault")   # not passphrase-protected
    with pytest.raises(ValueError):
        sealed.seal_with_key(b"x", b"short", "vault")
    with pytest.raises(ValueError):
        sealed.seal_with_key(b"x", key, "vault", kdf={"alg": "homemade"})


def test_not_json_at_all():
    for junk in [b"", b"\x00" * 10, b"{}", b"[]", b'"x"', b"{" * 1000]:
        with pytest.raises(CryptoError):
            sealed.open_sealed(junk, "pw", "t")


def test_passphrase_unicode_forms_are_one_passphrase():
    composed, decomposed = "kata s\u00e9andi", "kata se\u0301andi"
    blob = sealed.seal(b"x", composed, "t", P)
    assert sealed.open_sealed(blob, decomposed, "t") == b"x"
