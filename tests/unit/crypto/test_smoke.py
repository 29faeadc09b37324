import os

from crypto import envelope, identity


def test_envelope_round_trip_small():
    auditor = identity.AuditorIdentity.generate("Ani")
    blob = envelope.seal_bytes(b"laporan", [auditor.box.public_key], {"name": "a.txt"})
    meta, plain = envelope.open_bytes(blob, [auditor.box])
    assert plain == b"laporan" and meta["name"] == "a.txt"
    assert b"laporan" not in blob and len(blob) == envelope.padded_size(7, 1)
    assert os.urandom(1)
