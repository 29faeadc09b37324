import datetime as dt
import hashlib
import io
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.signing import SigningKey

from crypto import bundle
from crypto.encoding import canonical_json
from crypto.errors import (
    AuthenticationError,
    CryptoError,
    MalformedError,
    ReplayError,
    TruncatedError,
    UnknownSignerError,
)

DEP = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"
DAY = dt.date(2026, 11, 23)
MEMBERS = {"a.env": b"first member" * 100, "b.env": b"", "c.env": bytes(range(256)) * 5000}


def _member(name, data):
    return bundle.Member(name, len(data), hashlib.sha256(data).hexdigest())


def _make(signer, seq=1, kind="inbox", members=MEMBERS, body=None, deployment=DEP):
    manifest = bundle.make_manifest(kind, deployment, signer, seq,
                                    [_member(n, d) for n, d in members.items()],
                                    body or {"submissions": []}, DAY)
    out = io.BytesIO()
    bundle.write_bundle(out, manifest, signer, lambda name: io.BytesIO(members[name]))
    return out.getvalue()


def _read(blob, trusted, kind="inbox", last=None, deployment=DEP):
    reader = bundle.BundleReader(io.BytesIO(blob), trusted, kind, lambda sender: last,
                                 deployment)
    got = {m.member.name: _drain(m) for m in reader.members()}
    return reader.manifest, got


def _drain(stream):
    parts = []
    while block := stream.read(7000):
        parts.append(block)
    assert stream.verified
    return b"".join(parts)


@pytest.fixture(scope="module")
def trusted(server_key):
    return {server_key.key_id: server_key.signing.verify_key}


@pytest.fixture(scope="module")
def blob(server_key):
    return _make(server_key.signing, seq=5)


def _manifest_span(blob):
    (length,) = struct.unpack(">I", blob[12:16])
    return 16, 16 + length


def test_round_trip(server_key, trusted, blob):
    manifest, got = _read(blob, trusted, last=4)
    assert got == MEMBERS and manifest.seq == 5 and manifest.sender == server_key.key_id
    assert manifest.created == "2026-11-23" and manifest.deployment == DEP
    assert [m.name for m in manifest.members] == list(MEMBERS)


def test_first_bundle_from_a_signer(trusted, blob):
    assert _read(blob, trusted, last=None)[0].seq == 5


@pytest.mark.parametrize("last", [5, 6, 100])
def test_replayed_or_out_of_order_sequence(trusted, blob, last):
    with pytest.raises(ReplayError):
        _read(blob, trusted, last=last)


def test_gaps_are_allowed(trusted, blob):
    assert _read(blob, trusted, last=1)[0].seq == 5


def test_unknown_signer(blob):
    other = SigningKey.generate()
    from crypto.keys import sign_key_id
    with pytest.raises(UnknownSignerError):
        _read(blob, {sign_key_id(other.verify_key): other.verify_key})
    with pytest.raises(UnknownSignerError):
        _read(blob, {})


def test_trusted_map_with_a_wrong_id_is_not_trusted(server_key, blob):
    other = SigningKey.generate()
    with pytest.raises(UnknownSignerError):
        _read(blob, {server_key.key_id: other.verify_key})


def test_bad_signature(trusted, blob):
    _, end = _manifest_span(blob)
    forged = bytearray(blob)
    forged[end + 10] ^= 1
    with pytest.raises(AuthenticationError):
        _read(bytes(forged), trusted)


def test_manifest_signed_by_another_key_claiming_the_sender(server_key, trusted):
    thief = SigningKey.generate()
    manifest = bundle.make_manifest("inbox", DEP, thief, 9, [], {}, DAY)
    forged_manifest = bundle.Manifest(manifest.kind, manifest.deployment, server_key.key_id,
                                      9, manifest.created, (), {})
    raw = forged_manifest.to_bytes()
    blob = (bundle.MAGIC + struct.pack(">B3xI", 1, len(raw)) + raw
            + thief.sign(bundle.DOMAIN + raw).signature)
    with pytest.raises(AuthenticationError):
        _read(blob, trusted)


def test_edited_manifest_fails_signature(trusted, blob):
    start, end = _manifest_span(blob)
    obj = json.loads(blob[start:end])
    obj["seq"] = 6
    raw = canonical_json(obj)
    assert len(raw) == end - start
    with pytest.raises(AuthenticationError):
        _read(blob[:start] + raw + blob[end:], trusted)


