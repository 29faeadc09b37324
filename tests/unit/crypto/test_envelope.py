import io
import os
import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from crypto import envelope
from crypto.envelope import (
    CHUNK_CIPHERTEXT,
    CHUNK_PAYLOAD,
    META_PLAINTEXT,
    TRAILER_CIPHERTEXT,
    header_size,
)
from crypto.errors import (
    AuthenticationError,
    CryptoError,
    MalformedError,
    NotARecipientError,
    TruncatedError,
)
from crypto.padding import padded_chunk_count

# Real encryption per example: few enough examples for the suite's time budget, and never a
# failure on timing (the machines are shared and noisy). Applied per test, not as a global
# profile, so other parts' hypothesis settings stay theirs.
CRYPTO = settings(deadline=None, max_examples=40,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

META = {"v": 1, "kind": "file", "report": "r" * 32, "submission": "s" * 32,
        "name": "bukti transfer.pdf", "content_type": "application/pdf"}
P = CHUNK_PAYLOAD
BOUNDARY_SIZES = [0, 1, P - 1, P, P + 1, 2 * P - 1, 2 * P, 2 * P + 1, 3 * P, 5 * P + 7, 8 * P,
                  9 * P - 1, 9 * P + 1]


def _data(n):
    # cheap but not constant, so a reordering inside the plaintext would show
    return (os.urandom(64) * (n // 64 + 1))[:n]


def _seal(data, recipients, meta=META):
    return envelope.seal_bytes(data, [r.box.public_key for r in recipients], meta)


def _layout(recipients, total):
    """Byte offsets of the regions of an envelope (version 2: the slot count is fixed,
    whatever the number of recipients)."""
    del recipients
    h = header_size(envelope.DEFAULT_SLOTS)
    meta_end = h + META_PLAINTEXT + 17
    chunks = (total - meta_end - TRAILER_CIPHERTEXT) // CHUNK_CIPHERTEXT
    return h, meta_end, chunks


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_round_trip_at_boundaries(ani, size):
    data = _data(size)
    blob = _seal(data, [ani])
    meta, plain = envelope.open_bytes(blob, [ani.box])
    assert plain == data and meta == META
    assert len(blob) == envelope.padded_size(size)
    header = envelope.check_well_formed(io.BytesIO(blob), len(blob))
    assert header.slots == envelope.DEFAULT_SLOTS and header.recipient_ids == ()


@CRYPTO
@given(size=st.one_of(st.integers(0, 3 * P + 10),
                      st.sampled_from(BOUNDARY_SIZES),
                      st.integers(1, 12).map(lambda k: k * P + st_offset(k))),
       write_size=st.integers(1, 3 * P))
def test_round_trip_any_size_any_write_pattern(ani, size, write_size):
    data = _data(size)
    out = io.BytesIO()
    with envelope.EnvelopeWriter(out, [ani.box.public_key], META) as w:
        for i in range(0, size, write_size):
            w.write(memoryview(data)[i:i + write_size])
    blob = out.getvalue()
    assert len(blob) == envelope.padded_size(size)
    sink = io.BytesIO()
    meta, n = envelope.open_stream(io.BytesIO(blob), sink, [ani.box])
    assert sink.getvalue() == data and n == size and meta == META


def st_offset(k):
    return (-1, 0, 1)[k % 3]


def test_outside_shows_only_the_padded_size(ani):
    sizes = {len(_seal(_data(n), [ani])) for n in (0, 1, 1000, P)}
    assert len(sizes) == 1   # everything up to one chunk looks alike
    # 9 and 10 data chunks both pad to 10 (below 9 chunks the count is exact: 64 KiB steps)
    assert padded_chunk_count(9) == 10 and padded_chunk_count(7) == 7
    assert len(_seal(_data(8 * P + 1), [ani])) == len(_seal(_data(10 * P), [ani]))


def test_name_does_not_show(ani):
    blob = _seal(b"isi laporan rahasia", [ani], {**META, "name": "laporan-korupsi-dinas.pdf"})
    # Needles of a dozen bytes or more: a short one turns up in 64 KiB of ciphertext by chance
    # (three bytes did, once in a few hundred runs).
    assert b"laporan-korupsi" not in blob and b"isi laporan rahasia" not in blob


def test_every_recipient_can_open(ani, budi):
    blob = _seal(b"untuk semua", [ani, budi])
    for who in (ani, budi):
        assert envelope.open_bytes(blob, [who.box])[1] == b"untuk semua"
    assert envelope.open_bytes(blob, [PrivateKey.generate(), budi.box])[1] == b"untuk semua"


def test_wrong_key_is_not_a_recipient(ani, budi):
    blob = _seal(b"x", [ani])
    with pytest.raises(NotARecipientError):
        envelope.open_bytes(blob, [budi.box])
    with pytest.raises(NotARecipientError):
        envelope.open_bytes(blob, [])


def test_recipients_deduplicated_and_bounded(ani):
    blob = envelope.seal_bytes(b"x", [ani.box.public_key] * 3, META)
    assert len(blob) == envelope.padded_size(1)
    with pytest.raises(ValueError):
        envelope.seal_bytes(b"x", [], META)
    with pytest.raises(ValueError):
        envelope.seal_bytes(b"x", [PrivateKey.generate().public_key for _ in range(257)], META)


def test_metadata_limit(ani):
    with pytest.raises(ValueError):
        _seal(b"x", [ani], {"name": "x" * META_PLAINTEXT})
    out = io.BytesIO()
    for bad in ({"name": "x" * META_PLAINTEXT}, ["not", "an", "object"], {"f": 1.5}):
        with pytest.raises(ValueError):
            envelope.EnvelopeWriter(out, [ani.box.public_key], bad)  # type: ignore[arg-type]
    assert out.getvalue() == b""   # refused before a byte was written
    _seal(b"x", [ani], {"name": "n" * 255, "content_type": "c" * 255})


# --- tampering -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three_chunks(ani):
    return _seal(_data(3 * P), [ani])   # 3 data chunks pad to 3: no padding chunks


@pytest.fixture(scope="module")
def padded(ani):
    return _seal(_data(8 * P + 1), [ani])   # 9 data chunks + 1 padding chunk


def _open(blob, who):
    return envelope.open_bytes(blob, [who.box])


def test_truncation_in_every_region(ani, padded):
    h, meta_end, chunks = _layout(1, len(padded))
    cuts = [0, 5, 12, 12 + 16, h - 24, h - 1, h, h + 100, meta_end - 1, meta_end,
            meta_end + 1, meta_end + CHUNK_CIPHERTEXT, meta_end + CHUNK_CIPHERTEXT + 32,
            meta_end + 9 * CHUNK_CIPHERTEXT,          # data complete, padding chunk missing
            meta_end + chunks * CHUNK_CIPHERTEXT,      # trailer missing
            len(padded) - 1, len(padded) - 16]
    for cut in cuts:
        with pytest.raises(CryptoError):
            _open(padded[:cut], ani)
    with pytest.raises(TruncatedError):
        _open(padded[:meta_end + chunks * CHUNK_CIPHERTEXT], ani)


def test_appended_data(ani, padded):
    for extra in (b"\0", bytes(TRAILER_CIPHERTEXT), bytes(CHUNK_CIPHERTEXT)):
        with pytest.raises(CryptoError):
            _open(padded + extra, ani)


def test_reordered_chunks(ani, three_chunks):
    _h, meta_end, _ = _layout(1, len(three_chunks))
    c = [three_chunks[meta_end + i * CHUNK_CIPHERTEXT:meta_end + (i + 1) * CHUNK_CIPHERTEXT]
         for i in range(3)]
    tail = three_chunks[meta_end + 3 * CHUNK_CIPHERTEXT:]
    for order in ([1, 0, 2], [0, 2, 1], [2, 1, 0]):
        blob = three_chunks[:meta_end] + b"".join(c[i] for i in order) + tail
        with pytest.raises(AuthenticationError):
            _open(blob, ani)
    # a dropped chunk, and a repeated one
    for parts in ([c[0], c[2]], [c[0], c[1], c[1], c[2]]):
        with pytest.raises(CryptoError):
            _open(three_chunks[:meta_end] + b"".join(parts) + tail, ani)


def test_dropped_padding_chunk(ani, padded):
    _h, meta_end, chunks = _layout(1, len(padded))
    assert chunks == 10
    blob = padded[:meta_end + 9 * CHUNK_CIPHERTEXT] + padded[-TRAILER_CIPHERTEXT:]
    with pytest.raises(AuthenticationError):
        _open(blob, ani)


@CRYPTO
@given(st.data())
def test_bit_flip_anywhere(ani, padded, data):
    region = data.draw(st.sampled_from(["header", "meta", "chunk", "trailer", "anywhere"]))
    h, meta_end, _chunks = _layout(1, len(padded))
    lo, hi = {"header": (0, h), "meta": (h, meta_end),
              "chunk": (meta_end, len(padded) - TRAILER_CIPHERTEXT),
              "trailer": (len(padded) - TRAILER_CIPHERTEXT, len(padded)),
              "anywhere": (0, len(padded))}[region]
    pos = data.draw(st.integers(lo, hi - 1))
    bit = data.draw(st.integers(0, 7))
    blob = bytearray(padded)
    blob[pos] ^= 1 << bit
    with pytest.raises(CryptoError):
        _open(bytes(blob), ani)


def test_bit_flip_in_another_recipients_slot(ani, budi):
    blob = _seal(b"x", [ani, budi])
    # flip inside every slot but the one ani opens: the whole header is authenticated
    opened = [i for i in range(envelope.DEFAULT_SLOTS) if _opens(ani, _slot(blob, i))]
    assert len(opened) == 1
    for i in range(envelope.DEFAULT_SLOTS):
        if i in opened:
            continue
        bad = bytearray(blob)
        bad[12 + i * 80 + 40] ^= 1
        with pytest.raises(AuthenticationError):
            _open(bytes(bad), ani)


def test_swapped_header_between_envelopes(ani):
    a, b = _seal(_data(100), [ani]), _seal(_data(100), [ani])
    h = envelope.clear_header_size(envelope.DEFAULT_SLOTS)
    with pytest.raises(AuthenticationError):
        _open(a[:h] + b[h:], ani)
    # and a chunk spliced from another envelope under the same key pair
    _, meta_end, _ = _layout(1, len(a))
    with pytest.raises(AuthenticationError):
        _open(a[:meta_end] + b[meta_end:], ani)


def test_stripping_slots_is_detected(ani, budi):
    blob = _seal(b"x", [ani, budi])
    keep = next(i for i in range(envelope.DEFAULT_SLOTS) if _opens(ani, _slot(blob, i)))
    n = envelope.DEFAULT_SLOTS
    stripped = (blob[:8] + struct.pack(">BBH", 2, 0, 1) + _slot(blob, keep)
                + blob[12 + n * 80:])
    with pytest.raises(CryptoError):
        _open(stripped, ani)


def _slot(blob, i):
    return blob[12 + i * 80:12 + (i + 1) * 80]


def _opens(who, slot):
    from nacl.exceptions import CryptoError as NaclError
    from nacl.public import SealedBox
    try:
        SealedBox(who.box).decrypt(slot)
        return True
    except NaclError:
        return False


# Curve25519 in Montgomery form: v^2 = u^3 + A u^2 + u over p = 2^255 - 19.
_P = 2**255 - 19
_A = 486662


def _on_curve(u_bytes):
    """Whether 32 bytes are the u-coordinate of a point on Curve25519 (not on its twist), with
    the top bit clear: true of every X25519 public key, of one random string in four."""
    u = int.from_bytes(u_bytes, "little")
    if u >= 2**255:
        return False
    rhs = (u * u * u + _A * u * u + u) % _P
    return rhs == 0 or pow(rhs, (_P - 1) // 2, _P) == 1


def test_slots_are_fixed_and_name_nobody(ani, budi):
    """The outside of an envelope says neither who may read it nor how many they are."""
    one, two = _seal(b"x", [ani]), _seal(b"x", [ani, budi])
    assert len(one) == len(two) == envelope.padded_size(1)
    for blob in (one, two):
        assert blob[8:12] == struct.pack(">BBH", 2, 0, envelope.DEFAULT_SLOTS)
        h = envelope.clear_header_size(envelope.DEFAULT_SLOTS)
        for kid in (envelope.box_key_id(ani.box.public_key),
                    envelope.box_key_id(budi.box.public_key)):
            assert kid not in blob[:h]


def test_dummy_slots_look_like_real_ones(ani):
    """A real slot starts with an X25519 public key (a curve point, top bit clear). Random
    bytes fail that test three times in four, so a dummy of random bytes would point at the
    real slot; ours are sealed to throwaway keys and pass like the real one."""
    blobs = [_seal(b"x", [ani]) for _ in range(8)]
    for blob in blobs:
        slots = [_slot(blob, i) for i in range(envelope.DEFAULT_SLOTS)]
        assert all(_on_curve(s[:32]) for s in slots)
    # the check itself tells random bytes apart (a test that cannot fail is a defect)
    assert sum(_on_curve(os.urandom(32)) for _ in range(200)) < 100
    # and the real slot is not always at the same place
    places = {next(i for i in range(envelope.DEFAULT_SLOTS) if _opens(ani, _slot(b, i)))
              for b in blobs}
    assert len(places) > 1


def test_sealed_recipient_list(ani, budi):
    reader = envelope.EnvelopeReader(io.BytesIO(_seal(b"x", [ani, budi])), [budi.box])
    assert set(reader.recipient_ids) == {envelope.box_key_id(ani.box.public_key),
                                         envelope.box_key_id(budi.box.public_key)}


def test_more_slots_on_request_and_too_many_recipients(ani, budi):
    blob = envelope.seal_bytes(b"x", [ani.box.public_key], META, slots=32)
    assert envelope.read_header(io.BytesIO(blob))[0].slots == 32
    assert envelope.open_bytes(blob, [ani.box])[1] == b"x"
    with pytest.raises(ValueError):
        envelope.seal_bytes(b"x", [ani.box.public_key, budi.box.public_key], META, slots=1)
    many = [PrivateKey.generate().public_key for _ in range(17)]
    assert envelope.read_header(io.BytesIO(envelope.seal_bytes(b"x", many, META)))[0].slots == 32


def test_version_1_still_opens(ani, budi):
    """Envelopes written before version 2 (on a server's store, in a vault) still open."""
    blob = envelope.seal_bytes(b"lama", [ani.box.public_key, budi.box.public_key], META,
                               clear_recipients=True)
    header, _ = envelope.read_header(io.BytesIO(blob))
    assert header.version == 1 and len(header.recipient_ids) == 2
    assert len(blob) == envelope.padded_size(4, 2, envelope.VERSION_CLEAR)
    assert envelope.open_bytes(blob, [budi.box]) == (META, b"lama")
    assert envelope.check_well_formed(io.BytesIO(blob), len(blob)).recipient_ids
    with pytest.raises(NotARecipientError):
        envelope.open_bytes(blob, [PrivateKey.generate()])


def test_plaintext_is_not_released_past_a_bad_chunk(ani, three_chunks):
    _h, meta_end, _ = _layout(1, len(three_chunks))
    blob = bytearray(three_chunks)
    blob[meta_end + CHUNK_CIPHERTEXT + 10] ^= 1    # second chunk damaged
    reader = envelope.EnvelopeReader(io.BytesIO(bytes(blob)), [ani.box])
    got = []
    with pytest.raises(AuthenticationError):
        for chunk in reader.chunks():
            got.append(chunk)
    assert len(got) == 1 and reader.plaintext_size is None


def test_writer_not_closed_never_opens(ani):
    out = io.BytesIO()
    w = envelope.EnvelopeWriter(out, [ani.box.public_key], META)
    w.write(_data(P * 2))
    with pytest.raises(TruncatedError):
        _open(out.getvalue(), ani)
    w.close()
    with pytest.raises(ValueError):
        w.write(b"x")


def test_check_well_formed_rejects_odd_sizes(ani, padded):
    with pytest.raises(MalformedError):
        envelope.check_well_formed(io.BytesIO(padded), len(padded) + 1)
    bad = envelope.envelope_size(1, 9)   # 9 is not a Padmé bucket
    with pytest.raises(MalformedError):
        envelope.check_well_formed(io.BytesIO(padded), bad)


def test_open_bytes_limit(ani):
    blob = _seal(_data(P + 1), [ani])
    with pytest.raises(MalformedError):
        envelope.open_bytes(blob, [ani.box], limit=P)


class _Trickle(io.RawIOBase):
    """A raw stream that returns at most 1000 bytes per read, like a pipe."""

    def __init__(self, data):
        self._src = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, b):
        chunk = self._src.read(min(len(b), 1000))
        b[:len(chunk)] = chunk
        return len(chunk)


def test_short_reads_are_not_mistaken_for_the_end(ani):
    data = _data(2 * P + 5)
    blob = _seal(data, [ani])
    sink = io.BytesIO()
    envelope.open_stream(_Trickle(blob), sink, [ani.box])
    assert sink.getvalue() == data


def test_constant_memory(ani, tmp_path):
    # 16 MiB through writer and reader: peak Python allocation stays near one chunk, not the size
    src = tmp_path / "plain"
    src.write_bytes(_data(16 * 1024 * 1024))
    dst = tmp_path / "env"
    tracemalloc.start()
    try:
        with open(src, "rb") as f, open(dst, "wb") as out:
            envelope.seal_stream(f, out, [ani.box.public_key], META, read_size=256 * 1024)
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        with open(dst, "rb") as f, open(os.devnull, "wb") as out:
            envelope.open_stream(f, out, [ani.box])
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_write < 2 * 1024 * 1024 and peak_read < 2 * 1024 * 1024


class _Dribble(io.RawIOBase):
    """A raw output that takes at most 1000 bytes per write(), like a pipe or socket."""

    def __init__(self):
        self.data = bytearray()

    def writable(self):
        return True

    def write(self, b):
        taken = bytes(b[:1000])
        self.data += taken
        return len(taken)


def test_partial_writes_are_completed(ani):
    data = _data(P + 10)
    out = _Dribble()
    envelope.seal_stream(io.BytesIO(data), out, [ani.box.public_key], META)
    assert len(out.data) == envelope.padded_size(P + 10)
    sink = _Dribble()
    envelope.open_stream(io.BytesIO(bytes(out.data)), sink, [ani.box])
    assert sink.data == data


def test_views_stay_valid_after_the_next_chunk_is_read():
    # The importer hands views to another thread while it decrypts on: each must keep its data.
    sk = PrivateKey.generate()
    data = os.urandom(3 * 65536 + 123)
    reader = envelope.EnvelopeReader(io.BytesIO(envelope.seal_bytes(data, [sk.public_key], {})),
                                     [sk])
    views = list(reader.views())
    assert len(views) > 1 and all(v.readonly for v in views)
    assert b"".join(views) == data and reader.plaintext_size == len(data)
