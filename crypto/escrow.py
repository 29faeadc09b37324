"""Identity held in escrow for custodians (docs/crypto.md §12).

A reporter may deposit who they are (name, NIP, unit, a way to reach them) so that, later, a
custodian (a compliance officer or an LPSK liaison) can open it for a protection claim or an
award. The deposit is a small document that travels inside an ordinary envelope sealed to the
auditors (so on the server it is one more submission of one chunk, nothing else), but its
content is encrypted under a key that neither the auditors nor, alone, the custodians have:

* ``C``: 32 random bytes, cut by Shamir secret sharing (PyCryptodome, GF(2^128), two 16-byte
  halves) into one share per custodian, ``k`` of which rebuild it; each share sealed
  (``crypto_box_seal``) to that custodian's box key;
* ``R``: the *release*, derived from the reporter's codename key (BLAKE2b keyed with the
  reporter's X25519 secret, its own personalisation, over the deposit id): only a session that
  knows the codename makes it, and the reporter's consent carries it to the workbench;
* the content key ``K`` = BLAKE2b(key = C, message = R): both are needed.

So custodians with their keys and the deposit but without the reporter's consent cannot read
it. Where the signed protection policy allows custodians' approval instead of consent, the
deposit also carries ``R`` cut the same way (``k_a`` of n): then ``k`` consent shares and
``k_a`` approval shares open it without the reporter.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# `Crypto` here is PyCryptodome (maintained, pinned in the lock), not the dead PyCrypto that
# bandit's B413 warns about under the same import name.
from Crypto.Protocol.SecretSharing import Shamir  # nosec B413
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, SealedBox

from .encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from .errors import AuthenticationError, MalformedError, NotARecipientError
from .identity import Card, CustodianIdentity
from .keys import usable_box_key

FORMAT = "peluit-escrow-deposit"
VERSION = 1
AEAD_DOMAIN = b"peluit-escrow-v1\0"
RELEASE_PERSON = b"peluit-esc-rel-1"
RELEASE_CHECK_PERSON = b"peluit-esc-chk-1"
KEY_PERSON = b"peluit-esc-key-1"
MAX_DEPOSIT_BYTES = 64 * 1024
MAX_CUSTODIANS = 16
#: What a reporter deposits; each a single line of at most MAX_FIELD characters.
FIELDS = ("name", "nip", "unit", "contact")
MAX_FIELD = 200
_ID = re.compile(r"[0-9a-f]{32}")
_TOP = {"format", "version", "deposit", "report", "reporter_key", "custodians", "consent",
        "approval", "release_check", "nonce", "ciphertext"}


@dataclass(frozen=True)
class Rule:
    """What opening needs, from the signed policy: ``consent_k`` custodians with the reporter's
    release, or (if ``approval_k`` is set) that many custodians' approval shares as well."""

    consent_k: int = 1
    approval_k: int | None = None

    def check(self, n: int) -> None:
        if not 1 <= n <= MAX_CUSTODIANS:
            raise ValueError(f"escrow needs 1 to {MAX_CUSTODIANS} custodians")
        if not 1 <= self.consent_k <= n:
            raise ValueError("consent threshold must be between 1 and the number of custodians")
        if self.approval_k is not None and not 1 <= self.approval_k <= n:
            raise ValueError("approval threshold must be between 1 and the number of custodians")


def release_key(reporter_secret: PrivateKey, deposit_id: str) -> bytes:
    """The reporter's part of a deposit's key. Only the codename's key makes it."""
    return hashlib.blake2b(bytes.fromhex(deposit_id), key=bytes(reporter_secret),
                           person=RELEASE_PERSON, digest_size=32).digest()


def release_check(release: bytes) -> bytes:
    """A commitment to the release, kept in the deposit so the workbench can tell a genuine
    consent from a bogus one without being able to open anything."""
    return hashlib.blake2b(release, person=RELEASE_CHECK_PERSON, digest_size=32).digest()


def _content_key(c: bytes, release: bytes) -> bytes:
    return hashlib.blake2b(release, key=c, person=KEY_PERSON, digest_size=32).digest()


def _split(secret: bytes, k: int, n: int) -> list[bytes]:
    """Shamir over GF(2^128) on each 16-byte half; share i (1-based, in custodian order) is the
    two halves' shares joined (32 bytes)."""
    lo, hi = Shamir.split(k, n, secret[:16]), Shamir.split(k, n, secret[16:])
    return [a + b for (_, a), (_, b) in zip(lo, hi, strict=True)]