def test_changed_member(trusted, blob):
    tampered = bytearray(blob)
    tampered[-100] ^= 1    # inside the last member
    with pytest.raises(AuthenticationError):
        _read(bytes(tampered), trusted)


def test_missing_member(trusted, blob):
    with pytest.raises(TruncatedError):
        _read(blob[:-len(MEMBERS["c.env"])], trusted)
    with pytest.raises(TruncatedError):
        _read(blob[:-1], trusted)


def test_extra_member(trusted, blob):
    with pytest.raises(MalformedError):
        _read(blob + b"another member", trusted)


def test_reordered_members(server_key, trusted):
    blob = _make(server_key.signing, members={"a.env": b"A" * 10, "b.env": b"B" * 10})
    swapped = blob[:-20] + b"B" * 10 + b"A" * 10
    with pytest.raises(AuthenticationError):
        _read(swapped, trusted)


def test_wrong_kind(trusted, blob):
    with pytest.raises(MalformedError):
        _read(blob, trusted, kind="reply")


def test_other_deployment(trusted, blob):
    with pytest.raises(UnknownSignerError):
        _read(blob, trusted, deployment="0" * 32)


def test_reply_bundle_from_an_auditor(ani):
    blob = _make(ani.signing, kind="reply", members={"q.env": b"question"},
                 body={"acks": [], "replies": [], "statuses": []})
    manifest, got = _read(blob, {ani.key_id: ani.signing.verify_key}, kind="reply")
    assert got == {"q.env": b"question"} and manifest.sender == ani.key_id


def test_writer_refuses_a_member_changed_since_the_manifest(server_key):
    manifest = bundle.make_manifest("inbox", DEP, server_key.signing, 1,
                                    [_member("a.env", b"original")], {}, DAY)
    with pytest.raises(AuthenticationError):
        bundle.write_bundle(io.BytesIO(), manifest, server_key.signing,
                            lambda name: io.BytesIO(b"changed!"))
    with pytest.raises(MalformedError):
        bundle.write_bundle(io.BytesIO(), manifest, server_key.signing,
                            lambda name: io.BytesIO(b"short"))
    with pytest.raises(ValueError):
        bundle.write_bundle(io.BytesIO(), manifest, SigningKey.generate(),
                            lambda name: io.BytesIO(b"original"))


@pytest.mark.parametrize(("args", "kwargs"), [
    (("outbox", DEP), {}), (("inbox", DEP), {"seq": 0}), (("inbox", DEP), {"seq": True}),
    (("inbox", DEP), {"seq": 2**53}), (("inbox", ""), {}), (("inbox", "x" * 129), {}),
])
def test_make_manifest_refuses(server_key, args, kwargs):
    with pytest.raises(ValueError):
        bundle.make_manifest(*args, server_key.signing, kwargs.get("seq", 1), [], {}, DAY)


def test_make_manifest_refuses_bad_members(server_key):
    for members in ([_member("../x", b"")], [_member("a", b""), _member("a", b"")],
                    [bundle.Member("a", -1, "0" * 64)], [bundle.Member("a", 1, "X" * 64)]):
        with pytest.raises((ValueError, MalformedError)):
            bundle.make_manifest("inbox", DEP, server_key.signing, 1, members, {}, DAY)


def _with_manifest(server_key, edit):
    manifest = bundle.make_manifest("inbox", DEP, server_key.signing, 1, [], {}, DAY)
    obj = json.loads(manifest.to_bytes())
    edit(obj)
    raw = canonical_json(obj)
    return (bundle.MAGIC + struct.pack(">B3xI", 1, len(raw)) + raw
            + server_key.signing.sign(bundle.DOMAIN + raw).signature)


@pytest.mark.parametrize("edit", [
    lambda o: o.update(format="x"), lambda o: o.update(version=2), lambda o: o.update(extra=1),
    lambda o: o.update(seq=0), lambda o: o.update(seq="1"), lambda o: o.update(created="20261123"),
    lambda o: o.update(deployment=5),
    lambda o: o.update(body=[]), lambda o: o.update(members={}),
    lambda o: o.update(members=[{"name": "a", "size": 0, "sha256": "0" * 64, "x": 1}]),
    lambda o: o.update(members=[{"name": "a", "size": 0}]),
    lambda o: o.update(members=["a"]),
    lambda o: o.update(members=[{"name": "a/b", "size": 0, "sha256": "0" * 64}]),
    lambda o: o.update(members=[{"name": "a", "size": 2**41, "sha256": "0" * 64}]),
    lambda o: o.update(members=[{"name": "a", "size": 0, "sha256": "0" * 64}] * 2),
])
def test_malformed_manifests_signed_by_a_trusted_key(server_key, trusted, edit):
    with pytest.raises(MalformedError):
        _read(_with_manifest(server_key, edit), trusted)


