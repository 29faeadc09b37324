"""Gateway passphrases: generated, never chosen.

People pick weak passwords and reuse them; a generated seven-word diceware passphrase from the
codename word lists has about 90 bits, and the gateway stores only an argon2id hash of it
(argon2-cffi's PHC string, which carries its own salt and cost so the cost can be raised later
without locking anyone out)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crypto import codename

# SecureDrop hashes journalist passwords with argon2id m=64 MiB, t=4, p=2; we match it.
DEFAULT_COST = {"time_cost": 4, "memory_cost": 64 * 1024, "parallelism": 2}
#: Cheap parameters for tests only.
TEST_COST = {"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1}
MAX_TYPED = 256


def generate(language: str = "id") -> str:
    """Seven words drawn with ``secrets`` from the 7,776-word list of ``language`` (English when
    that list is not installed in this tree)."""
    try:
        return str(codename.generate(language))
    except FileNotFoundError:
        return str(codename.generate("en"))


def normalise(typed: str) -> str | None:
    """What a person typed, as the canonical passphrase (case, spacing and run-together words
    forgiven, as for codenames); None when it cannot be one."""
    try:
        return str(codename.normalise(typed))
    except (codename.InvalidCodenameError, TypeError):
        return None


@functools.cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


class PassphraseHasher:
    """argon2id hashing with a fixed cost; ``verify`` never raises on bad input."""

    def __init__(self, cost: dict[str, int] | None = None):
        self._ph = _hasher(**(cost or DEFAULT_COST))
        # Verifying against this when the user name is unknown costs the same time as a real
        # verification, so the response time does not say which names exist.
        self._dummy = self._ph.hash("peluit-gateway-no-such-user")

    def hash(self, passphrase: str) -> str:
        return self._ph.hash(passphrase)

    def verify(self, stored: str | None, typed: str) -> bool:
        """True only for a known account and the right passphrase. An unknown account or
        something that cannot be a passphrase still costs one argon2 verification."""
        canonical = normalise(typed) if isinstance(typed, str) and len(typed) <= MAX_TYPED else None
        try:
            ok = self._ph.verify(stored or self._dummy, canonical or "-")
        except (VerificationError, InvalidHashError):
            ok = False
        return ok and stored is not None and canonical is not None

    def needs_rehash(self, stored: str) -> bool:
        return self._ph.check_needs_rehash(stored)
