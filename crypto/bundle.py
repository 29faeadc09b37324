"""Signed bundles: how envelopes travel between the server and the workbench (docs/crypto.md §6).

Layout::

    magic "PELUIT-B" | version u8 (=1) | reserved 3 bytes (=0) | manifest length u32
    manifest (canonical JSON, at most 32 MiB)
    Ed25519 signature (64 bytes) over "peluit-bundle-v1\\0" || manifest
    members, concatenated in manifest order, exactly their declared sizes; then end of file

The manifest comes first so a reader can check the signature, the signer and the sequence number
before it touches any member, and then check each member's SHA-256 as it streams past: one pass,
constant memory. Anything but the declared members in the declared order is refused.

Verify before parse: the manifest is read with a hard bound (its declared length, at most
``MAX_MANIFEST``), and its signature is checked against the keys trusted here before a single
byte of it is parsed as JSON. The signer's key id is found in the bytes by a search, not a parse
(``_sender_hint``), picks the one trusted key to check, and the parsed manifest must then name
that key. So a forged manifest (up to 32 MiB, a million entries) costs one signature check and
never reaches the JSON parser."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from peluit.ground.clock import Clock

from .encoding import canonical_json, parse_canonical_json, valid_day
from .errors import (
    AuthenticationError,
    MalformedError,
    ReplayError,
    TruncatedError,
    UnknownSignerError,
)
from .keys import sign_key_id

MAGIC = b"PELUIT-B"
VERSION = 1
FORMAT = "peluit-bundle"
DOMAIN = b"peluit-bundle-v1\0"
MAX_MANIFEST = 32 * 1024 * 1024
MAX_MEMBERS = 1_000_000
MAX_MEMBER_SIZE = 1 << 40
COPY_BLOCK = 1 << 20
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_KEY_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_DEPLOYMENT_CHARS = 128
MAX_SEQ = 2**53 - 1
KINDS = ("inbox", "reply")
_MANIFEST_FIELDS = {"format", "version", "kind", "deployment", "sender", "seq", "created",
                    "members", "body"}
_MEMBER_FIELDS = {"name", "size", "sha256"}


@dataclass(frozen=True)
class InboxEntry:
    """One submission as an inbox bundle's body names it (docs/engineering.md, "Bundle
    bodies"): its id, its report, the reporter's public key, the kind the manifest gives, the
    member that holds its envelope, the day. The gateway writes these, the workbench reads them:
    one definition for both."""

    id: str
    report: str
    reporter_key: bytes
    kind: str
    member: str
    day: str


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str  # hex

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Manifest:
    kind: str
    deployment: str  # the server deployment id the bundle belongs to
    sender: str  # signer key id
    seq: int
    created: str  # YYYY-MM-DD
    members: tuple[Member, ...]
    body: dict[str, Any]

    def to_bytes(self) -> bytes:
        return canonical_json({
            "format": FORMAT, "version": VERSION, "kind": self.kind, "deployment": self.deployment,
            "sender": self.sender, "seq": self.seq, "created": self.created,
            "members": [m.as_dict() for m in self.members], "body": self.body,
        })


def _check_member(m: Member) -> None:
    if not _NAME.fullmatch(m.name):
        raise MalformedError(f"bad member name {m.name[:40]!r}")
    if not isinstance(m.size, int) or isinstance(m.size, bool) \
            or not 0 <= m.size <= MAX_MEMBER_SIZE:
        raise MalformedError("bad member size")
    if not isinstance(m.sha256, str) or not _HEX64.fullmatch(m.sha256):
        raise MalformedError("bad member hash")


def make_manifest(kind: str, deployment: str, signer: SigningKey, seq: int,
                  members: Sequence[Member], body: dict[str, Any] | None = None,
                  today: dt.date | None = None) -> Manifest:
    if kind not in KINDS:
        raise ValueError(f"unknown bundle kind {kind!r}")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise ValueError("sequence numbers are integers from 1 to 2**53 - 1")
    if not _valid_deployment(deployment):
        raise ValueError("deployment id must be 1-128 printable ASCII characters")
    names = [m.name for m in members]
    if len(set(names)) != len(names):
        raise ValueError("member names must be unique")
    for m in members:
        _check_member(m)
    return Manifest(kind, deployment, sign_key_id(signer.verify_key), seq,
                    (today or Clock().today()).isoformat(), tuple(members), body or {})


def iter_bundle(manifest: Manifest, signer: SigningKey,
                open_member: Callable[[str], BinaryIO]) -> Iterator[bytes]:
    """Yield the bundle's bytes block by block (for a streamed HTTP response or a file).

    Each member is re-hashed as it is copied; if the store changed since the manifest was made,
    this raises rather than send a bundle that the reader would reject anyway."""
    if manifest.sender != sign_key_id(signer.verify_key):
        raise ValueError("manifest names another signer")
    body = manifest.to_bytes()
    if len(body) > MAX_MANIFEST:
        raise ValueError("manifest too large; make smaller bundles")
    yield MAGIC + struct.pack(">B3xI", VERSION, len(body))
    yield body
    yield signer.sign(DOMAIN + body).signature
    for m in manifest.members:
        h = hashlib.sha256()
        left = m.size
        with open_member(m.name) as f:
            while left:
                block = f.read(min(COPY_BLOCK, left))
                if not block:
                    raise MalformedError(f"member {m.name} is shorter than its manifest entry")
                h.update(block)
                left -= len(block)
                yield block
        if h.hexdigest() != m.sha256:
            raise AuthenticationError(f"member {m.name} changed since the manifest was made")


def write_bundle(out: BinaryIO, manifest: Manifest, signer: SigningKey,
                 open_member: Callable[[str], BinaryIO]) -> int:
    total = 0
    for block in iter_bundle(manifest, signer, open_member):
        out.write(block)
        total += len(block)
    return total


def _read_exact(src: BinaryIO, n: int) -> bytes:
    parts, left = [], n
    while left:
        block = src.read(min(left, COPY_BLOCK))
        if not block:
            raise TruncatedError("bundle ends too early")
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def _valid_deployment(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= MAX_DEPLOYMENT_CHARS \
        and value.isascii() and value.isprintable()


def parse_manifest(raw: bytes) -> Manifest:
    """Parse manifest bytes (no signature check: BundleReader does that)."""
    obj = parse_canonical_json(raw, limit=MAX_MANIFEST)
    if not isinstance(obj, dict) or set(obj) != _MANIFEST_FIELDS:
        raise MalformedError("not a Peluit bundle manifest")
    if obj["format"] != FORMAT or obj["version"] != VERSION or obj["kind"] not in KINDS:
        raise MalformedError("unsupported bundle format")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SEQ:
        raise MalformedError("bad sequence number")
    if not _valid_deployment(obj["deployment"]):
        raise MalformedError("bad deployment id")
    if not isinstance(obj["sender"], str) or not _KEY_ID.fullmatch(obj["sender"]):
        raise MalformedError("bad sender key id")
    if not valid_day(obj["created"]):
        raise MalformedError("bad date in manifest")
    if not isinstance(obj["body"], dict) or not isinstance(obj["members"], list):
        raise MalformedError("bad manifest body")
    if len(obj["members"]) > MAX_MEMBERS:
        raise MalformedError("too many members")
    if not all(isinstance(m, dict) and set(m) == _MEMBER_FIELDS for m in obj["members"]):
        raise MalformedError("bad manifest entry")
    members = tuple(Member(m["name"], m["size"], m["sha256"]) for m in obj["members"])
    for m in members:
        _check_member(m)
    if len({m.name for m in members}) != len(members):
        raise MalformedError("repeated member name")
    return Manifest(obj["kind"], obj["deployment"], obj["sender"], seq, obj["created"],
                    members, obj["body"])


_parse_manifest = parse_manifest
_SENDER_HINT = b',"sender":"'


def _sender_hint(raw: bytes) -> str | None:
    """The top-level ``sender`` of canonical manifest bytes, found without parsing them.

    Keys are sorted, and only ``version`` (a number) follows ``sender``; inside a JSON string a
    quote is escaped (``\\"``), so ``,"sender":"`` cannot occur in one. So in any manifest that
    could pass ``parse_manifest`` the last occurrence is the top-level sender, and a bundle whose
    hint is wrong would be refused by the parse anyway (its sender must be the key that
    verified it)."""
    at = raw.rfind(_SENDER_HINT)
    if at < 0:
        return None
    value = raw[at + len(_SENDER_HINT):at + len(_SENDER_HINT) + 32]
    text = value.decode("latin-1")
    return text if _KEY_ID.fullmatch(text) else None


def _verified_manifest(raw: bytes, signature: bytes, trusted: Mapping[str, VerifyKey]
                       ) -> Manifest:
    """Check the signature over ``raw`` with the one trusted key it can be from, then parse:
    never the other way round (docs/crypto.md §6). One signature check per bundle, whatever
    the number of trusted keys."""
    hint = _sender_hint(raw)
    key = trusted.get(hint) if hint is not None else None
    # The mapping's id is only a label; the key itself must be the one it names.
    if key is None or sign_key_id(key) != hint:
        raise UnknownSignerError("bundle signed by a key that is not trusted here")
    try:
        key.verify(DOMAIN + raw, signature)
    except BadSignatureError:
        raise AuthenticationError("bundle signature does not verify") from None
    manifest = parse_manifest(raw)  # verified bytes only
    if manifest.sender != hint:
        raise UnknownSignerError("bundle names another signer than the key that signed it")
    return manifest


class MemberStream:
    """A read-only view of one member. Its hash is checked when the last byte has been read:
    a mismatch raises AuthenticationError from ``read``."""

    def __init__(self, src: BinaryIO, member: Member):
        self._src = src
        self.member = member
        self._left = member.size
        self._hash = hashlib.sha256()
        self.verified = member.size == 0 and self._finish()

    def _finish(self) -> bool:
        if self._hash.hexdigest() != self.member.sha256:
            raise AuthenticationError(
                f"member {self.member.name} does not match the signed manifest")
        return True

    def read(self, n: int = -1) -> bytes:
        if self._left == 0:
            return b""
        want = self._left if n is None or n < 0 else min(n, self._left)
        data = _read_exact(self._src, want)
        self._hash.update(data)
        self._left -= len(data)
        if self._left == 0:
            self.verified = self._finish()
        return data

    def drain(self) -> None:
        while self.read(COPY_BLOCK):
            pass


class BundleReader:
    """Verifies a bundle's header before anything else and then yields its members in order.

    ``trusted`` maps signer key ids to verify keys; ``last_seq(sender)`` returns the highest
    sequence number already accepted from that signer (None if none): the bundle must be newer.
    The caller records ``manifest.seq`` once it has processed every member."""

    def __init__(self, src: BinaryIO, trusted: Mapping[str, VerifyKey], kind: str,
                 last_seq: Callable[[str], int | None], deployment: str):
        # The deployment id is required: a reader that could be given none would accept a
        # bundle of any deployment, and a vault whose id was deleted would silently skip it.
        if not _valid_deployment(deployment):
            raise ValueError("a bundle is read for one deployment: its id is required")
        self._src = src
        prefix = _read_exact(src, 16)
        if prefix[:8] != MAGIC:
            raise MalformedError("not a Peluit bundle")
        if prefix[9:12] != b"\0\0\0":   # unsigned bytes: must have one spelling only
            raise MalformedError("reserved bundle header bytes are not zero")
        version, length = struct.unpack(">B3xI", prefix[8:])
        if version != VERSION:
            raise MalformedError(f"unsupported bundle version {version}")
        if length > MAX_MANIFEST:
            raise MalformedError("manifest too large")
        raw = _read_exact(src, length)
        signature = _read_exact(src, 64)
        manifest = _verified_manifest(raw, signature, trusted)
        if manifest.kind != kind:
            raise MalformedError(f"expected a {kind} bundle, got {manifest.kind}")
        if manifest.deployment != deployment:
            raise UnknownSignerError("bundle belongs to another deployment")
        last = last_seq(manifest.sender)
        if last is not None and manifest.seq <= last:
            raise ReplayError(f"bundle {manifest.seq} is not newer than {last}, already accepted")
        self.manifest = manifest
        self._started = False

    def members(self) -> Iterator[MemberStream]:
        if self._started:
            raise ValueError("members already read")
        self._started = True
        for member in self.manifest.members:
            stream = MemberStream(self._src, member)
            yield stream
            stream.drain()
        if self._src.read(1):
            raise MalformedError("data after the last member of the bundle")


def member_for_file(name: str, path: str) -> Member:
    """Hash a file on disk into a manifest entry (for writers that do not know hashes yet)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(COPY_BLOCK):
            h.update(block)
            size += len(block)
    return Member(name, size, h.hexdigest())
