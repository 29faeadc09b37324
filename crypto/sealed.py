"""Secrets sealed under a passphrase or a key (docs/crypto.md §4).

A sealed file is canonical JSON: the format, a label saying what it holds, the KDF (argon2id
parameters and salt, or "none" when the caller supplies the key), a 24-byte nonce and the
XChaCha20-Poly1305 ciphertext. Everything but the ciphertext is the AEAD's associated data, so
weakening the stored KDF parameters or relabelling the file makes it fail to open. A wrong
passphrase and a tampered file are deliberately the same error: telling them apart would need
an unauthenticated check an attacker could steer."""

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
NONCE_BYTES = 24
KEY_BYTES = 32
MAX_SEALED_BYTES = 1024 * 1024
_FIELDS = {"format", "version", "label", "kdf", "nonce", "ciphertext"}


def seal(plaintext: bytes, passphrase: str, label: str,
         params: Argon2Params = DEFAULT_PARAMS) -> bytes:
    """Seal ``plaintext`` under a key derived from ``passphrase`` with a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    key = passphrase_key(passphrase, salt, params)
    kdf = {"alg": "argon2id", **params.as_dict(), "salt": b64encode(salt)}
    return seal_with_key(plaintext, key, label, kdf=kdf)


def seal_with_key(plaintext: bytes, key: bytes, label: str,
                  kdf: dict[str, Any] | None = None) -> bytes:
    """Seal under a 32-byte key the caller holds (for example the workbench vault key)."""
    if len(key) != KEY_BYTES:
        raise ValueError("sealing keys are 32 bytes")
    if not isinstance(label, str) or not label:
        raise ValueError("a sealed file needs a label")
    if kdf is not None:
        _check_kdf(kdf, ValueError)
    header = {"format": FORMAT, "version": VERSION, "label": label,
              "kdf": kdf or {"alg": "none"}, "nonce": b64encode(os.urandom(NONCE_BYTES))}
    ad = canonical_json(header)
    if len(ad) + 4 * (-(-(len(plaintext) + 16) // 3)) + 20 > MAX_SEALED_BYTES:
        raise ValueError("too much to seal in one file")
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes(plaintext), ad, b64decode(header["nonce"]), key)
    return canonical_json({**header, "ciphertext": b64encode(ct)})


def _parse(data: bytes, label: str) -> tuple[dict[str, Any], bytes, bytes]:
    obj = parse_canonical_json(data, limit=MAX_SEALED_BYTES)
    if not isinstance(obj, dict) or obj.get("format") != FORMAT or obj.get("version") != VERSION:
        raise MalformedError("not a Peluit sealed file")
    if set(obj) != _FIELDS:
        raise MalformedError("sealed file has unexpected fields")
    if obj["label"] != label:
        raise MalformedError(f"sealed file holds {str(obj['label'])[:40]!r}, not {label!r}")
    ct = b64decode(obj.pop("ciphertext"))
    if len(ct) < 16:
        raise MalformedError("sealed file ciphertext too short")
    nonce = b64decode(obj["nonce"], length=NONCE_BYTES)
    _check_kdf(obj["kdf"], MalformedError)
    return obj, ct, nonce


def _check_kdf(kdf: Any, error: type[Exception]) -> None:
    """The documented KDF shapes only: {"alg": "none"} or argon2id with t, m, p and salt."""
    if not isinstance(kdf, dict) or kdf.get("alg") not in ("argon2id", "none"):
        raise error("unknown KDF in sealed file")
    wanted = {"alg", "t", "m", "p", "salt"} if kdf["alg"] == "argon2id" else {"alg"}
    if set(kdf) != wanted:
        raise error("bad KDF parameters in sealed file")


def kdf_of(data: bytes, label: str) -> tuple[Argon2Params, bytes]:
    """The argon2id parameters and salt of a passphrase-sealed file, bounds-checked before any
    memory is spent on them (kdf.MAX_MEMORY_KIB, kdf.MAX_TIME_COST)."""
    header, _, _ = _parse(data, label)
    kdf = header["kdf"]
    if kdf["alg"] != "argon2id":
        raise MalformedError("sealed file is not passphrase-protected")
    try:
        params = Argon2Params.from_dict(kdf)
    except ValueError:
        raise MalformedError("bad KDF parameters in sealed file") from None
    return params, b64decode(kdf["salt"], length=SALT_BYTES)


def open_sealed(data: bytes, passphrase: str, label: str) -> bytes:
    """Open a passphrase-sealed file; WrongPassphraseError if the passphrase is wrong or the
    file (its parameters, label, nonce or ciphertext) was changed."""
    params, salt = kdf_of(data, label)
    return open_with_key(data, passphrase_key(passphrase, salt, params), label)


def open_with_key(data: bytes, key: bytes, label: str) -> bytes:
    header, ct, nonce = _parse(data, label)
    if len(key) != KEY_BYTES:
        raise ValueError("sealing keys are 32 bytes")
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(ct, canonical_json(header), nonce, key)
    except NaclCryptoError:
        raise WrongPassphraseError("wrong passphrase, or the sealed file was changed") from None
