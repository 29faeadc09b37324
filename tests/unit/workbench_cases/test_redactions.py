"""The stored redactions of a case: what goes in comes out, and a file that is well sealed but
holds nonsense is refused as damaged (a clear page), never a crash."""

from __future__ import annotations

import io

import pytest
from nacl.public import PrivateKey

from crypto.envelope import EnvelopeWriter
from crypto.errors import AuthenticationError
from workbench.cases import redactions
from workbench.safecopy.redact import Region

SUB = "ab" * 16


def _plant(vault, case_id: int, body: bytes, key: PrivateKey) -> None:
    """What someone who can write the vault folder and knows its public key can leave there."""
    buf = io.BytesIO()
    writer = EnvelopeWriter(buf, [key.public_key], {"v": 1, "kind": "redactions", "case": case_id})
    writer.write(body)
    writer.close()
    (vault / redactions.DIR).mkdir(exist_ok=True)
    (vault / redactions.DIR / f"{case_id}.env").write_bytes(buf.getvalue())


def test_round_trip_and_none_when_nothing_was_redacted(tmp_path):
    key = PrivateKey.generate()
    assert redactions.load(tmp_path, 7, key) == redactions.Redactions()
    red = redactions.Redactions(["Budi Santoso"], {SUB: [Region(1, 10, 20, 30, 40)]})
    redactions.store(tmp_path, 7, red, key)
    assert redactions.load(tmp_path, 7, key) == red
    with pytest.raises(AuthenticationError):  # another case's file does not stand in for it
        (tmp_path / "redactions" / "7.env").rename(tmp_path / "redactions" / "8.env")
        redactions.load(tmp_path, 8, key)


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"text"', b'{"regions": []}', b'{"regions": {"%s": "abc"}}' % SUB.encode(),
    b'{"regions": {"%s": [[1, 2, 3]]}}' % SUB.encode(),
    b'{"regions": {"%s": [["a", 2, 3, 4, 5]]}}' % SUB.encode(),
    b'{"regions": {"%s": [[1, 2, 3, 4, 5, 6]]}}' % SUB.encode(),
    b'{"phrases": "Budi"}', b'{"phrases": [1, 2]}', b'{"phrases": [["x"]]}',
    b"[" * 100_000,
])
def test_a_sealed_file_holding_nonsense_is_refused_as_damaged(tmp_path, body):
    key = PrivateKey.generate()
    _plant(tmp_path, 3, body, key)
    with pytest.raises(AuthenticationError):
        redactions.load(tmp_path, 3, key)
