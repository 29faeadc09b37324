"""The reporter app's secrets and costs, fixed when the app is built and found by views as a
service (``request.find_service(ReporterSettings)``)."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.kdf import Argon2Params


@dataclass(frozen=True)
class ReporterSettings:
    salt: bytes                      # the deployment's argon2 salt for codenames
    argon2: Argon2Params             # the cost of one derivation
    throttle_key: bytes              # keys the login throttle's per-lookup-id rows
    login_limits: tuple[int, ...] = ()  # (global, per lookup id) per hour; () = the defaults

    def __repr__(self) -> str:  # never print the secrets
        return f"ReporterSettings(argon2={self.argon2!r})"
