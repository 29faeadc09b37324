"""Secrets sealed under a passphrase (docs/crypto.md §4).

A sealed file is canonical JSON: the argon2id parameters and salt, a 24-byte nonce and the
XChaCha20-Poly1305 ciphertext. Everything but the ciphertext is the AEAD's associated data, so
weakening the stored KDF parameters or relabelling the file makes it fail to open, and a wrong
passphrase is told apart from a damaged file only by what the caller already knows."""

from __future__ import annotations

import os
from typing import Any

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError

from .encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from .errors import MalformedError, WrongPassphraseError
from .kdf import DEFAULT_PARAMS, SALT_BYTES, Argon2Params, passphrase_key

FORMAT = "peluit-sealed"
VERSION = 1
MAX_SEALED_BYTES = 1024 * 1024


def seal(plaintext: bytes, passphrase: str, label: str, params: Argon2Params = DEFAULT_PARAMS) -> bytes:
    salt = os.urandom(SALT_BYTES)
    key = passphrase_key(passphrase, salt, params)
    return seal_with_key(plaintext, key, label, kdf={"alg": "argon2id", **params.as_dict(), "salt": b64encode(salt)})


def seal_with_key(plaintext: bytes, key: bytes, label: str, kdf: dict[str, Any] | None = None) -> bytes:
    header = {"format": FORMAT, "version": VERSION, "label": label, "kdf": kdf or {"alg": "none"},
              "nonce": b64encode(os.urandom(24))}
    ad = canonical_json(header)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, b64decode(header["nonce"]), key)
    return canonical_json({**header, "ciphertext": b64encode(ct)})


def _parse(data: bytes, label: str) -> tuple[dict[str, Any], bytes]:
    obj = parse_canonical_json(data, limit=MAX_SEALED_BYTES)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or obj.get("version") != VERSION:
        raise MalformedError("not a Peluit sealed file")
    if obj.get("label") != label:
        raise MalformedError(f"sealed file holds {obj.get('label')!r}, not {label!r}")
    if set(obj) != {"format", "version", "label", "kdf", "nonce", "ciphertext"}:
        raise MalformedError("sealed file has unexpected fields")
    ct = b64decode(obj.pop("ciphertext"))
    b64decode(obj["nonce"], length=24)
    return obj, ct


def kdf_of(data: bytes, label: str) -> tuple[Argon2Params, bytes]:
    header, _ = _parse(data, label)
    kdf = header["kdf"]
    if not isinstance(kdf, dict) or kdf.get("alg") != "argon2id":
        raise MalformedError("sealed file is not passphrase-protected")
    try:
        return Argon2Params.from_dict(kdf), b64decode(kdf["salt"], length=SALT_BYTES)
    except (KeyError, TypeError, ValueError):
        raise MalformedError("bad KDF parameters in sealed file") from None


def open_sealed(data: bytes, passphrase: str, label: str) -> bytes:
    params, salt = kdf_of(data, label)
    return open_with_key(data, passphrase_key(passphrase, salt, params), label)


def open_with_key(data: bytes, key: bytes, label: str) -> bytes:
    header, ct = _parse(data, label)
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(
            ct, canonical_json(header), b64decode(header["nonce"]), key
        )
    except NaclCryptoError:
        raise WrongPassphraseError("wrong passphrase, or the sealed file was changed") from None