def _combine(shares: Mapping[int, bytes]) -> bytes:
    try:
        lo = Shamir.combine([(i, s[:16]) for i, s in shares.items()])
        hi = Shamir.combine([(i, s[16:]) for i, s in shares.items()])
    except ValueError:
        raise MalformedError("escrow shares do not combine") from None
    return lo + hi


def _share_doc(deposit_id: str, part: str, index: int, k: int, share: bytes) -> bytes:
    return canonical_json({"deposit": deposit_id, "index": index, "k": k, "part": part,
                           "share": b64encode(share)})


def _seal_parts(secret: bytes, part: str, k: int, deposit_id: str,
                custodians: Sequence[Card]) -> dict[str, Any]:
    shares = _split(secret, k, len(custodians))
    sealed = []
    for index, (card, share) in enumerate(zip(custodians, shares, strict=True), start=1):
        assert card.box_key is not None
        sealed.append([card.key_id, b64encode(SealedBox(card.box_key).encrypt(
            _share_doc(deposit_id, part, index, k, share)))])
    return {"k": k, "shares": sealed}


def _check_identity(identity: Mapping[str, str]) -> dict[str, str]:
    if set(identity) != set(FIELDS):
        raise ValueError(f"a deposit holds exactly {', '.join(FIELDS)}")
    out = {}
    for name in FIELDS:
        value = identity[name]
        if not isinstance(value, str) or len(value) > MAX_FIELD or "\n" in value:
            raise ValueError(f"{name}: one line of at most {MAX_FIELD} characters")
        out[name] = value
    if not out["name"].strip():
        raise ValueError("a deposit names the reporter")
    return out


def seal_deposit(identity: Mapping[str, str], *, deposit_id: str, report_id: str,
                 reporter_secret: PrivateKey, custodians: Sequence[Card], rule: Rule,
                 random: Any = None) -> bytes:
    """The deposit document (canonical JSON bytes). ``custodians`` are the signed policy's
    custodian cards; their order does not matter (sorted by key id here)."""
    rnd = random or os.urandom
    cards = sorted(custodians, key=lambda c: c.key_id)
    if len({c.key_id for c in cards}) != len(cards) or any(c.kind != "custodian" or
                                                           c.box_key is None for c in cards):
        raise ValueError("custodians are distinct custodian cards")
    rule.check(len(cards))
    if not (_ID.fullmatch(deposit_id) and _ID.fullmatch(report_id)):
        raise ValueError("ids are 32 lowercase hex characters")
    release = release_key(reporter_secret, deposit_id)
    c = rnd(32)
    doc: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "deposit": deposit_id, "report": report_id,
        "reporter_key": b64encode(bytes(reporter_secret.public_key)),
        "custodians": [card.key_id for card in cards],
        "consent": _seal_parts(c, "consent", rule.consent_k, deposit_id, cards),
        "approval": (None if rule.approval_k is None else
                     _seal_parts(release, "approval", rule.approval_k, deposit_id, cards)),
        "release_check": b64encode(release_check(release)),
        "nonce": b64encode(rnd(24)),
    }
    plaintext = canonical_json(_check_identity(identity))
    doc["ciphertext"] = b64encode(crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, AEAD_DOMAIN + canonical_json(doc), b64decode(doc["nonce"]),
        _content_key(c, release)))
    return canonical_json(doc)


@dataclass(frozen=True)
class Deposit:
    """A parsed deposit: what the workbench may know without opening it."""

    deposit_id: str
    report_id: str
    reporter_key: bytes
    custodians: tuple[str, ...]
    consent_k: int
    approval_k: int | None
    raw: dict[str, Any]

    def check_release(self, release: bytes) -> bool:
        return hmac.compare_digest(release_check(release),
                                   b64decode(self.raw["release_check"], length=32))


def _parts(obj: Any, n: int, custodians: list[str]) -> int:
    if not isinstance(obj, dict) or set(obj) != {"k", "shares"}:
        raise MalformedError("escrow part is malformed")
    k = obj["k"]
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= n:
        raise MalformedError("escrow threshold out of range")
    shares = obj["shares"]
    if (not isinstance(shares, list) or len(shares) != n
            or [s[0] if isinstance(s, list) and len(s) == 2 else None for s in shares]
            != custodians or not all(isinstance(s[1], str) for s in shares)):
        raise MalformedError("escrow shares do not match the custodians")
    return k


