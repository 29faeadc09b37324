"""The OpenPGP bridge against the real gpg, in throwaway homes only."""

import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from crypto.errors import OpenPGPError
from crypto.openpgp import Keyring

pytestmark = [
    pytest.mark.gpg,
    pytest.mark.skipif(shutil.which("gpg") is None, reason="gpg not installed"),
]


def _gpg(home, *args, data=None):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes", *args],
                          input=data, capture_output=True, check=True).stdout


def _tree(path):
    """Every file under ``path`` with its size and modification time."""
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(Path(path).rglob("*")) if p.is_file()}


def _new_agency(name):
    # Short paths under /tmp: gpg-agent's socket path must stay under the Unix limit.
    home = Path(tempfile.mkdtemp(prefix="pgpa", dir="/tmp"))
    os.chmod(home, 0o700)
    _gpg(home, "--passphrase", "", "--quick-gen-key", f"{name} <{name.lower()}@example.org>",
         "ed25519", "sign", "never")
    fpr = _gpg(home, "--with-colons", "--list-keys").decode().split("fpr:::::::::")[1][:40]
    _gpg(home, "--passphrase", "", "--quick-add-key", fpr, "cv25519", "encr", "never")
    return home, fpr


def _drop(home):
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def agencies():
    kpk, ombudsman = _new_agency("KPK"), _new_agency("Ombudsman")
    yield {"kpk": kpk, "ombudsman": ombudsman}
    _drop(kpk[0])
    _drop(ombudsman[0])


@pytest.fixture
def user_homes(tmp_path, monkeypatch):
    """A fake user with a default keyring and $GNUPGHOME that must never be touched."""
    home = tmp_path / "user"
    (home / ".gnupg").mkdir(parents=True, mode=0o700)
    (home / ".gnupg" / "pubring.kbx").write_bytes(b"user's own keyring")
    env_home = tmp_path / "envhome"
    env_home.mkdir(mode=0o700)
    (env_home / "pubring.kbx").write_bytes(b"another keyring")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GNUPGHOME", str(env_home))
    before = (_tree(home), _tree(env_home))
    yield home, env_home
    assert (_tree(home), _tree(env_home)) == before


def test_import_encrypt_and_agency_decrypts(agencies, user_homes, tmp_path):
    agency_home, fpr = agencies["kpk"]
    public = _gpg(agency_home, "--armor", "--export", fpr)
    ring = Keyring(tmp_path / "ring")
    key = ring.import_key(public)
    assert key.fingerprint == fpr and key.uids == ("KPK <kpk@example.org>",)
    assert key.grouped.replace(" ", "") == fpr and len(key.grouped.split()) == 10
    assert [k.fingerprint for k in ring.list()] == [fpr]
    assert ring.get(key.grouped).fingerprint == fpr
    assert (os.stat(tmp_path / "ring").st_mode & 0o777) == 0o700

    data = os.urandom(300_000) + b"berkas perkara"
    out = tmp_path / "case.gpg"
    ring.encrypt_stream(io.BytesIO(data), out, key.grouped)
    assert out.exists() and data[:64] not in out.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert _gpg(agency_home, "--decrypt", str(out)) == data
    # the other agency cannot read it, and the recipient key id is not on the outside
    other_home, _ = agencies["ombudsman"]
    with pytest.raises(subprocess.CalledProcessError):
        _gpg(other_home, "--decrypt", str(out))
    packets = subprocess.run(["gpg", "--homedir", str(other_home), "--batch", "--list-packets",
                              str(out)], capture_output=True).stdout.decode()
    assert fpr[-16:].lower() not in packets.lower()


def test_refuses_secret_keys(agencies, user_homes, tmp_path):
    agency_home, fpr = agencies["kpk"]
    ring = Keyring(tmp_path / "ring")
    armored = _gpg(agency_home, "--pinentry-mode", "loopback", "--passphrase", "", "--armor",
                   "--export-secret-keys", fpr)
    binary = _gpg(agency_home, "--pinentry-mode", "loopback", "--passphrase", "",
                  "--export-secret-keys", fpr)
    for secret in (armored, binary):
        with pytest.raises(OpenPGPError, match="private key"):
            ring.import_key(secret)
    assert ring.list() == []


def test_refuses_several_keys_and_junk(agencies, user_homes, tmp_path):
    ring = Keyring(tmp_path / "ring")
    both = b"".join(_gpg(h, "--export", f) for h, f in agencies.values())
    with pytest.raises(OpenPGPError):
        ring.import_key(both)
    armor = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n"
    for junk in (b"", b"not a key", armor, os.urandom(500)):
        with pytest.raises(OpenPGPError):
            ring.import_key(junk)
    with pytest.raises(OpenPGPError):
        ring.import_key(b"x" * (1024 * 1024 + 1))
    assert ring.list() == []


def test_refuses_a_key_that_cannot_encrypt(tmp_path, user_homes):
    home = Path(tempfile.mkdtemp(prefix="pgps", dir="/tmp"))
    try:
        os.chmod(home, 0o700)
        _gpg(home, "--passphrase", "", "--quick-gen-key", "Sign Only <s@example.org>",
             "ed25519", "sign", "never")
        ring = Keyring(tmp_path / "ring")
        with pytest.raises(OpenPGPError, match="cannot encrypt"):
            ring.import_key(_gpg(home, "--armor", "--export"))
        assert ring.list() == []
    finally:
        _drop(home)


def test_refuses_default_homes(user_homes):
    home, env_home = user_homes
    for path in (home / ".gnupg", env_home):
        with pytest.raises(OpenPGPError):
            Keyring(path)


def test_bad_fingerprints(tmp_path, user_homes):
    ring = Keyring(tmp_path / "ring")
    for bad in ("", "xyz", "A" * 39):
        with pytest.raises(OpenPGPError):
            ring.get(bad)
    with pytest.raises(OpenPGPError):
        ring.get("A" * 40)
    with pytest.raises(OpenPGPError):
        ring.encrypt_stream(io.BytesIO(b"x"), tmp_path / "o.gpg", "A" * 40)
    assert not (tmp_path / "o.gpg").exists()
