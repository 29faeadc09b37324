"""Key derivation: argon2id for everything a person types, BLAKE2b to split one secret into many.

Reporter keys (docs/crypto.md §3): argon2id(codename, deployment salt) gives a 32-byte master
secret; BLAKE2b with distinct personalisations splits it into the lookup id the server stores
and the seed of the reporter's X25519 key pair. The server keeps the lookup id and the public key
only. There is no per-reporter salt because the server must find the reporter from the codename
alone; the per-deployment salt stops one precomputed table from serving every Peluit server."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw
from nacl.public import PrivateKey, PublicKey

from .codename import Codename

SALT_BYTES = 16
MIN_TIME_COST = 3
MIN_MEMORY_KIB = 64 * 1024
#: The most a stored parameter set may ask for. Parameters read from a file are checked against
#: these before any memory is allocated: a tampered file must not make us allocate 4 GiB or spin
#: for minutes before its authentication tag can even be checked.
MAX_TIME_COST = 32
MAX_MEMORY_KIB = 1024 * 1024
MAX_PARALLELISM = 16


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost. Defaults: t=3, m=64 MiB, p=1 (about 180 ms on the reference machine)."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1

    def __post_init__(self) -> None:
        for value in (self.time_cost, self.memory_kib, self.parallelism):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError("argon2 parameters are integers")
        if not (1 <= self.time_cost <= MAX_TIME_COST):
            raise ValueError("argon2 time_cost out of range")
        if not (1 <= self.parallelism <= MAX_PARALLELISM):
            raise ValueError("argon2 parallelism out of range")
        if not (8 * self.parallelism <= self.memory_kib <= MAX_MEMORY_KIB):
            raise ValueError("argon2 memory out of range")

    def meets(self, minimum: Argon2Params) -> bool:
        return self.time_cost >= minimum.time_cost and self.memory_kib >= minimum.memory_kib

    def as_dict(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_dict(cls, d: dict[str, int]) -> Argon2Params:
        """Read ``{"t", "m", "p"}`` (as in peluit.toml and sealed files); ValueError if a value is
        missing, not an integer or out of range."""
        if not isinstance(d, dict):
            raise ValueError("argon2 parameters must be a table")
        try:
            return cls(time_cost=d["t"], memory_kib=d["m"], parallelism=d["p"])
        except KeyError as exc:
            raise ValueError(f"argon2 parameter {exc.args[0]!r} missing") from None


DEFAULT_PARAMS = Argon2Params()
#: For tests and benchmarks of other parts only: cheap and clearly not for production.
TEST_PARAMS = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)


def argon2id(secret: bytes, salt: bytes, params: Argon2Params, length: int = 32) -> bytes:
    """Raw argon2id (RFC 9106, version 0x13) with no secret key and no associated data."""
    if len(salt) < SALT_BYTES:
        raise ValueError("argon2 salt must be at least 16 bytes")
    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=length,
        type=Type.ID,
    )


def subkey(master: bytes, purpose: bytes, length: int = 32) -> bytes:
    """Derive an independent key for ``purpose`` (at most 16 bytes) from a 32-byte secret:
    BLAKE2b(message = empty, key = master, personal = purpose padded with zeros to 16 bytes)."""
    if len(purpose) > 16:
        raise ValueError("purpose is at most 16 bytes")
    person = purpose.ljust(16, b"\0")
    return hashlib.blake2b(b"", key=master, person=person, digest_size=length).digest()


@dataclass(frozen=True)
class ReporterKeys:
    """What a codename turns into. Only ``lookup_id`` and ``public_key`` ever reach storage."""

    lookup_id: bytes  # 32 bytes, stored by the server to find the reporter
    private_key: PrivateKey  # X25519, lives in memory (and encrypted in the session) only

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key

    def __repr__(self) -> str:
        return f"ReporterKeys(lookup_id={self.lookup_id.hex()[:8]}…)"


def reporter_keys(codename: Codename, salt: bytes,
                  params: Argon2Params = DEFAULT_PARAMS) -> ReporterKeys:
    if not isinstance(codename, Codename):
        # A raw string would derive keys from unnormalised text: the reporter could never
        # come back with a differently typed but equal codename.
        raise TypeError("reporter_keys takes a Codename: normalise() what was typed first")
    master = argon2id(str(codename).encode("utf-8"), salt, params)
    lookup_id = subkey(master, b"peluit-lookup-v1")
    seed = subkey(master, b"peluit-x25519-v1")
    return ReporterKeys(lookup_id=lookup_id, private_key=PrivateKey.from_seed(seed))


def passphrase_key(passphrase: str, salt: bytes, params: Argon2Params = DEFAULT_PARAMS) -> bytes:
    """A 32-byte symmetric key from a passphrase (sealed identities, the vault). The passphrase
    is taken in Unicode NFC first, so the same typed characters give the same key whatever
    form a keyboard or input method produced (as RFC 8265's OpaqueString profile does)."""
    return argon2id(unicodedata.normalize("NFC", passphrase).encode("utf-8"), salt, params)
