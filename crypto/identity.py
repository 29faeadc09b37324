"""Auditor identities, the server's signing key, and the public cards that carry them.

An auditor identity is an X25519 key pair (envelopes are sealed to it) and an Ed25519 key pair
(reply bundles are signed with it). The private halves live only on the workbench, sealed under
the auditor's passphrase (``sealed.py``). The public halves travel as a *card*: canonical JSON
with a self-signature, so a card cannot be edited without the private key, and a fingerprint
that people compare aloud before enrolling it."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

from peluit.ground.clock import Clock

from . import sealed
from .encoding import (
    b64decode,
    b64encode,
    canonical_json,
    parse_canonical_json,
    valid_day,
)
from .errors import AuthenticationError, MalformedError
from .kdf import DEFAULT_PARAMS, Argon2Params
from .keys import SignKeyId, box_key_id, fingerprint, sign_key_id
from .keys import usable_box_key as usable_box_key  # re-exported: part of the card API

CARD_FORMAT = "peluit-card"
CARD_VERSION = 1
CARD_DOMAIN = b"peluit-card-v1\0"
MAX_CARD_BYTES = 16 * 1024
MAX_NAME_CHARS = 80
_CARD_FIELDS = {"format", "version", "kind", "name", "sign_key", "box_key", "created", "signature"}


def valid_name(name: object) -> bool:
    """A name people read on a card: 1-80 characters, NFC, no control, format (bidi overrides,
    zero-width), private-use, unassigned or line-separator characters, no outer white space.
    What is shown is then what was signed, and two cards cannot look alike by hidden tricks."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS:
        return False
    if name != name.strip() or unicodedata.normalize("NFC", name) != name:
        return False
    return all(unicodedata.category(c)[0] != "C" and unicodedata.category(c) not in ("Zl", "Zp")
               for c in name)


#: A custodian (compliance officer, LPSK liaison) holds identities deposited in escrow
#: (crypto/escrow.py): a box key like an auditor, but never enrolled as one.
CardKind = Literal["auditor", "server", "custodian"]
BOX_KINDS = ("auditor", "custodian")


@dataclass(frozen=True)
class Card(SignKeyId):
    """A public identity. ``box_key`` is None for the server, which only signs."""

    kind: CardKind
    name: str
    sign_key: VerifyKey
    box_key: PublicKey | None
    created: str  # YYYY-MM-DD: day granularity, nothing finer
    signature: bytes

    @property
    def fingerprint(self) -> str:
        keys = [bytes(self.sign_key)] + ([bytes(self.box_key)] if self.box_key else [])
        return fingerprint(*keys)

    @property
    def box_key_id(self) -> bytes | None:
        return box_key_id(self.box_key) if self.box_key else None

    def _unsigned(self) -> dict[str, Any]:
        return _unsigned_fields(self.kind, self.name, self.sign_key, self.box_key, self.created)

    def to_bytes(self) -> bytes:
        return canonical_json({**self._unsigned(), "signature": b64encode(self.signature)})

    @classmethod
    def from_bytes(cls, data: bytes) -> Card:
        """Parse and verify a card; raise MalformedError or AuthenticationError. Surrounding
        white space (a trailing newline in a file) is allowed; nothing else is."""
        if not isinstance(data, (bytes, bytearray)):
            raise MalformedError("a card is bytes")
        obj = parse_canonical_json(bytes(data).strip(), limit=MAX_CARD_BYTES)
        if not isinstance(obj, dict) or set(obj) != _CARD_FIELDS:
            raise MalformedError("not a Peluit card")
        if obj["format"] != CARD_FORMAT or obj["version"] != CARD_VERSION:
            raise MalformedError("unsupported card format or version")
        if obj["kind"] not in ("auditor", "server", "custodian"):
            raise MalformedError("unknown card kind")
        if not valid_name(obj["name"]):
            raise MalformedError("bad name on card")
        if not valid_day(obj["created"]):
            raise MalformedError("bad date on card")
        sign_key = VerifyKey(b64decode(obj["sign_key"], length=32))
        box_key = None
        if obj["kind"] in BOX_KINDS:
            raw_box = b64decode(obj["box_key"], length=32)
            if not usable_box_key(raw_box):
                raise MalformedError("the card's box key is a weak point")
            box_key = PublicKey(raw_box)
        elif obj["box_key"] is not None:
            raise MalformedError("a server card has no box key")
        card = cls(obj["kind"], obj["name"], sign_key, box_key, obj["created"],
                   b64decode(obj["signature"], length=64))
        try:
            sign_key.verify(CARD_DOMAIN + canonical_json(card._unsigned()), card.signature)
        except BadSignatureError:
            raise AuthenticationError("card self-signature does not verify") from None
        return card


def _unsigned_fields(kind: str, name: str, sign_key: VerifyKey, box_key: PublicKey | None,
                     created: str) -> dict[str, Any]:
    return {
        "format": CARD_FORMAT,
        "version": CARD_VERSION,
        "kind": kind,
        "name": name,
        "sign_key": b64encode(bytes(sign_key)),
        "box_key": b64encode(bytes(box_key)) if box_key else None,
        "created": created,
    }


