"""Fixtures of tests/unit/tor/ only."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@pytest.fixture
def key(tmp_path):
    """A frontend's Ed25519 identity key as Onionbalance reads it (PEM, PKCS#8), in
    ``tmp_path/front.key``: the Onionbalance and frontend-watch tests set a frontend up with
    it."""
    path = tmp_path / "front.key"
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return path
