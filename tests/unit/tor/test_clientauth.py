from __future__ import annotations

import os

import pytest
from nacl.public import PrivateKey

from tor import clientauth


def test_generated_key_is_a_valid_x25519_pair_in_tor_formats():
    key = clientauth.ClientKey.generate("alice")
    assert bytes(PrivateKey(key.private).public_key) == key.public
    assert key.private[0] & 7 == 0 and key.private[31] & 0xC0 == 0x40  # clamped
    line = key.service_line()
    assert line.startswith("descriptor:x25519:") and len(line) == len("descriptor:x25519:") + 52
    assert clientauth.parse_service_line(line) == key.public
    onion = "a" * 56 + ".onion"
    assert key.client_line(onion) == f"{'a' * 56}:descriptor:x25519:{key.tor_browser_key()}"
    assert clientauth.b32decode(key.tor_browser_key()) == key.private
    assert key.tor_browser_key() not in repr(key)


def test_keys_differ():
    assert clientauth.ClientKey.generate("a").private != clientauth.ClientKey.generate("a").private


@pytest.mark.parametrize("name", ["", "Alice", "-x", "a/b", "../x", "a" * 33, "a.auth", "_sealed",
                                  "a b", "ä"])
def test_bad_names_are_refused(name):
    with pytest.raises(clientauth.ClientAuthError):
        clientauth.check_name(name)


def test_add_list_remove(tmp_path):
    key = clientauth.add_client(tmp_path, "alice")
    path = tmp_path / "alice.auth"
    assert path.read_text() == key.service_line() + "\n"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert [c.name for c in clientauth.list_clients(tmp_path)] == ["alice"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    with pytest.raises(clientauth.ClientAuthError, match="already exists"):
        clientauth.add_client(tmp_path, "alice")
    assert path.read_text() == key.service_line() + "\n"  # untouched
    clientauth.remove_client(tmp_path, "alice")
    assert clientauth.list_clients(tmp_path) == []
    with pytest.raises(clientauth.ClientAuthError, match="no client"):
        clientauth.remove_client(tmp_path, "alice")


def test_malformed_auth_file_is_reported(tmp_path):
    (tmp_path / "x.auth").write_text("descriptor:x25519:short\n")
    with pytest.raises(clientauth.ClientAuthError, match="malformed"):
        clientauth.list_clients(tmp_path)


def test_add_client_needs_the_directory(tmp_path):
    with pytest.raises(clientauth.ClientAuthError, match="does not exist"):
        clientauth.add_client(tmp_path / "missing", "alice")
