"""The library's own errors. Every parser in crypto/ raises one of these on bad input,
never a bare exception from a lower layer, so callers can turn them into a clear message."""


class CryptoError(Exception):
    """Base class for every error crypto/ raises on purpose."""


class MalformedError(CryptoError):
    """Input does not follow the documented format (wrong magic, bad lengths, bad JSON)."""


class AuthenticationError(CryptoError):
    """A signature, MAC or AEAD tag did not verify: the data was changed or is not ours."""


class NotARecipientError(CryptoError):
    """The envelope was not sealed to any of the keys offered."""


class TruncatedError(MalformedError):
    """The input ended before the format said it would."""


class WrongPassphraseError(AuthenticationError):
    """A sealed file did not open with the passphrase given."""


class UnknownSignerError(AuthenticationError):
    """A bundle was signed by a key that is not trusted for it."""


class ReplayError(CryptoError):
    """A bundle's sequence number is not newer than the last one accepted from its signer."""


class InvalidCodenameError(CryptoError):
    """What was typed cannot be a codename (unknown words, wrong count)."""


class OpenPGPError(CryptoError):
    """GnuPG refused a key or an operation."""
