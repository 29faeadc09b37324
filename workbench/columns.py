"""The vault database's encrypted column types, and the key they use (one command or one
web request at a time: ``unlocked(key)``). See workbench/db.py for what is encrypted and why."""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Iterator
from typing import Any

from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError
from sqlalchemy import LargeBinary
from sqlalchemy.types import TypeDecorator

from crypto.kdf import subkey

from . import trust

_COLUMN_VERSION = b"\x01"
_COLUMN_AD = b"peluit-vault-column-v1\0"
_current_key: contextvars.ContextVar[bytes | None] = contextvars.ContextVar(
    "peluit_vault_column_key", default=None)


class VaultLockedError(Exception):
    """Encrypted data was touched without the vault key (locked vault or a role without it)."""


class TamperedError(Exception):
    """An encrypted column did not decrypt: the database was edited or belongs to another vault."""


def vault_error_of(exc: BaseException) -> BaseException | None:
    """The VaultLockedError or TamperedError behind ``exc`` (SQLAlchemy wraps errors raised
    while binding parameters in a StatementError), or None."""
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__):
        if isinstance(candidate, (VaultLockedError, TamperedError)):
            return candidate
    return None


def column_key(vault_key: bytes) -> bytes:
    return subkey(vault_key, b"peluit-vault-col")


@contextlib.contextmanager
def unlocked(vault_key: bytes | None) -> Iterator[None]:
    """Make ``vault_key`` the key of encrypted columns inside the block (None: stay locked).
    With a key, every transaction in the block also checks the vault's trust records when it
    begins and seals them when it commits (trust.py)."""
    token = _current_key.set(column_key(vault_key) if vault_key else None)
    try:
        with trust.sealing(trust.seal_keys(vault_key) if vault_key else None):
            yield
    finally:
        _current_key.reset(token)


def is_unlocked() -> bool:
    return _current_key.get() is not None


def _key() -> bytes:
    key = _current_key.get()
    if key is None:
        raise VaultLockedError("the vault is locked")
    return key


class EncryptedBytes(TypeDecorator[bytes]):
    """Bytes encrypted under the vault key; ``purpose`` (e.g. "submission.content") is bound in."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, purpose: str, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.purpose = purpose

    def _encode(self, value: Any) -> bytes:
        return bytes(value)

    def _decode(self, raw: bytes) -> Any:
        return raw

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        nonce = os.urandom(24)
        ad = _COLUMN_AD + self.purpose.encode()
        ct = crypto_aead_xchacha20poly1305_ietf_encrypt(self._encode(value), ad, nonce, _key())
        return _COLUMN_VERSION + nonce + ct

    def process_result_value(self, value: bytes | None, dialect: Any) -> Any:
        if value is None:
            return None
        value = bytes(value)
        if value[:1] != _COLUMN_VERSION or len(value) < 41:
            raise TamperedError(f"{self.purpose}: not an encrypted value")
        ad = _COLUMN_AD + self.purpose.encode()
        try:
            plain = crypto_aead_xchacha20poly1305_ietf_decrypt(value[25:], ad, value[1:25], _key())
        except NaclCryptoError:
            raise TamperedError(f"{self.purpose}: does not decrypt under this vault key") from None
        return self._decode(plain)


class EncryptedText(EncryptedBytes):
    cache_ok = True

    def _encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def _decode(self, raw: bytes) -> Any:
        return raw.decode("utf-8")


class EncryptedJSON(EncryptedBytes):
    cache_ok = True

    def _encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def _decode(self, raw: bytes) -> Any:
        return json.loads(raw)


class EncryptedInt(EncryptedBytes):
    cache_ok = True

    def _encode(self, value: Any) -> bytes:
        return str(int(value)).encode("ascii")

    def _decode(self, raw: bytes) -> Any:
        return int(raw)
