"""Fuzz-style: random bytes and mutations of valid documents fed to every parser. Each must
either accept or raise the library's own CryptoError subclass: never another exception, never a
hang, and never an allocation driven by a length field (all reads are bounded before use)."""

import contextlib
import datetime as dt
import hashlib
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import bundle, envelope, escrow, identity, kdf, sealed
from crypto.encoding import parse_canonical_json
from crypto.errors import CryptoError, MalformedError, TruncatedError

DAY = dt.date(2026, 11, 23)
_AUDITOR = identity.AuditorIdentity.generate("Fuzz")
_SERVER = identity.ServerKey.generate("fuzz-server")
_ENVELOPE = envelope.seal_bytes(b"isi laporan" * 50, [_AUDITOR.box.public_key], {"v": 1})
_CARD = _AUDITOR.card(DAY).to_bytes()
_SEALED_KEY = bytes(32)
_SEALED = sealed.seal_with_key(b"rahasia", _SEALED_KEY, "vault")
_SEALED_PW = sealed.seal(b"rahasia", "pw", "vault", kdf.TEST_PARAMS)
_MEMBER = b"member bytes" * 10
_BUNDLE = b"".join(bundle.iter_bundle(
    bundle.make_manifest("inbox", "dep", _SERVER.signing, 3,
                         [bundle.Member("m.env", len(_MEMBER),
                                        hashlib.sha256(_MEMBER).hexdigest())],
                         {"submissions": []}, DAY),
    _SERVER.signing, lambda name: io.BytesIO(_MEMBER)))
_CUSTODIAN = identity.CustodianIdentity.generate("Fuzz custodian")
_REPORTER = identity.PrivateKey.generate()
_DEPOSIT = escrow.seal_deposit({"name": "Siti", "nip": "1", "unit": "U", "contact": "c"},
                               deposit_id="ab" * 16, report_id="cd" * 16,
                               reporter_secret=_REPORTER, custodians=[_CUSTODIAN.card(DAY)],
                               rule=escrow.Rule(1, 1))


@st.composite
def mutations(draw, valid: bytes):
    """Random bytes, or the valid document cut, overwritten, spliced or extended."""
    kind = draw(st.sampled_from(["random", "prefix", "overwrite", "insert", "delete", "append"]))
    if kind == "random":
        return draw(st.binary(max_size=300))
    data = bytearray(valid)
    pos = draw(st.integers(0, len(data)))
    if kind == "prefix":
        return bytes(data[:pos])
    blob = draw(st.binary(min_size=1, max_size=16))
    if kind == "overwrite":
        data[pos:pos + len(blob)] = blob
    elif kind == "insert":
        data[pos:pos] = blob
    elif kind == "delete":
        del data[pos:pos + len(blob)]
    else:
        data += blob
    return bytes(data)


# PELUIT_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the suite fast.
FUZZ = settings(max_examples=int(os.environ.get("PELUIT_FUZZ_EXAMPLES", "200")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _only_our_errors(fn, data):
    with contextlib.suppress(CryptoError):
        fn(data)


@FUZZ
@given(mutations(_ENVELOPE))
def test_envelope(data):
    _only_our_errors(lambda d: envelope.open_bytes(d, [_AUDITOR.box]), data)
    _only_our_errors(lambda d: envelope.check_well_formed(io.BytesIO(d), len(d)), data)


@FUZZ
@given(mutations(_DEPOSIT))
def test_escrow_deposit(data):
    _only_our_errors(lambda d: escrow.open_deposit(
        d, report_id="cd" * 16, reporter_key=bytes(_REPORTER.public_key),
        custodians=[_CUSTODIAN], approval=True), data)


@FUZZ
@given(mutations(_CARD))
def test_card(data):
    _only_our_errors(identity.Card.from_bytes, data)


@FUZZ
@given(mutations(_SERVER.to_bytes()))
def test_server_key(data):
    _only_our_errors(identity.ServerKey.from_bytes, data)


@FUZZ
@given(mutations(_SEALED))
def test_sealed_with_key(data):
    _only_our_errors(lambda d: sealed.open_with_key(d, _SEALED_KEY, "vault"), data)


@FUZZ
@given(mutations(_SEALED_PW))
def test_sealed_kdf_parameters(data):
    # only the parse: a mutated "m" may legitimately ask for up to 1 GiB, which kdf_of allows
    _only_our_errors(lambda d: sealed.kdf_of(d, "vault"), data)


@FUZZ
@given(mutations(_SEALED_PW))
def test_identity_unseal_with_key(data):
    _only_our_errors(lambda d: identity.AuditorIdentity.unseal_with_key(d, _SEALED_KEY), data)


def _read_bundle(data):
    reader = bundle.BundleReader(io.BytesIO(data), {_SERVER.key_id: _SERVER.signing.verify_key},
                                 "inbox", lambda sender: 1, "dep")
    for member in reader.members():
        member.drain()


@FUZZ
@given(mutations(_BUNDLE))
def test_bundle(data):
    _only_our_errors(_read_bundle, data)


@FUZZ
@given(st.one_of(st.binary(max_size=200), mutations(_CARD)))
def test_canonical_json(data):
    _only_our_errors(parse_canonical_json, data)


class _Watched(io.BytesIO):
    """Records the largest single read request: the parsers must bound every length field
    before they read (and so allocate) what it says."""

    largest = 0

    def read(self, n=-1):
        assert n is not None and n >= 0, "a parser read to the end of untrusted input"
        self.largest = max(self.largest, n)
        return super().read(n)


@FUZZ
@given(mutations(_ENVELOPE))
def test_envelope_reads_are_bounded(data):
    src = _Watched(data)
    _only_our_errors(lambda d: envelope.open_stream(src, io.BytesIO(), [_AUDITOR.box]), data)
    assert src.largest <= envelope.CHUNK_CIPHERTEXT + 1


@FUZZ
@given(mutations(_BUNDLE))
def test_bundle_reads_are_bounded(data):
    src = _Watched(data)

    def read(_):
        reader = bundle.BundleReader(src, {_SERVER.key_id: _SERVER.signing.verify_key},
                                     "inbox", lambda sender: 1, "dep")
        for member in reader.members():
            member.drain()

    _only_our_errors(read, data)
    assert src.largest <= bundle.COPY_BLOCK


def test_recipient_count_bounds():
    for n in (0, 257, 0xFFFF):
        head = b"PELUIT-E\x01\x00" + n.to_bytes(2, "big") + bytes(100)
        with pytest.raises(MalformedError):
            envelope.open_bytes(head, [_AUDITOR.box])
    with pytest.raises(TruncatedError):
        envelope.open_bytes(b"PELUIT-E\x01\x00\x01\x00" + bytes(100), [_AUDITOR.box])


def test_claimed_manifest_length_is_not_allocated_up_front():
    src = _Watched(bundle.MAGIC + b"\x01\0\0\0" + (32 * 1024 * 1024).to_bytes(4, "big") + b"{}")
    with pytest.raises(TruncatedError):
        bundle.BundleReader(src, {}, "inbox", lambda sender: None, "dep")
    assert src.largest <= bundle.COPY_BLOCK


def test_document_size_limits():
    with pytest.raises(MalformedError):
        identity.Card.from_bytes(b'"' + b"a" * (identity.MAX_CARD_BYTES + 1) + b'"')
    with pytest.raises(MalformedError):
        sealed.open_with_key(b" " * (sealed.MAX_SEALED_BYTES + 1), _SEALED_KEY, "vault")