def _make_card(kind: CardKind, name: str, signing: SigningKey, box_key: PublicKey | None,
               today: dt.date | None) -> Card:
    if not valid_name(name):
        raise ValueError("name must be 1-80 printable characters, no control or format characters")
    if box_key is not None and not usable_box_key(bytes(box_key)):
        raise ValueError("weak box key")
    created = (today or Clock().today()).isoformat()
    unsigned = _unsigned_fields(kind, name, signing.verify_key, box_key, created)
    sig = signing.sign(CARD_DOMAIN + canonical_json(unsigned)).signature
    return Card(kind, name, signing.verify_key, box_key, created, sig)


@dataclass(frozen=True)
class AuditorIdentity:
    """An auditor's private keys. Exists on the workbench only."""

    name: str
    box: PrivateKey
    signing: SigningKey

    @classmethod
    def generate(cls, name: str) -> AuditorIdentity:
        return cls(name, PrivateKey.generate(), SigningKey.generate())

    KIND: ClassVar[CardKind] = "auditor"
    LABEL: ClassVar[str] = "auditor-identity"

    def card(self, today: dt.date | None = None) -> Card:
        return _make_card(self.KIND, self.name, self.signing, self.box.public_key, today)

    @property
    def key_id(self) -> str:
        return sign_key_id(self.signing.verify_key)

    def seal(self, passphrase: str, params: Argon2Params = DEFAULT_PARAMS) -> bytes:
        return sealed.seal(self._secret_bytes(), passphrase, self.LABEL, params)

    def seal_with_key(self, key: bytes) -> bytes:
        return sealed.seal_with_key(self._secret_bytes(), key, self.LABEL)

    def _secret_bytes(self) -> bytes:
        return canonical_json({"name": self.name, "box": b64encode(bytes(self.box)),
                               "signing": b64encode(bytes(self.signing))})

    @classmethod
    def _from_secret_bytes(cls, raw: bytes) -> AuditorIdentity:
        obj = parse_canonical_json(raw)
        if not isinstance(obj, dict) or set(obj) != {"name", "box", "signing"} \
                or not isinstance(obj["name"], str):
            raise MalformedError("sealed identity has unexpected contents")
        return cls(obj["name"], PrivateKey(b64decode(obj["box"], length=32)),
                   SigningKey(b64decode(obj["signing"], length=32)))

    @classmethod
    def unseal(cls, data: bytes, passphrase: str) -> AuditorIdentity:
        return cls._from_secret_bytes(sealed.open_sealed(data, passphrase, cls.LABEL))

    @classmethod
    def unseal_with_key(cls, data: bytes, key: bytes) -> AuditorIdentity:
        return cls._from_secret_bytes(sealed.open_with_key(data, key, cls.LABEL))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, key_id={self.key_id})"


class CustodianIdentity(AuditorIdentity):
    """A custodian's private keys (crypto/escrow.py): the same two key pairs, a card of kind
    ``custodian`` (which the server refuses to enroll as an auditor) and a sealed file labelled
    ``custodian-identity`` (which no vault opens as a member). Kept by the custodian, outside
    the auditors' vault."""

    KIND: ClassVar[CardKind] = "custodian"
    LABEL: ClassVar[str] = "custodian-identity"


@dataclass(frozen=True)
class ServerKey:
    """The server's Ed25519 signing key: signs inbox bundles. Kept in a 0600 file on the server
    (the server must sign unattended); losing it to a thief lets them forge bundles, which the
    auditors' decryption keys still keep them from reading."""

    name: str
    signing: SigningKey

    @classmethod
    def generate(cls, name: str = "peluit-server") -> ServerKey:
        return cls(name, SigningKey.generate())

    def card(self, today: dt.date | None = None) -> Card:
        return _make_card("server", self.name, self.signing, None, today)

    @property
    def key_id(self) -> str:
        return sign_key_id(self.signing.verify_key)

    def to_bytes(self) -> bytes:
        return canonical_json({"format": "peluit-server-key", "version": 1, "name": self.name,
                               "signing": b64encode(bytes(self.signing))})

    @classmethod
    def from_bytes(cls, data: bytes) -> ServerKey:
        if not isinstance(data, (bytes, bytearray)):
            raise MalformedError("a server key file is bytes")
        obj = parse_canonical_json(bytes(data).strip(), limit=4096)
        if not isinstance(obj, dict) or obj.get("format") != "peluit-server-key" \
                or obj.get("version") != 1:
            raise MalformedError("not a Peluit server key")
        if set(obj) != {"format", "version", "name", "signing"} or not valid_name(obj["name"]):
            raise MalformedError("bad server key file")
        return cls(obj["name"], SigningKey(b64decode(obj["signing"], length=32)))

    def __repr__(self) -> str:
        return f"ServerKey(key_id={self.key_id})"
