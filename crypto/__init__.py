"""Peluit's cryptographic core: codenames, key derivation, identities, the streaming envelope,
signed bundles and the OpenPGP bridge. No web and no database code lives here; every format is
specified byte by byte in docs/crypto.md."""

from .errors import (
    AuthenticationError,
    CryptoError,
    InvalidCodenameError,
    MalformedError,
    NotARecipientError,
    OpenPGPError,
    ReplayError,
    TruncatedError,
    UnknownSignerError,
    WrongPassphraseError,
)

__all__ = [
    "AuthenticationError",
    "CryptoError",
    "InvalidCodenameError",
    "MalformedError",
    "NotARecipientError",
    "OpenPGPError",
    "ReplayError",
    "TruncatedError",
    "UnknownSignerError",
    "WrongPassphraseError",
]