def parse_deposit(data: bytes) -> Deposit:
    """Check a deposit's shape (no key needed). MalformedError on anything else."""
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_DEPOSIT_BYTES:
        raise MalformedError("not an escrow deposit")
    obj = parse_canonical_json(bytes(data), limit=MAX_DEPOSIT_BYTES)
    if not isinstance(obj, dict) or set(obj) != _TOP:
        raise MalformedError("not an escrow deposit")
    if obj["format"] != FORMAT or obj["version"] != VERSION:
        raise MalformedError("unsupported escrow deposit format")
    if not all(isinstance(obj[f], str) and _ID.fullmatch(obj[f]) for f in ("deposit", "report")):
        raise MalformedError("bad ids in escrow deposit")
    custodians = obj["custodians"]
    if (not isinstance(custodians, list) or not 1 <= len(custodians) <= MAX_CUSTODIANS
            or not all(isinstance(c, str) and _ID.fullmatch(c) for c in custodians)
            or custodians != sorted(set(custodians))):
        raise MalformedError("bad custodian list in escrow deposit")
    n = len(custodians)
    consent_k = _parts(obj["consent"], n, custodians)
    approval_k = None if obj["approval"] is None else _parts(obj["approval"], n, custodians)
    reporter_key = b64decode(obj["reporter_key"], length=32)
    if not usable_box_key(reporter_key):
        raise MalformedError("bad reporter key in escrow deposit")
    b64decode(obj["release_check"], length=32)
    b64decode(obj["nonce"], length=24)
    b64decode(obj["ciphertext"], limit=MAX_DEPOSIT_BYTES)
    return Deposit(obj["deposit"], obj["report"], reporter_key, tuple(custodians), consent_k,
                   approval_k, obj)


def _unseal_shares(dep: Deposit, part: str, custodians: Sequence[CustodianIdentity]
                   ) -> dict[int, bytes]:
    spec = dep.raw[part]
    if spec is None:
        raise AuthenticationError(f"this deposit cannot be opened by {part}")
    by_id = {kid: sealed for kid, sealed in spec["shares"]}
    shares: dict[int, bytes] = {}
    for who in custodians:
        sealed = by_id.get(who.key_id)
        if sealed is None:
            raise NotARecipientError(f"{who.name} is not a custodian of this deposit")
        try:
            raw = SealedBox(who.box).decrypt(b64decode(sealed, limit=1024))
        except NaclCryptoError:
            raise AuthenticationError("a custodian's share does not open") from None
        doc = parse_canonical_json(raw, limit=1024)
        index = dep.custodians.index(who.key_id) + 1
        if doc != {"deposit": dep.deposit_id, "index": index, "k": spec["k"], "part": part,
                   "share": doc.get("share") if isinstance(doc, dict) else None}:
            raise AuthenticationError("a share from another deposit or place")
        shares[index] = b64decode(doc["share"], length=32)
    if len(shares) < spec["k"]:
        raise AuthenticationError(f"{spec['k']} custodians are needed, {len(shares)} came")
    return shares


def open_deposit(data: bytes, *, report_id: str, reporter_key: bytes,
                 custodians: Sequence[CustodianIdentity], release: bytes | None = None,
                 approval: bool = False) -> dict[str, str]:
    """Open a deposit for the case it belongs to. ``release`` comes with the reporter's
    consent; ``approval=True`` uses the custodians' approval shares instead (only if the
    deposit was made under a policy allowing it). The deposit must name ``report_id`` and
    ``reporter_key`` (a deposit moved to another case is refused) and every custodian given
    must hold a share. Raises CryptoError subclasses."""
    dep = parse_deposit(data)
    if dep.report_id != report_id or dep.reporter_key != bytes(reporter_key):
        raise AuthenticationError("this deposit belongs to another report")
    c = _combine(_unseal_shares(dep, "consent", custodians))
    if approval:
        if release is not None:
            raise ValueError("either a release or approval")
        release = _combine(_unseal_shares(dep, "approval", custodians))
    if release is None or len(release) != 32:
        raise AuthenticationError("opening needs the reporter's release or approval")
    if not dep.check_release(release):
        raise AuthenticationError("the release is not this deposit's")
    body = {k: v for k, v in dep.raw.items() if k != "ciphertext"}
    try:
        plaintext = crypto_aead_xchacha20poly1305_ietf_decrypt(
            b64decode(dep.raw["ciphertext"]), AEAD_DOMAIN + canonical_json(body),
            b64decode(dep.raw["nonce"]), _content_key(c, release))
    except NaclCryptoError:
        raise AuthenticationError("escrow deposit does not decrypt") from None
    ident = parse_canonical_json(plaintext, limit=MAX_DEPOSIT_BYTES)
    if not isinstance(ident, dict) or set(ident) != set(FIELDS) or not all(
            isinstance(v, str) for v in ident.values()):
        raise MalformedError("escrow deposit content is malformed")
    return ident