def test_a_manifest_without_a_readable_sender_is_from_no_trusted_key(server_key, trusted):
    # Verify before parse: the key to check is picked by the sender id in the bytes; without
    # one, no trusted key is named, so nothing is verified and nothing parsed.
    with pytest.raises(UnknownSignerError):
        _read(_with_manifest(server_key, lambda o: o.update(sender="abc")), trusted)


@pytest.mark.parametrize("head", [
    b"", b"PELUIT-B", b"PELUIT-X\x01\x00\x00\x00\x00\x00\x00\x02{}",
    b"PELUIT-B\x02\x00\x00\x00\x00\x00\x00\x02{}",
    b"PELUIT-B\x01\x00\x00\x00\xff\xff\xff\xff",      # 4 GiB manifest: refused unread
    b"PELUIT-B\x01\x00\x00\x00\x00\x00\x00\x10{}",    # shorter than declared
])
def test_malformed_headers(trusted, head):
    with pytest.raises(CryptoError):
        _read(head, trusted)


def test_member_for_file(tmp_path):
    p = tmp_path / "x.env"
    p.write_bytes(b"abc")
    assert bundle.member_for_file("x.env", str(p)) == _member("x.env", b"abc")


def test_reserved_header_bytes_must_be_zero(trusted, blob):
    changed = blob[:9] + b"\x00\x01\x00" + blob[12:]
    with pytest.raises(MalformedError):
        _read(changed, trusted)


@settings(deadline=None, max_examples=20)
@given(st.lists(st.sampled_from([0, 1, 1000, bundle.COPY_BLOCK - 1, bundle.COPY_BLOCK,
                                 bundle.COPY_BLOCK + 1]), max_size=4),
       st.integers(1, 2**53 - 1), st.sampled_from([7, 4096, 65536, 10**6]))
def test_round_trip_property(server_key, trusted, sizes, seq, read_size):
    members = {f"m{i}.env": bytes([i]) * size for i, size in enumerate(sizes)}
    blob = _make(server_key.signing, seq=seq, members=members)
    reader = bundle.BundleReader(io.BytesIO(blob), trusted, "inbox", lambda s: seq - 1, DEP)
    got = {}
    for stream in reader.members():
        parts = []
        while block := stream.read(read_size):
            parts.append(block)
        got[stream.member.name] = b"".join(parts)
    assert got == members and reader.manifest.seq == seq


def test_a_trailing_newline_is_not_a_valid_name_hash_or_id(server_key, trusted):
    # Python's "$" also matches before a final newline; the checks must not.
    for edit in (lambda o: o.update(members=[{"name": "a.env\n", "size": 0,
                                              "sha256": hashlib.sha256(b"").hexdigest()}]),
                 lambda o: o.update(members=[{"name": "a.env", "size": 0,
                                              "sha256": hashlib.sha256(b"").hexdigest() + "\n"}]),
                 lambda o: o.update(created="2026-11-23\n")):
        with pytest.raises(MalformedError):
            _read(_with_manifest(server_key, edit), trusted)


@pytest.mark.parametrize("missing", [None, ""])
def test_a_reader_without_a_deployment_id_refuses_instead_of_skipping_the_check(missing):
    # A bundle of another deployment, signed by a trusted key: with no id to compare against,
    # the reader must not fall back to accepting whatever deployment the manifest names.
    signer = SigningKey.generate()
    blob = _make(signer, deployment="another-deployment")
    trusted = {bundle.sign_key_id(signer.verify_key): signer.verify_key}
    with pytest.raises(ValueError, match="id is required"):
        bundle.BundleReader(io.BytesIO(blob), trusted, "inbox", lambda s: None, missing)
    with pytest.raises(TypeError):
        bundle.BundleReader(io.BytesIO(blob), trusted, "inbox", lambda s: None)  # type: ignore[call-arg]
