"""Proof of authorship: "I made report R, received on day D, in category C", checkable offline.

Three documents, each canonical JSON with an Ed25519 signature under its own domain prefix
(docs/crypto.md §13):

* the **authorship card**: the deployment's public attestation key with its deployment id,
  self-signed; published by the organisation (it holds nothing secret);
* the **attestation**: made on the workbench, which alone knows R, D and C, signed with the
  deployment's attestation key; it binds them to the reporter's *authorship key*;
* the **statement**: the attestation and a purpose line typed by the reporter, signed with the
  authorship key, which only the holder of the codename can derive.

The authorship key is per report: BLAKE2b keyed with the reporter's X25519 secret key over the
report id, personalisation ``peluit-author-v1`` (no second argon2id: the X25519 secret is
already the output of one). So a statement shows nothing that links it to any other report, and
its key cannot be computed from anything the server or the workbench holds.

A verifier needs the statement and the card only: no codename, no server."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.public import PrivateKey
from nacl.signing import SigningKey, VerifyKey

from .encoding import b64decode, b64encode, canonical_json, parse_canonical_json, valid_day
from .errors import AuthenticationError, MalformedError
from .identity import valid_name
from .keys import SignKeyId, fingerprint, sign_key_id

AUTHOR_PERSONAL = b"peluit-author-v1"
CARD_FORMAT = "peluit-authorship-card"
ATTESTATION_FORMAT = "peluit-authorship-attestation"
STATEMENT_FORMAT = "peluit-authorship-statement"
RECEIPT_FORMAT = "peluit-authorship-receipt"
VERSION = 1
CARD_DOMAIN = b"peluit-authorship-card-v1\0"
ATTESTATION_DOMAIN = b"peluit-authorship-attestation-v1\0"
STATEMENT_DOMAIN = b"peluit-authorship-statement-v1\0"
RECEIPT_DOMAIN = b"peluit-authorship-receipt-v1\0"
ARMOR_BEGIN = "-----BEGIN PELUIT AUTHORSHIP STATEMENT-----"
ARMOR_END = "-----END PELUIT AUTHORSHIP STATEMENT-----"
ARMOR_WIDTH = 64
MAX_DOCUMENT_BYTES = 8 * 1024
MAX_PURPOSE_CHARS = 200
_ID = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"[a-z0-9_]{1,64}")
_DEPLOYMENT = re.compile(r"[\x21-\x7e]{1,128}")


def author_key(reporter_secret: PrivateKey, report_id: str) -> SigningKey:
    """The reporter's Ed25519 authorship key for ``report_id``: seed = BLAKE2b(message = the
    report id's 32 ASCII hex digits, key = the reporter's X25519 secret key, digest 32,
    personal = ``peluit-author-v1``)."""
    if not _ID.fullmatch(report_id or ""):
        raise ValueError("a report id is 32 lowercase hex digits")
    seed = hashlib.blake2b(report_id.encode("ascii"), key=bytes(reporter_secret), digest_size=32,
                           person=AUTHOR_PERSONAL).digest()
    return SigningKey(seed)


def valid_purpose(text: object) -> bool:
    """What a reporter may type as the purpose line: at most 200 characters, NFC, no outer
    white space, no control, format (bidi overrides, zero-width), private-use, unassigned or
    line/paragraph separator characters, so what a verifier is shown is what was signed. It may
    be empty."""
    if not isinstance(text, str) or len(text) > MAX_PURPOSE_CHARS:
        return False
    if text != text.strip() or unicodedata.normalize("NFC", text) != text:
        return False
    return all(unicodedata.category(c)[0] != "C" and unicodedata.category(c) not in ("Zl", "Zp")
               for c in text)


class AuthorshipRefused(AuthenticationError):
    """A well-formed document that is not genuine; ``code`` says which check failed, so that a
    command can say it in the reader's language: ``other_deployment``, ``other_key``,
    ``attestation_signature``, ``reporter_signature``, ``card_signature``,
    ``receipt_signature``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _verify(key: VerifyKey, domain: bytes, doc: dict[str, Any], signature: bytes, code: str
            ) -> None:
    try:
        key.verify(domain + canonical_json(doc), signature)
    except BadSignatureError:
        raise AuthorshipRefused(code, code.replace("_", " ") + " does not verify") from None


