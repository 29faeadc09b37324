"""TOTP (RFC 6238) second factor, required for every gateway account.

A code is accepted once: the time step it belongs to is stored per user, and a code from that
step or an earlier one is refused afterwards, so a code read over a shoulder or from a proxy log
cannot be replayed, not even within its 30 seconds. One step either side is accepted for
clock drift."""

from __future__ import annotations

import base64
import hmac
import re
import secrets

import pyotp

STEP = 30
DIGITS = 6
DRIFT_STEPS = 1
ISSUER = "Peluit gateway"
_CODE = re.compile(r"^[0-9]{6}$")


def new_secret() -> str:
    """160 random bits as base32, the size RFC 4226 recommends (pyotp's own generator uses
    ``random``, so we draw the bytes ourselves)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(
        name=account, issuer_name=ISSUER)


def code_at(secret: str, now: float) -> str:
    """The code for ``now`` (tests and the CLI's self-check use it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).generate_otp(int(now // STEP))


def step_of(secret: str, typed: str, now: float) -> int | None:
    """The time step (now, or one either side) whose code ``typed`` is, used or not; or None."""
    code = "".join(str(typed).split())
    if not _CODE.match(code):
        return None
    otp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    current = int(now // STEP)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit) so timing says nothing about which matched.
        if hmac.compare_digest(otp.generate_otp(step), code):
            found = step
    return found


def accept(secret: str, typed: str, now: float, last_step: int | None) -> int | None:
    """The time step ``typed`` is valid for, or None. Steps not newer than ``last_step`` (the
    last one used by this account) are refused: a code works once."""
    found = step_of(secret, typed, now)
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
