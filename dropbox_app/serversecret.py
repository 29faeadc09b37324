"""The server's local secret: 32 random bytes in ``secrets/server.secret`` (mode 0600), beside
the server signing key, never in the database.

Two things hang on it, each under its own derived key:

* the login throttle's row keys (dropbox_app/throttle.py): a keyed BLAKE2b of the window and the
  attempted lookup id, so the throttle table shows neither hours nor ids;
* the gateway accounts' TOTP seeds (dropbox_app/gateway/totpseal.py), sealed with
  XChaCha20-Poly1305: a copy of the database, or a backup without its sealed secrets, mints no
  second-factor code.

``peluit backup`` carries it inside the passphrase-sealed secrets, like the server key."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

SECRET_BYTES = 32
FILE_NAME = "server.secret"


class ServerSecretError(Exception):
    pass


def path_for(config) -> Path:
    return Path(config.server_key_file).parent / FILE_NAME


def ensure(path: Path) -> bytes:
    """Read the secret, creating it (0600, written atomically) if the deployment has none yet
    (a deployment made before it existed gets one the first time an app or command needs it)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _create(path)
        data = path.read_bytes()
    except OSError as exc:
        raise ServerSecretError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) != SECRET_BYTES:
        raise ServerSecretError(f"{path} is not a server secret ({SECRET_BYTES} bytes)")
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)
    return data


def _create(path: Path) -> None:
    """Write a fresh secret under a temporary name, fsync it, and link it into place: the link
    fails if another process was first, and then that process's secret is the one kept (two
    app servers starting together must not each keep a different one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_bytes(SECRET_BYTES))
        os.fsync(fd)
        os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def load(config) -> bytes:
    return ensure(path_for(config))


def subkey(secret: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose (``purpose`` at most 16 bytes), independent of the others."""
    return hashlib.blake2b(b"", key=secret, digest_size=32, person=purpose).digest()