def _fields(obj: Any, fields: set[str], fmt: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) != fields:
        raise MalformedError(f"not a {fmt}")
    if obj["format"] != fmt or obj["version"] != VERSION:
        raise MalformedError(f"unsupported {fmt} format or version")
    return obj


# -- the deployment's authorship card -----------------------------------------------------------

_CARD_FIELDS = {"format", "version", "deployment", "name", "sign_key", "created", "signature"}


@dataclass(frozen=True)
class AuthorshipCard(SignKeyId):
    """The public half of a deployment's attestation key, bound to its deployment id."""

    deployment: str
    name: str  # the organisation, as the card shows it
    sign_key: VerifyKey
    created: str
    signature: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(bytes(self.sign_key))

    def _unsigned(self) -> dict[str, Any]:
        return {"format": CARD_FORMAT, "version": VERSION, "deployment": self.deployment,
                "name": self.name, "sign_key": b64encode(bytes(self.sign_key)),
                "created": self.created}

    def to_bytes(self) -> bytes:
        return canonical_json({**self._unsigned(), "signature": b64encode(self.signature)})

    @classmethod
    def make(cls, key: SigningKey, deployment: str, name: str, created: str) -> AuthorshipCard:
        if not _DEPLOYMENT.fullmatch(deployment) or not valid_name(name) or not valid_day(created):
            raise ValueError("bad deployment id, name or day for an authorship card")
        card = cls(deployment, name, key.verify_key, created, b"")
        sig = key.sign(CARD_DOMAIN + canonical_json(card._unsigned())).signature
        return cls(deployment, name, key.verify_key, created, sig)

    @classmethod
    def from_bytes(cls, data: bytes) -> AuthorshipCard:
        """Parse and verify; MalformedError or AuthenticationError. Surrounding white space is
        allowed (a file's trailing newline)."""
        if not isinstance(data, (bytes, bytearray)):
            raise MalformedError("a card is bytes")
        obj = _fields(parse_canonical_json(bytes(data).strip(), limit=MAX_DOCUMENT_BYTES),
                      _CARD_FIELDS, CARD_FORMAT)
        if not isinstance(obj["deployment"], str) or not _DEPLOYMENT.fullmatch(obj["deployment"]):
            raise MalformedError("bad deployment id on the authorship card")
        if not valid_name(obj["name"]) or not valid_day(obj["created"]):
            raise MalformedError("bad name or day on the authorship card")
        card = cls(obj["deployment"], obj["name"], VerifyKey(b64decode(obj["sign_key"], length=32)),
                   obj["created"], b64decode(obj["signature"], length=64))
        _verify(card.sign_key, CARD_DOMAIN, card._unsigned(), card.signature, "card_signature")
        return card


# -- the workbench's attestation ------------------------------------------------------------------

_ATTESTATION_FIELDS = {"format", "version", "deployment", "signer", "report", "day", "category",
                       "author_key", "issued", "signature"}


