import re

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.keys import box_key_id, fingerprint, sign_key_id


def test_key_ids_differ_per_purpose():
    raw = bytes(range(32))
    assert len(box_key_id(raw)) == 16
    assert re.fullmatch(r"[0-9a-f]{32}", sign_key_id(raw))
    assert box_key_id(raw).hex() != sign_key_id(raw)   # personalisation separates them


def test_key_ids_accept_key_objects():
    sk = SigningKey.generate()
    assert sign_key_id(sk.verify_key) == sign_key_id(bytes(sk.verify_key))
    bk = PrivateKey.generate()
    assert box_key_id(bk.public_key) == box_key_id(bytes(bk.public_key))


def test_fingerprint_shape_and_sensitivity():
    a = fingerprint(bytes(32), bytes(32))
    assert re.fullmatch(r"(\d{5} ){7}\d{5}", a)
    assert fingerprint(bytes(32), bytes(31) + b"\1") != a
    assert fingerprint(bytes(32)) != a
