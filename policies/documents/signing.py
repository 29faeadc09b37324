"""Signing and verifying a policy version: Ed25519 by a compliance officer's identity over the
exact bytes of its files (``SIGNATURE_DOMAIN``), and the fingerprint shown beside the text."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from crypto.encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from crypto.errors import CryptoError
from crypto.identity import AuditorIdentity, Card
from crypto.keys import sign_key_id

from .model import (
    SIGNATURE_DOMAIN,
    SIGNATURE_FILE,
    SIGNATURE_FORMAT,
    PolicyError,
    PolicyVersion,
    load_version,
    write_atomic,
)


@dataclass(frozen=True)
class Signature:
    card: Card
    signature: bytes
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return canonical_json({"format": SIGNATURE_FORMAT, "version": 1, "payload": self.payload,
                               "card": self.card.to_bytes().decode("utf-8"),
                               "signature": b64encode(self.signature)}) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        try:
            obj = parse_canonical_json(data.strip(), limit=64 * 1024)
            if (not isinstance(obj, dict) or obj.get("format") != SIGNATURE_FORMAT
                    or set(obj) != {"format", "version", "payload", "card", "signature"}
                    or obj["version"] != 1 or not isinstance(obj["payload"], dict)
                    or not isinstance(obj["card"], str)):
                raise PolicyError("signature.json is not a Peluit policy signature")
            card = Card.from_bytes(obj["card"].encode("utf-8"))
            return cls(card, b64decode(obj["signature"], length=64), obj["payload"])
        except CryptoError as exc:
            raise PolicyError(f"signature.json: {exc}") from None


@dataclass(frozen=True)
class VerifiedPolicy:
    version: PolicyVersion
    signature: Signature

    @property
    def signer(self) -> str:
        return self.signature.card.name

    @property
    def signer_fingerprint(self) -> str:
        return self.signature.card.fingerprint


def sign_version(path: Path, identity: AuditorIdentity,
                 today: dt.date | None = None) -> Signature:
    """Sign a version as ``identity`` and write signature.json (atomically)."""
    version = load_version(path)
    payload = version.payload()
    sig = identity.signing.sign(SIGNATURE_DOMAIN + canonical_json(payload)).signature
    signature = Signature(identity.card(today), sig, payload)
    # Readable by all: root signs, the server's own user reads it (deploy/install.sh).
    write_atomic(Path(path) / SIGNATURE_FILE, signature.to_bytes(), mode=0o644)
    return signature


def verify_version(path: Path, trusted: Iterable[VerifyKey] | None = None) -> VerifiedPolicy:
    """The version with its signature, or PolicyError saying why it cannot be trusted."""
    version = load_version(path)
    sig_path = Path(path) / SIGNATURE_FILE
    try:
        signature = Signature.from_bytes(sig_path.read_bytes())
    except FileNotFoundError:
        raise PolicyError(f"{path}: version {version.header.version} is not signed") from None
    except OSError as exc:
        raise PolicyError(f"{sig_path}: {exc.strerror}") from None
    if signature.payload != version.payload():
        raise PolicyError(f"{path}: the files differ from what was signed")
    try:
        signature.card.sign_key.verify(SIGNATURE_DOMAIN + canonical_json(version.payload()),
                                       signature.signature)
    except BadSignatureError:
        raise PolicyError(f"{path}: the signature does not verify") from None
    if trusted is not None and signature.card.key_id not in {sign_key_id(k) for k in trusted}:
        raise PolicyError(f"{path}: signed by {signature.card.name}, who is not a trusted signer")
    return VerifiedPolicy(version, signature)
