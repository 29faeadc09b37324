"""The envelope: streaming authenticated encryption to several recipients (docs/crypto.md §5).

Layout of version 2, what every writer makes (all integers big-endian)::

    header   magic "PELUIT-E" | version u8 (=2) | flags u8 (=0) | n u16 (slots, 1..256)
             n x [ SealedBox(content key) (80) ]  a recipient's, or a dummy's: sealed to a
                                                   throwaway key pair, so it looks the same
             secretstream header (24)
    ids      secretstream message, n x 16-byte plaintext: the recipients' key ids, sorted, then
             zero ids for the dummy slots; associated data = the whole header
    meta     secretstream message, 4,096-byte plaintext: u16 length | canonical JSON | zeros;
             associated data = the whole header, so a swapped header does not decrypt
    chunks   k secretstream messages, 65,536-byte plaintexts: u32 length | payload | zeros;
             the data first, then zero-length padding chunks
    trailer  secretstream message tagged FINAL, 16-byte plaintext: u64 data size | u64 k

The slots are in random order and carry no key id: who may read an envelope, and how many
they are, is inside the encryption. A reader tries its keys on the slots (a SealedBox open is
cheap). Every writer uses the same number of slots (``DEFAULT_SLOTS`` unless the caller asks
for more), so two envelopes sealed to different groups look alike from outside.

Version 1 (still read, written only with ``clear_recipients=True``, for replies sealed to one
known reporter key that the gateway checks) has ``n x [ key id (16) | SealedBox (80) ]`` in
the clear header, sorted by key id, and no ids message.

Every chunk has the same plaintext length whatever it carries, so the file size reveals only k,
and k is rounded up with Padmé (``padding.py``). A missing FINAL is truncation; secretstream's
nonce chain catches reordering and dropped chunks; the Poly1305 tags catch bit-flips.
Memory use is one chunk whatever the size."""

from __future__ import annotations

import io
import os
import secrets
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_ABYTES as ABYTES,
)
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_HEADERBYTES as SS_HEADER_BYTES,
)
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_init_pull,
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_pull,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_TAG_FINAL as TAG_FINAL,
)
from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_TAG_MESSAGE as TAG_MESSAGE,
)
from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from .encoding import canonical_json, parse_canonical_json
from .errors import AuthenticationError, MalformedError, NotARecipientError, TruncatedError
from .keys import box_key_id, usable_box_key
from .padding import padded_chunk_count

MAGIC = b"PELUIT-E"
VERSION = 2          # what writers make: fixed slots, no key id in the clear
VERSION_CLEAR = 1    # clear key ids; still read, written only on request (replies)
VERSIONS = (VERSION_CLEAR, VERSION)
MAX_RECIPIENTS = 256
DEFAULT_SLOTS = 16   # every envelope has this many recipient slots unless a caller asks more
KEY_ID_BYTES = 16
SEALED_KEY_BYTES = 32 + 48  # SealedBox: ephemeral public key + MAC over a 32-byte key
RECIPIENT_BYTES = KEY_ID_BYTES + SEALED_KEY_BYTES   # a version 1 entry
SLOT_BYTES = SEALED_KEY_BYTES                       # a version 2 slot
_ZERO_ID = bytes(KEY_ID_BYTES)
META_PLAINTEXT = 4096
CHUNK_PLAINTEXT = 65536
CHUNK_PAYLOAD = CHUNK_PLAINTEXT - 4
TRAILER_PLAINTEXT = 16
FIXED_PREFIX = 12
CHUNK_CIPHERTEXT = CHUNK_PLAINTEXT + ABYTES
TRAILER_CIPHERTEXT = TRAILER_PLAINTEXT + ABYTES
_ZEROS = bytes(CHUNK_PLAINTEXT)
_FULL_PREFIX = struct.pack(">I", CHUNK_PAYLOAD)


@dataclass(frozen=True)
class EnvelopeInfo:
    """What the outside of an envelope may say: its (padded) size. The true size is inside."""

    envelope_size: int
    plaintext_size: int


def clear_header_size(slots: int, version: int = VERSION) -> int:
    """The clear header: what the metadata message authenticates as associated data."""
    entry = RECIPIENT_BYTES if version == VERSION_CLEAR else SLOT_BYTES
    return FIXED_PREFIX + slots * entry + SS_HEADER_BYTES


def header_size(slots: int, version: int = VERSION) -> int:
    """Everything before the metadata message (version 2: the clear header and the sealed
    list of key ids)."""
    ids = 0 if version == VERSION_CLEAR else slots * KEY_ID_BYTES + ABYTES
    return clear_header_size(slots, version) + ids


