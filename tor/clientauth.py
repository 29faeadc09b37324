"""Tor v3 onion-service client authorization, one x25519 key pair per auditor.

The gateway onion's descriptor is encrypted to the public keys listed in
``<HiddenServiceDir>/authorized_clients/*.auth``; a client without one of the matching private
keys cannot even learn the introduction points. SecureDrop gives every journalist the same key,
so one leaked key means revoking everybody; here each auditor has a key of their own and a
removal affects that auditor only.

File formats (tor manual, "CLIENT AUTHORIZATION"):
- service side, ``NAME.auth``: ``descriptor:x25519:<base32 public key>``
- client side, ``NAME.auth_private``:
  ``<onion address without .onion>:descriptor:x25519:<base32 private key>``
- Tor Browser asks for the base32 private key alone.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

from nacl.bindings import crypto_scalarmult_base

from peluit.ground.files import PRIVATE, fsync_dir, replacing

# Lower-case so that file names cannot collide on case-insensitive media the auditor may use.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
AUTH_SUFFIX = ".auth"
_KEY_RE = re.compile(r"^descriptor:x25519:([A-Z2-7]{52})$")


class ClientAuthError(ValueError):
    """A bad client name, a duplicate, an unknown client or a malformed key file."""


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def b32decode(text: str) -> bytes:
    text = text.strip().upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


@dataclass(frozen=True)
class ClientKey:
    name: str
    private: bytes
    public: bytes

    @classmethod
    def generate(cls, name: str) -> ClientKey:
        check_name(name)
        sk = bytearray(os.urandom(32))
        # RFC 7748 clamping, as tor does for the keys it generates itself.
        sk[0] &= 248
        sk[31] &= 127
        sk[31] |= 64
        return cls(name, bytes(sk), crypto_scalarmult_base(bytes(sk)))

    def service_line(self) -> str:
        return f"descriptor:x25519:{b32(self.public)}"

    def tor_browser_key(self) -> str:
        return b32(self.private)

    def client_line(self, onion_address: str) -> str:
        bare = onion_address.strip().removesuffix(".onion")
        return f"{bare}:descriptor:x25519:{b32(self.private)}"

    def __repr__(self) -> str:  # never show the private half by accident
        return f"ClientKey({self.name!r}, public={b32(self.public)})"


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ClientAuthError(
            f"invalid client name {name!r}: use 1-32 of a-z, 0-9, '-' and '_', "
            "starting with a letter or digit")
    return name


def parse_service_line(text: str) -> bytes:
    match = _KEY_RE.match(text.strip())
    if not match:
        raise ClientAuthError("not a 'descriptor:x25519:<base32 key>' line")
    return b32decode(match.group(1))


@dataclass(frozen=True)
class AuthorizedClient:
    name: str
    public: bytes

    @property
    def public_b32(self) -> str:
        return b32(self.public)


def list_clients(auth_dir: Path) -> list[AuthorizedClient]:
    """The clients tor would accept, in name order; malformed files are reported, not skipped,
    since tor itself refuses to load a service with a bad .auth file."""
    if not auth_dir.is_dir():
        return []
    clients = []
    for path in sorted(auth_dir.glob("*" + AUTH_SUFFIX)):
        try:
            public = parse_service_line(path.read_text())
        except (ClientAuthError, ValueError, UnicodeDecodeError) as exc:
            raise ClientAuthError(f"{path}: malformed client authorization file") from exc
        clients.append(AuthorizedClient(path.name[: -len(AUTH_SUFFIX)], public))
    return clients


def add_client(auth_dir: Path, name: str) -> ClientKey:
    """Create ``name``'s key pair and install its public half; the private half is returned
    and never stored on the server."""
    check_name(name)
    if not auth_dir.is_dir():
        raise ClientAuthError(f"{auth_dir} does not exist: is the gateway onion service set up?")
    target = auth_dir / f"{name}{AUTH_SUFFIX}"
    if target.exists():
        raise ClientAuthError(f"client {name!r} already exists; remove it first")
    key = ClientKey.generate(name)
    write_atomically(target, (key.service_line() + "\n").encode("ascii"), mode=0o600,
                     owner_like=auth_dir)
    return key


def remove_client(auth_dir: Path, name: str) -> None:
    check_name(name)
    target = auth_dir / f"{name}{AUTH_SUFFIX}"
    try:
        target.unlink()
    except FileNotFoundError:
        raise ClientAuthError(f"no client named {name!r}") from None
    fsync_dir(auth_dir)


def write_atomically(target: Path, data: bytes, mode: int = PRIVATE,
                     owner_like: Path | None = None) -> None:
    """peluit.ground.files' atomic write (the temp name starts with a dot and does not end in
    ``.auth``, so tor never reads it). With ``owner_like``, the file gets that path's owner,
    so that tor (user debian-tor) can read what root wrote."""
    with replacing(target, mode) as tmp:
        tmp.write_bytes(data)
        if owner_like is not None:
            st = owner_like.stat()
            if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
                os.chown(tmp, st.st_uid, st.st_gid)