@dataclass(frozen=True)
class Attestation:
    deployment: str
    signer: str  # key id of the deployment's attestation key
    report: str
    day: str  # the day the report was received (the deployment's time zone)
    category: str
    author_key: VerifyKey
    issued: str
    signature: bytes

    def unsigned(self) -> dict[str, Any]:
        return {"format": ATTESTATION_FORMAT, "version": VERSION, "deployment": self.deployment,
                "signer": self.signer, "report": self.report, "day": self.day,
                "category": self.category, "author_key": b64encode(bytes(self.author_key)),
                "issued": self.issued}

    def as_dict(self) -> dict[str, Any]:
        return {**self.unsigned(), "signature": b64encode(self.signature)}

    def to_bytes(self) -> bytes:
        return canonical_json(self.as_dict())

    @classmethod
    def issue(cls, key: SigningKey, deployment: str, report: str, day: str, category: str,
              author_key: VerifyKey | bytes, issued: str) -> Attestation:
        """Sign "the holder of ``author_key`` made ``report``, received on ``day``, in
        ``category``" with the deployment's attestation key (the workbench)."""
        if not (_DEPLOYMENT.fullmatch(deployment) and _ID.fullmatch(report) and valid_day(day)
                and _TOKEN.fullmatch(category) and valid_day(issued)):
            raise ValueError("bad deployment, report id, day or category for an attestation")
        att = cls(deployment, sign_key_id(key.verify_key), report, day, category,
                  VerifyKey(bytes(author_key)), issued, b"")
        sig = key.sign(ATTESTATION_DOMAIN + canonical_json(att.unsigned())).signature
        return cls(**{**att.__dict__, "signature": sig})

    @classmethod
    def from_dict(cls, obj: Any) -> Attestation:
        """Parse (the signature is checked by ``verify``: the reporter's app has no card)."""
        obj = _fields(obj, _ATTESTATION_FIELDS, ATTESTATION_FORMAT)
        strings = all(isinstance(obj[k], str) for k in _ATTESTATION_FIELDS - {"version"})
        if not (strings and _DEPLOYMENT.fullmatch(obj["deployment"]) and _ID.fullmatch(
                obj["signer"]) and _ID.fullmatch(obj["report"]) and valid_day(obj["day"])
                and _TOKEN.fullmatch(obj["category"]) and valid_day(obj["issued"])):
            raise MalformedError("bad field in the attestation")
        return cls(obj["deployment"], obj["signer"], obj["report"], obj["day"], obj["category"],
                   VerifyKey(b64decode(obj["author_key"], length=32)), obj["issued"],
                   b64decode(obj["signature"], length=64))

    @classmethod
    def from_bytes(cls, data: bytes) -> Attestation:
        return cls.from_dict(parse_canonical_json(bytes(data), limit=MAX_DOCUMENT_BYTES))

    def verify(self, card: AuthorshipCard) -> None:
        if self.deployment != card.deployment:
            raise AuthorshipRefused("other_deployment",
                                    "the attestation is from another deployment than the card")
        if self.signer != card.key_id:
            raise AuthorshipRefused("other_key",
                                    "the attestation was not signed with the card's key")
        _verify(card.sign_key, ATTESTATION_DOMAIN, self.unsigned(), self.signature,
                "attestation_signature")


# -- the reporter's statement ---------------------------------------------------------------------

_STATEMENT_FIELDS = {"format", "version", "attestation", "purpose", "signature"}


@dataclass(frozen=True)
class Statement:
    attestation: Attestation
    purpose: str
    signature: bytes

    def unsigned(self) -> dict[str, Any]:
        return {"format": STATEMENT_FORMAT, "version": VERSION,
                "attestation": self.attestation.as_dict(), "purpose": self.purpose}

    def to_bytes(self) -> bytes:
        return canonical_json({**self.unsigned(), "signature": b64encode(self.signature)})

    @classmethod
    def sign(cls, attestation: Attestation, author: SigningKey, purpose: str) -> Statement:
        """The reporter's signature over the attestation and the purpose line. Refuses an
        attestation made for another key (the workbench's mistake, or someone else's)."""
        if bytes(author.verify_key) != bytes(attestation.author_key):
            raise ValueError("this attestation is for another authorship key")
        if not valid_purpose(purpose):
            raise ValueError("the purpose line has characters a statement cannot carry")
        st = cls(attestation, purpose, b"")
        sig = author.sign(STATEMENT_DOMAIN + canonical_json(st.unsigned())).signature
        return cls(attestation, purpose, sig)

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        obj = _fields(parse_canonical_json(bytes(data), limit=MAX_DOCUMENT_BYTES),
                      _STATEMENT_FIELDS, STATEMENT_FORMAT)
        if not valid_purpose(obj["purpose"]):
            raise MalformedError("bad purpose line in the statement")
        return cls(Attestation.from_dict(obj["attestation"]), obj["purpose"],
                   b64decode(obj["signature"], length=64))

    def verify(self, card: AuthorshipCard) -> None:
        """Both signatures: the deployment's over the attestation, the author's over all."""
        self.attestation.verify(card)
        _verify(self.attestation.author_key, STATEMENT_DOMAIN, self.unsigned(), self.signature,
                "reporter_signature")

    def armor(self) -> str:
        """The statement as text: the armour lines around base64 of its canonical JSON."""
        raw = base64.b64encode(self.to_bytes()).decode("ascii")
        lines = [raw[i:i + ARMOR_WIDTH] for i in range(0, len(raw), ARMOR_WIDTH)]
        return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"

    @classmethod
    def from_armor(cls, text: str) -> Statement:
        """Find the one armoured block in ``text`` (text around it, such as the printed
        summary, is ignored: only what is inside is signed) and parse it."""
        if not isinstance(text, str) or len(text) > 4 * MAX_DOCUMENT_BYTES:
            raise MalformedError("not an authorship statement (too long)")
        lines = [line.strip() for line in text.splitlines()]
        if lines.count(ARMOR_BEGIN) != 1 or lines.count(ARMOR_END) != 1:
            raise MalformedError("no authorship statement block (or more than one)")
        start, end = lines.index(ARMOR_BEGIN), lines.index(ARMOR_END)
        if end <= start + 1:
            raise MalformedError("empty authorship statement block")
        body = "".join(lines[start + 1:end])
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedError("the statement block is not base64") from None
        if base64.b64encode(raw).decode("ascii") != body:
            raise MalformedError("the statement block is not canonical base64")
        return cls.from_bytes(raw)