def envelope_size(slots: int, chunks: int, version: int = VERSION) -> int:
    return (header_size(slots, version) + META_PLAINTEXT + ABYTES
            + chunks * CHUNK_CIPHERTEXT + TRAILER_CIPHERTEXT)


def slots_for(recipients: int, slots: int | None = None) -> int:
    """The slot count a writer uses: ``slots`` if given, else ``DEFAULT_SLOTS``, or for more
    recipients than that the next multiple of it."""
    if slots is None:
        slots = max(DEFAULT_SLOTS, -(-recipients // DEFAULT_SLOTS) * DEFAULT_SLOTS)
    return slots


def padded_size(plaintext_size: int, slots: int = DEFAULT_SLOTS, version: int = VERSION) -> int:
    """The size an envelope of ``plaintext_size`` bytes will have on disk (version 2: with
    ``slots`` slots, whatever the number of real recipients; version 1: ``slots`` is the
    number of recipients)."""
    return envelope_size(slots, padded_chunk_count(_data_chunks(plaintext_size)), version)


def _data_chunks(size: int) -> int:
    return max(1, -(-size // CHUNK_PAYLOAD))


def _encode_meta(metadata: dict[str, Any]) -> bytes:
    body = canonical_json(metadata)
    if len(body) > META_PLAINTEXT - 2:
        raise ValueError("envelope metadata too large (names are limited to 255 characters)")
    return struct.pack(">H", len(body)) + body + bytes(META_PLAINTEXT - 2 - len(body))


class EnvelopeWriter:
    """Encrypts a stream into ``out`` as it is written. Call ``close()`` to finish; an envelope
    that was not closed has no FINAL trailer and will never decrypt as complete."""

    def __init__(self, out: BinaryIO, recipients: Sequence[PublicKey], metadata: dict[str, Any],
                 *, slots: int | None = None, clear_recipients: bool = False):
        if not isinstance(metadata, dict):
            raise ValueError("envelope metadata is a JSON object")
        meta = _encode_meta(metadata)   # before writing anything: refuse cleanly, not halfway
        unique: dict[bytes, PublicKey] = {}
        for pk in recipients:
            if not isinstance(pk, PublicKey) or not usable_box_key(bytes(pk)):
                raise ValueError("recipients are X25519 public keys of full order")
            unique.setdefault(box_key_id(pk), pk)
        if not 1 <= len(unique) <= MAX_RECIPIENTS:
            raise ValueError(f"an envelope needs 1 to {MAX_RECIPIENTS} recipients")
        self._out = out
        key = os.urandom(32)
        self._state = crypto_secretstream_xchacha20poly1305_state()
        if clear_recipients:
            self._version, self._slots = VERSION_CLEAR, len(unique)
            parts = [MAGIC, struct.pack(">BBH", VERSION_CLEAR, 0, len(unique))]
            for kid, pk in sorted(unique.items()):
                parts += [kid, SealedBox(pk).encrypt(key)]
            parts.append(crypto_secretstream_xchacha20poly1305_init_push(self._state, key))
            header = b"".join(parts)
            _write_all(out, header)
        else:
            n = slots_for(len(unique), slots)
            if not len(unique) <= n <= MAX_RECIPIENTS:
                raise ValueError(f"{len(unique)} recipients do not fit in {n} slots")
            self._version, self._slots = VERSION, n
            # A dummy slot is the content key's shape sealed to a key pair made for it and
            # thrown away: its first 32 bytes are a real curve point, as in a recipient's slot
            # (random bytes would not be: half of them have the top bit set, and half of the
            # rest are not on the curve).
            boxes = [SealedBox(pk).encrypt(key) for pk in unique.values()]
            boxes += [SealedBox(PrivateKey.generate().public_key).encrypt(os.urandom(32))
                      for _ in range(n - len(unique))]
            secrets.SystemRandom().shuffle(boxes)
            parts = [MAGIC, struct.pack(">BBH", VERSION, 0, n), *boxes,
                     crypto_secretstream_xchacha20poly1305_init_push(self._state, key)]
            header = b"".join(parts)
            ids = b"".join(sorted(unique)) + _ZERO_ID * (n - len(unique))
            _write_all(out, header)
            _write_all(out, crypto_secretstream_xchacha20poly1305_push(
                self._state, ids, header, TAG_MESSAGE))
        _write_all(out, crypto_secretstream_xchacha20poly1305_push(
            self._state, meta, header, TAG_MESSAGE))
        self._buffer = bytearray()
        self._size = 0
        self._chunks = 0
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closed:
            raise ValueError("envelope already closed")
        view = memoryview(data).cast("B")
        self._size += len(view)
        buf = self._buffer
        if buf:  # top up a partial chunk first
            need = CHUNK_PAYLOAD - len(buf)
            buf += view[:need]
            view = view[need:]
            if len(buf) < CHUNK_PAYLOAD:
                return
            self._push_chunk(buf)
            buf.clear()
        # Whole chunks straight from the caller's buffer: one copy each, into the plaintext.
        while len(view) >= CHUNK_PAYLOAD:
            self._push_chunk(view[:CHUNK_PAYLOAD])
            view = view[CHUNK_PAYLOAD:]
        buf += view

    def _push_chunk(self, payload: bytes | bytearray | memoryview) -> None:
        n = len(payload)
        if n == CHUNK_PAYLOAD:
            plain = b"".join((_FULL_PREFIX, payload))
        else:
            plain = b"".join((struct.pack(">I", n), payload, _ZEROS[:CHUNK_PAYLOAD - n]))
        _write_all(self._out, crypto_secretstream_xchacha20poly1305_push(
            self._state, plain, None, TAG_MESSAGE))
        self._chunks += 1

    def close(self) -> EnvelopeInfo:
        if self._closed:
            raise ValueError("envelope already closed")
        if self._buffer or self._chunks == 0:
            self._push_chunk(bytes(self._buffer))
            self._buffer.clear()
        target = padded_chunk_count(self._chunks)
        while self._chunks < target:
            self._push_chunk(b"")
        trailer = struct.pack(">QQ", self._size, self._chunks)
        _write_all(self._out, crypto_secretstream_xchacha20poly1305_push(
            self._state, trailer, None, TAG_FINAL))
        self._closed = True
        return EnvelopeInfo(envelope_size(self._slots, self._chunks, self._version), self._size)

    def __enter__(self) -> EnvelopeWriter:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None and not self._closed:
            self.close()


def _write_all(out: BinaryIO, data: bytes | memoryview) -> None:
    """write() everything: a raw (unbuffered) stream may take only part of a block."""
    written = out.write(data)
    if written is None or written == len(data):
        return
    view = memoryview(data)[written:]
    while view:
        written = out.write(view)
        if not written:
            raise OSError("the output stream accepted nothing")
        view = view[written:]


def _read_upto(src: BinaryIO, n: int) -> bytes:
    """Read n bytes, or fewer only at the end of the input (raw files, pipes and sockets may
    return short reads before the end)."""
    data = src.read(n)
    if data is None:
        data = b""
    if len(data) == n or not data:
        return data
    parts, got = [data], len(data)
    while got < n:
        more = src.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _read_exact(src: BinaryIO, n: int) -> bytes:
    data = _read_upto(src, n)
    if len(data) != n:
        raise TruncatedError("envelope ends too early")
    return data


@dataclass(frozen=True)
class EnvelopeHeader:
    recipient_ids: tuple[bytes, ...]   # version 1 only: version 2 names nobody in the clear
    raw: bytes
    version: int = VERSION_CLEAR
    slots: int = 0


def read_header(src: BinaryIO) -> tuple[EnvelopeHeader, list[bytes]]:
    """Parse the clear header; returns it with the sealed keys (version 1: in recipient order;
    version 2: the slots, in their order)."""
    prefix = _read_exact(src, FIXED_PREFIX)
    if prefix[:8] != MAGIC:
        raise MalformedError("not a Peluit envelope")
    version, flags, n = struct.unpack(">BBH", prefix[8:])
    if version not in VERSIONS or flags != 0:
        raise MalformedError(f"unsupported envelope version {version}")
    if not 1 <= n <= MAX_RECIPIENTS:
        raise MalformedError("bad recipient count")
    if version == VERSION:
        body = _read_exact(src, n * SLOT_BYTES + SS_HEADER_BYTES)
        slots = [body[i * SLOT_BYTES:(i + 1) * SLOT_BYTES] for i in range(n)]
        return EnvelopeHeader((), prefix + body, VERSION, n), slots
    body = _read_exact(src, n * RECIPIENT_BYTES + SS_HEADER_BYTES)
    ids, sealed_keys = [], []
    for i in range(n):
        entry = body[i * RECIPIENT_BYTES:(i + 1) * RECIPIENT_BYTES]
        ids.append(entry[:KEY_ID_BYTES])
        sealed_keys.append(entry[KEY_ID_BYTES:])
    if ids != sorted(set(ids)):
        raise MalformedError("recipient entries out of order or repeated")
    return EnvelopeHeader(tuple(ids), prefix + body, VERSION_CLEAR, n), sealed_keys


def _parse_ids(plain: bytes, slots: int) -> tuple[bytes, ...]:
    """Version 2's sealed recipient list: key ids sorted and unique, then zero ids only."""
    ids = [plain[i * KEY_ID_BYTES:(i + 1) * KEY_ID_BYTES] for i in range(slots)]
    real = [kid for kid in ids if kid != _ZERO_ID]
    if not real or ids != real + [_ZERO_ID] * (slots - len(real)) \
            or real != sorted(set(real)):
        raise MalformedError("bad recipient list inside the envelope")
    return tuple(real)


class EnvelopeReader:
    """Decrypts an envelope from ``src`` with whichever of ``keys`` it was sealed to.

    ``metadata`` is available once constructed; ``chunks()`` yields the plaintext and raises at
    the end if anything was wrong. Write what it yields somewhere provisional and keep it only
    when the iteration finished without an error."""

    def __init__(self, src: BinaryIO, keys: Sequence[PrivateKey]):
        self._src = src
        header, sealed_keys = read_header(src)
        self.version = header.version
        self.recipient_ids = header.recipient_ids
        if header.version == VERSION:
            key, opener = _try_slots(sealed_keys, keys)
        else:
            key, opener = _open_clear(header.recipient_ids, sealed_keys, keys)
        if len(key) != 32:
            raise AuthenticationError("bad content key")
        ss_header = header.raw[-SS_HEADER_BYTES:]
        self._state = crypto_secretstream_xchacha20poly1305_state()
        crypto_secretstream_xchacha20poly1305_init_pull(self._state, ss_header, key)
        if header.version == VERSION:
            ids_plain, tag = self._pull(
                _read_exact(src, header.slots * KEY_ID_BYTES + ABYTES), header.raw)
            if tag != TAG_MESSAGE:
                raise MalformedError("envelope recipient list in the wrong place")
            self.recipient_ids = _parse_ids(ids_plain, header.slots)
            if opener not in self.recipient_ids:
                # Whoever wrote it did not list a key it sealed to: not one of our writers.
                raise MalformedError("the envelope's recipient list leaves out its reader")
        meta_plain, tag = self._pull(_read_exact(src, META_PLAINTEXT + ABYTES), header.raw)
        if tag != TAG_MESSAGE:
            raise MalformedError("envelope metadata in the wrong place")
        (length,) = struct.unpack(">H", meta_plain[:2])
        if length > META_PLAINTEXT - 2 \
                or meta_plain[2 + length:] != _ZEROS[:META_PLAINTEXT - 2 - length]:
            raise MalformedError("bad envelope metadata")
        meta = parse_canonical_json(meta_plain[2:2 + length])
        if not isinstance(meta, dict):
            raise MalformedError("envelope metadata is not an object")
        self.metadata: dict[str, Any] = meta
        self.plaintext_size: int | None = None
        self._consumed = False

    def _pull(self, ciphertext: bytes, ad: bytes | None = None) -> tuple[bytes, int]:
        try:
            return crypto_secretstream_xchacha20poly1305_pull(self._state, ciphertext, ad)
        except NaclCryptoError:
            raise AuthenticationError("envelope was changed, reordered or damaged") from None

    def chunks(self) -> Iterator[bytes]:
        """Yield the plaintext in order. Raises at the point where something is wrong, and only
        returns normally after the FINAL trailer verified and the input ended right after it."""
        for view in self.views():
            yield bytes(view)

    def views(self) -> Iterator[memoryview]:
        """Like ``chunks()``, as read-only views into each decrypted chunk: no copy. A view keeps
        its own chunk alive (every chunk is a new bytes object), so it may be kept or handed
        to another thread after the next one was read."""
        if self._consumed:
            raise ValueError("envelope already read")
        self._consumed = True
        size = 0
        count = 0
        data_ended = False
        while True:
            ct = _read_upto(self._src, CHUNK_CIPHERTEXT)
            if not ct:
                raise TruncatedError("envelope ends without its final trailer")
            if len(ct) < CHUNK_CIPHERTEXT:
                if len(ct) != TRAILER_CIPHERTEXT:
                    raise TruncatedError("envelope ends inside a chunk")
                plain, tag = self._pull(ct)
                if tag != TAG_FINAL:
                    raise TruncatedError("envelope ends without its final trailer")
                true_size, chunks = struct.unpack(">QQ", plain)
                if true_size != size or chunks != count \
                        or count != padded_chunk_count(_data_chunks(size)):
                    raise AuthenticationError("envelope trailer does not match its contents")
                if self._src.read(1):
                    raise MalformedError("data after the end of the envelope")
                self.plaintext_size = size
                return
            plain, tag = self._pull(ct)
            if tag != TAG_MESSAGE:
                raise MalformedError("unexpected tag inside the envelope")
            (n,) = struct.unpack(">I", plain[:4])
            if n > CHUNK_PAYLOAD or (data_ended and n) \
                    or plain[4 + n:] != _ZEROS[:CHUNK_PAYLOAD - n]:
                raise MalformedError("bad chunk inside the envelope")
            count += 1
            if n < CHUNK_PAYLOAD:
                data_ended = True
            if n:
                size += n
                yield memoryview(plain)[4:4 + n]


def _try_slots(slots: Sequence[bytes], keys: Sequence[PrivateKey]) -> tuple[bytes, bytes]:
    """Version 2: open whichever slot one of ``keys`` opens (a failed SealedBox open is one
    X25519 multiplication and a MAC check: bench.crypto_envelope measures it)."""
    for sk in keys:
        box = SealedBox(sk)
        for slot in slots:
            try:
                return box.decrypt(slot), box_key_id(sk.public_key)
            except NaclCryptoError:
                continue
    raise NotARecipientError("this envelope was not sealed to any key offered")


def _open_clear(ids: tuple[bytes, ...], sealed_keys: Sequence[bytes],
                keys: Sequence[PrivateKey]) -> tuple[bytes, bytes]:
    """Version 1: the clear key ids say which entry is whose."""
    for sk in keys:
        kid = box_key_id(sk.public_key)
        if kid in ids:
            try:
                return SealedBox(sk).decrypt(sealed_keys[ids.index(kid)]), kid
            except NaclCryptoError:
                raise AuthenticationError("the envelope's key block does not open") from None
    raise NotARecipientError("this envelope was not sealed to any key offered")


def seal_stream(src: BinaryIO, out: BinaryIO, recipients: Sequence[PublicKey],
                metadata: dict[str, Any], read_size: int = 1 << 20, *,
                slots: int | None = None, clear_recipients: bool = False) -> EnvelopeInfo:
    writer = EnvelopeWriter(out, recipients, metadata, slots=slots,
                            clear_recipients=clear_recipients)
    while block := src.read(read_size):
        writer.write(block)
    return writer.close()


def seal_bytes(data: bytes, recipients: Sequence[PublicKey], metadata: dict[str, Any], *,
               slots: int | None = None, clear_recipients: bool = False) -> bytes:
    out = io.BytesIO()
    seal_stream(io.BytesIO(data), out, recipients, metadata, slots=slots,
                clear_recipients=clear_recipients)
    return out.getvalue()


def open_stream(src: BinaryIO, out: BinaryIO,
                keys: Sequence[PrivateKey]) -> tuple[dict[str, Any], int]:
    """Decrypt ``src`` into ``out``. On an error ``out`` holds a prefix of the plaintext: write to
    a provisional place and keep it only if this returned."""
    reader = EnvelopeReader(src, keys)
    for view in reader.views():
        _write_all(out, view)
    if reader.plaintext_size is None:  # chunks() only returns after the trailer verified
        raise TruncatedError("envelope ends without its final trailer")
    return reader.metadata, reader.plaintext_size


def open_bytes(data: bytes, keys: Sequence[PrivateKey],
               limit: int = 64 * 1024 * 1024) -> tuple[dict[str, Any], bytes]:
    """Decrypt a small envelope held in memory (questions, answers); refuses more than ``limit``."""
    reader = EnvelopeReader(io.BytesIO(data), keys)
    parts, total = [], 0
    for chunk in reader.chunks():
        total += len(chunk)
        if total > limit:
            raise MalformedError("envelope larger than allowed here")
        parts.append(chunk)
    return reader.metadata, b"".join(parts)


def check_well_formed(src: BinaryIO, size: int) -> EnvelopeHeader:
    """What can be checked without a key: the header parses and the size is one that an
    envelope with this many recipients can have (used by the policy check of the store)."""
    header, _ = read_header(src)
    base = envelope_size(header.slots, 0, header.version)
    if size < base or (size - base) % CHUNK_CIPHERTEXT:
        raise MalformedError("envelope size is not one the format produces")
    chunks = (size - base) // CHUNK_CIPHERTEXT
    if chunks == 0 or padded_chunk_count(chunks) != chunks:
        raise MalformedError("envelope chunk count is not a padding bucket")
    return header
