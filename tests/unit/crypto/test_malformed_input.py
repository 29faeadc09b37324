"""Fuzz-style: random bytes and mutations of valid documents fed to every parser. Each must
either accept or raise the library's own CryptoError subclass: never another exception, never a
hang, and never an allocation driven by a length field (all reads are bounded before use)."""

import contextlib
import datetime as dt
import hashlib
import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto import bundle, envelope, identity, kdf, sealed
from crypto.encoding import parse_canonical_json
from crypto.errors import CryptoError

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
FUZZ = settings(max_examples=int(os.environ.get("PELUIT_FUZZ_EXAMPLES", "300")), deadline=None,
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
