"""Gateway accounts' TOTP seeds, sealed under a key kept outside the database.

The seed (base32, 160 bits) is stored as ``s1:`` + base64(nonce ‖ XChaCha20-Poly1305 ciphertext),
under a key derived from the server's local secret (dropbox_app/serversecret.py, purpose
``peluit-totp``) with the account's id as associated data, so a sealed seed moved to another
account does not open. A copy of the database, or a backup read without its passphrase-sealed
secrets, holds no usable seed and mints no second-factor code."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError

from .. import serversecret

PREFIX = "s1:"
PURPOSE = b"peluit-totp"


class SealedSeedError(Exception):
    """The stored seed is not sealed, or does not open under this server's key."""


@dataclass(frozen=True)
class TotpKey:
    """The key that seals the accounts' TOTP seeds (a service of the gateway app:
    ``request.find_service(TotpKey).key``)."""

    key: bytes


def key_for(config) -> bytes:
    return serversecret.subkey(serversecret.load(config), PURPOSE)


def key_from_file(path) -> bytes:
    return serversecret.subkey(serversecret.ensure(path), PURPOSE)


def _ad(user_id: str) -> bytes:
    return b"peluit-totp-seed\0" + user_id.encode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(seed: str, user_id: str, key: bytes) -> str:
    nonce = os.urandom(24)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(seed.encode("ascii"), _ad(user_id), nonce,
                                                    key)
    return PREFIX + base64.b64encode(nonce + ct).decode("ascii")


def unseal(stored: str, user_id: str, key: bytes) -> str:
    if not is_sealed(stored):
        raise SealedSeedError("the TOTP seed is not sealed (run `peluit db upgrade`)")
    try:
        raw = base64.b64decode(stored[len(PREFIX):], validate=True)
        return crypto_aead_xchacha20poly1305_ietf_decrypt(raw[24:], _ad(user_id), raw[:24],
                                                          key).decode("ascii")
    except (ValueError, NaclCryptoError):
        raise SealedSeedError("the TOTP seed does not open under this server's key") from None
