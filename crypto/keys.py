"""Key ids and fingerprints.

* A key id names a key in a file format (envelope recipients, bundle signers): 16 bytes of
  BLAKE2b over the public key with a purpose-specific personalisation, shown as 32 hex digits.
* A fingerprint is what two people compare aloud over the phone: 40 decimal digits in eight
  groups of five, derived like Signal's safety numbers (digits read the same in Indonesian and
  English, unlike letters)."""

from __future__ import annotations

import functools
import hashlib

from nacl.bindings import crypto_scalarmult
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PublicKey
from nacl.signing import VerifyKey


def box_key_id(public_key: PublicKey | bytes) -> bytes:
    raw = bytes(public_key)
    return hashlib.blake2b(raw, digest_size=16, person=b"peluit-box-id-v1").digest()


def sign_key_id(verify_key: VerifyKey | bytes) -> str:
    raw = bytes(verify_key)
    return hashlib.blake2b(raw, digest_size=16, person=b"peluit-sig-id-v1").hexdigest()


class SignKeyId:
    """For a record that holds a signing public key as ``sign_key`` (a card, a checkpoint): its
    key id, the one name the files and the audit log use for it."""

    sign_key: VerifyKey

    @property
    def key_id(self) -> str:
        return sign_key_id(self.sign_key)


def fingerprint(*public_keys: bytes) -> str:
    """Eight groups of five digits over the concatenated public keys."""
    digest = hashlib.sha512(b"peluit-fingerprint-v1\0" + b"".join(public_keys)).digest()
    groups = []
    for i in range(8):
        chunk = int.from_bytes(digest[i * 5 : i * 5 + 5], "big")
        groups.append(f"{chunk % 100000:05d}")
    return " ".join(groups)


@functools.lru_cache(maxsize=4096)
def usable_box_key(raw: bytes) -> bool:
    """False for the X25519 points of small order: a 'key' that makes every shared secret
    all-zero, so whatever is sealed to it is readable by anyone. Cached: the answer is a fixed
    property of a public (not secret) value, and importers seal thousands of files to the same
    few keys, each check costing a scalar multiplication."""
    try:
        crypto_scalarmult(b"\x09" * 32, raw)
    except NaclCryptoError:
        return False
    return True
