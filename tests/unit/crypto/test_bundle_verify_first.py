"""Verify before parse (architecture invariant 5): a bundle's manifest comes from an
unauthenticated source (removable media, an upload), and may be up to 32 MiB with a million
member entries. The attacker forges one, naming the pinned server as its sender, and hopes to
make the reader build that structure in memory (or reach a parser bug) before the signature is
checked. The reader must refuse it without ever handing those bytes to the JSON parser."""

import io
import json
import struct
import tracemalloc

import pytest
from nacl.signing import SigningKey

from crypto import bundle
from crypto.encoding import canonical_json
from crypto.errors import AuthenticationError, UnknownSignerError

DEP = "9f0c1e2d3c4b5a69788796a5b4c3d2e1"


def _forged(raw: bytes, signer: SigningKey) -> bytes:
    return (bundle.MAGIC + struct.pack(">B3xI", bundle.VERSION, len(raw)) + raw
            + signer.sign(bundle.DOMAIN + raw).signature)


def _huge_manifest(sender: str, entries: int) -> bytes:
    members = [{"name": f"{i:032x}.env", "sha256": "0" * 64, "size": 1} for i in range(entries)]
    return canonical_json({
        "body": {"submissions": []}, "created": "2026-11-23", "deployment": DEP,
        "format": "peluit-bundle", "kind": "inbox", "members": members, "seq": 99,
        "sender": sender, "version": 1})


@pytest.fixture
def json_calls(monkeypatch):
    """Every JSON parse in the process, with the size of what it was given."""
    calls: list[int] = []
    real = json.loads

    def counting(text, *args, **kwargs):
        calls.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    return calls


def test_a_huge_forged_manifest_is_refused_before_any_parse(server_key, json_calls):
    trusted = {server_key.key_id: server_key.signing.verify_key}
    raw = _huge_manifest(server_key.key_id, 150_000)
    assert len(raw) > 16 * 1024 * 1024 // 2  # megabytes of entries
    blob = _forged(raw, SigningKey.generate())  # signed, but not by the pinned server
    tracemalloc.start()
    try:
        with pytest.raises(AuthenticationError):
            bundle.BundleReader(io.BytesIO(blob), trusted, "inbox", lambda s: None, DEP)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert json_calls == [], "unverified manifest bytes reached the JSON parser"
    # Parsing would build 150,000 dicts (several times the bytes); reading and verifying holds
    # the bytes (plus the signed copy) only.
    assert peak < 4 * len(raw), f"peak {peak} for a {len(raw)}-byte manifest"


@pytest.mark.parametrize("raw", [
    b"[" * 200_000,                                                  # nesting for a recursion
    b'{"members":[' + b'{"name":"a",' * 50_000 + b',"sender":"' + b"0" * 32 + b'","version":1}',
    b"\xff\xfe not json at all",
    b'{"a":1,"a":2}' * 1000,                                         # duplicate keys
])
def test_a_malformed_forged_manifest_is_refused_before_any_parse(server_key, json_calls, raw):
    trusted = {server_key.key_id: server_key.signing.verify_key}
    with pytest.raises(AuthenticationError):
        bundle.BundleReader(io.BytesIO(_forged(raw, SigningKey.generate())), trusted, "inbox",
                            lambda s: None, DEP)
    assert json_calls == []


def test_a_forgery_naming_the_pinned_key_says_the_signature_is_wrong(server_key, json_calls):
    trusted = {server_key.key_id: server_key.signing.verify_key}
    raw = _huge_manifest(server_key.key_id, 10)
    with pytest.raises(AuthenticationError) as err:
        bundle.BundleReader(io.BytesIO(_forged(raw, SigningKey.generate())), trusted, "inbox",
                            lambda s: None, DEP)
    assert not isinstance(err.value, UnknownSignerError)
    assert json_calls == []


def test_a_genuine_bundle_is_parsed_once_after_the_check(server_key, json_calls):
    trusted = {server_key.key_id: server_key.signing.verify_key}
    other = SigningKey.generate()
    from crypto.keys import sign_key_id
    # Several trusted keys, the right one not first: the sender found in the bytes picks it.
    many = {sign_key_id(other.verify_key): other.verify_key, **trusted}
    manifest = bundle.make_manifest("inbox", DEP, server_key.signing, 3, [], {"submissions": []})
    blob = b"".join(bundle.iter_bundle(manifest, server_key.signing, lambda name: io.BytesIO()))
    reader = bundle.BundleReader(io.BytesIO(blob), many, "inbox", lambda s: None, DEP)
    assert reader.manifest.seq == 3 and len(json_calls) == 1


def test_a_manifest_signed_by_one_trusted_key_naming_another_is_refused(server_key, ani):
    trusted = {server_key.key_id: server_key.signing.verify_key,
               ani.key_id: ani.signing.verify_key}
    manifest = bundle.make_manifest("inbox", DEP, server_key.signing, 3, [], {})
    raw = bundle.Manifest(manifest.kind, DEP, server_key.key_id, 3, manifest.created, (),
                          {}).to_bytes()
    # Ani (trusted for replies, say) signs a manifest that claims to come from the server.
    with pytest.raises(AuthenticationError):
        bundle.BundleReader(io.BytesIO(_forged(raw, ani.signing)), trusted, "inbox",
                            lambda s: None, DEP)