def verify_text(text: str, card_bytes: bytes) -> Statement:
    """Everything ``peluit verify-authorship`` checks; the statement if genuine."""
    card = AuthorshipCard.from_bytes(card_bytes)
    statement = Statement.from_armor(text)
    statement.verify(card)
    return statement


# -- the workbench's receipt for an outside agency (LPSK) -----------------------------------------

_RECEIPT_FIELDS = {"format", "version", "statement", "recipient", "issued", "signer", "signature"}


@dataclass(frozen=True)
class Receipt:
    """The workbench's counter-signature on a statement a reporter handed over: "this statement
    is genuine, and was confirmed for ``recipient`` on ``issued``"."""

    statement: Statement
    recipient: str
    issued: str
    signer: str
    signature: bytes

    def unsigned(self) -> dict[str, Any]:
        return {"format": RECEIPT_FORMAT, "version": VERSION,
                "statement": b64encode(self.statement.to_bytes()), "recipient": self.recipient,
                "issued": self.issued, "signer": self.signer}

    def to_bytes(self) -> bytes:
        return canonical_json({**self.unsigned(), "signature": b64encode(self.signature)})

    @classmethod
    def issue(cls, key: SigningKey, card: AuthorshipCard, statement: Statement, recipient: str,
              issued: str) -> Receipt:
        if bytes(key.verify_key) != bytes(card.sign_key):
            raise ValueError("the key is not the card's")
        statement.verify(card)
        if not valid_name(recipient) or not valid_day(issued):
            raise ValueError("bad recipient or day for a receipt")
        r = cls(statement, recipient, issued, card.key_id, b"")
        sig = key.sign(RECEIPT_DOMAIN + canonical_json(r.unsigned())).signature
        return cls(statement, recipient, issued, card.key_id, sig)

    @classmethod
    def from_bytes(cls, data: bytes) -> Receipt:
        obj = _fields(parse_canonical_json(bytes(data).strip(), limit=4 * MAX_DOCUMENT_BYTES),
                      _RECEIPT_FIELDS, RECEIPT_FORMAT)
        if not (valid_name(obj["recipient"]) and valid_day(obj["issued"])
                and isinstance(obj["signer"], str) and _ID.fullmatch(obj["signer"])):
            raise MalformedError("bad field in the receipt")
        statement = Statement.from_bytes(b64decode(obj["statement"], limit=MAX_DOCUMENT_BYTES))
        return cls(statement, obj["recipient"], obj["issued"], obj["signer"],
                   b64decode(obj["signature"], length=64))

    def verify(self, card: AuthorshipCard) -> None:
        self.statement.verify(card)
        if self.signer != card.key_id:
            raise AuthorshipRefused("other_key", "the receipt was not signed with the card's key")
        _verify(card.sign_key, RECEIPT_DOMAIN, self.unsigned(), self.signature, "receipt_signature")
