"""Gateway accounts: creation with a generated passphrase and TOTP secret, login with a delay
after failures (policy.delay_seconds: never a lock the real user cannot pass),
re-authentication, and the admin's management of accounts.

Every failure (unknown name, wrong passphrase, wrong code, delayed or disabled account) gives
the caller the same answer, so the login form tells an attacker nothing about which part was
wrong; the reason is returned separately for tests and for the admin's CLI. One exception: a
correct passphrase with a code that was already used gets its own answer ("code_reused"), so
the user knows to wait for the next code; it is not counted as a failure. It says nothing to
someone without the passphrase."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from peluit.ground.errors import UserError
from peluit.ground.i18n import N_

from ..models.base import new_id
from ..models.gateway import ROLES, GatewayUser
from . import adminlog, policy, totp, totpseal
from .passphrase import PassphraseHasher, generate, normalise

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


class AccountError(UserError, ValueError):
    """An admin asked for something impossible. The message is a msgid of the gateway
    catalog (shown translated on pages, as is by the CLI)."""


BAD_NAME = N_("User names are 2 to 32 characters: a-z, 0-9, dot, dash and underscore.")
BAD_ROLE = N_("The role must be admin or auditor.")
TAKEN = N_("This user name is already taken.")
NO_USER = N_("There is no such user.")
OWN_ACCOUNT = N_("Use another admin account to disable or reset your own.")


@dataclass(frozen=True)
class NewAccount:
    """What a new user is given once, out of band; the server keeps only hashes and the secret."""

    username: str
    role: str
    passphrase: str
    totp_secret: str
    totp_uri: str


@dataclass(frozen=True)
class LoginResult:
    user: GatewayUser | None
    reason: str  # "ok", "unknown", "disabled", "delayed", "passphrase", "code", "code_reused"

    @property
    def ok(self) -> bool:
        return self.user is not None and self.reason == "ok"


def check_username(name: str) -> str:
    name = (name or "").strip().lower()
    if not _USERNAME.match(name):
        raise AccountError(BAD_NAME)
    return name


def create(db: Session, hasher: PassphraseHasher, username: str, role: str, day: str,
           language: str = "id", *, actor: str, totp_key: bytes) -> NewAccount:
    """A new account. Its TOTP seed is stored sealed under ``totp_key`` (totpseal.py); the
    clear seed is in the returned NewAccount only, to be handed over once."""
    username = check_username(username)
    if role not in ROLES:
        raise AccountError(BAD_ROLE)
    if db.scalar(select(GatewayUser.id).where(GatewayUser.username == username)):
        raise AccountError(TAKEN)
    phrase = generate(language)
    secret = totp.new_secret()
    user_id = new_id()
    db.add(GatewayUser(id=user_id, username=username, role=role,
                       passphrase_hash=hasher.hash(phrase),
                       totp_secret=totpseal.seal(secret, user_id, totp_key), totp_last_step=None,
                       failures=0, locked_until=0, active=True, created_day=day))
    db.flush()
    adminlog.record(db, day, actor, "account.create", {"user": username, "role": role})
    return NewAccount(username, role, phrase, secret, totp.provisioning_uri(secret, username))


def find(db: Session, username: str) -> GatewayUser | None:
    name = (username or "").strip().lower()
    if not _USERNAME.match(name):
        return None
    return db.scalar(select(GatewayUser).where(GatewayUser.username == name))


def _fail(db: Session, user: GatewayUser, now: float, reason: str) -> LoginResult:
    # Counted in one statement: parallel guesses cannot overwrite each other's count.
    failures = db.execute(update(GatewayUser).where(GatewayUser.id == user.id)
                          .values(failures=GatewayUser.failures + 1)
                          .returning(GatewayUser.failures)
                          .execution_options(synchronize_session=False)).scalar_one()
    user.failures = failures
    delay = policy.delay_seconds(failures)
    if delay:
        # ``locked_until``: until then, a sign-in without a fresh code is refused unchecked.
        user.locked_until = int(now) + delay
        # Someone may be guessing an auditor's passphrase: the team should hear of it.
        day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        adminlog.record(db, day, adminlog.GATEWAY, "account.delay",
                        {"user": user.username, "failures": failures, "seconds": delay})
    return LoginResult(None, reason)


def _spend_step(db: Session, user: GatewayUser, step: int) -> bool:
    """Record ``step`` as used, in one conditional statement: of two requests racing with the
    same code, only one finds the step still unused."""
    result = db.execute(update(GatewayUser).where(
        GatewayUser.id == user.id,
        or_(GatewayUser.totp_last_step.is_(None), GatewayUser.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    return result.rowcount == 1


def check_credentials(db: Session, hasher: PassphraseHasher, username: str, typed_passphrase: str,
                      code: str, now: float, *, totp_key: bytes) -> LoginResult:
    """Verify passphrase and TOTP code for a login or a re-authentication. Consumes the code's
    time step on success; counts a failure otherwise."""
    user = find(db, username)
    if user is None:
        hasher.verify(None, typed_passphrase)  # same cost as a real attempt
        return LoginResult(None, "unknown")
    if not user.active:
        hasher.verify(None, typed_passphrase)
        return LoginResult(None, "disabled")
    try:
        seed = totpseal.unseal(user.totp_secret, user.id, totp_key)
    except totpseal.SealedSeedError:
        seed = None  # fails closed: no code is right for a seed this server cannot open
    # cheap (HMAC), before the passphrase
    step = totp.step_of(seed, code, now) if seed is not None else None
    fresh = step is not None and (user.totp_last_step is None or step > user.totp_last_step)
    if not fresh and user.locked_until > now:
        # Delayed, and no fresh code: refused at the same cost, neither checked nor counted.
        hasher.verify(None, typed_passphrase)
        return LoginResult(None, "delayed")
    if not hasher.verify(user.passphrase_hash, typed_passphrase):
        return _fail(db, user, now, "passphrase")
    if step is None:
        return _fail(db, user, now, "code")
    if not fresh or not _spend_step(db, user, step):
        # The right passphrase with a code already used (here, or by a sign-in racing this
        # one): the user waits for the next code. Not a failure: nobody guessed anything.
        return LoginResult(None, "code_reused")
    user.totp_last_step = step
    user.failures = 0
    user.locked_until = 0
    if hasher.needs_rehash(user.passphrase_hash):
        user.passphrase_hash = hasher.hash(normalise(typed_passphrase) or typed_passphrase)
    return LoginResult(user, "ok")


def set_active(db: Session, username: str, active: bool, *, actor: str,
               day: str) -> GatewayUser:
    user = find(db, username)
    if user is None:
        raise AccountError(NO_USER)
    user.active = active
    if active:
        user.failures = 0
        user.locked_until = 0
    adminlog.record(db, day, actor, "account.enable" if active else "account.disable",
                    {"user": user.username})
    return user


def unlock(db: Session, username: str, *, actor: str, day: str) -> GatewayUser:
    user = find(db, username)
    if user is None:
        raise AccountError(NO_USER)
    user.failures = 0
    user.locked_until = 0
    adminlog.record(db, day, actor, "account.unlock", {"user": user.username})
    return user


def reset_credentials(db: Session, hasher: PassphraseHasher, username: str,
                      language: str = "id", *, actor: str, day: str,
                      totp_key: bytes) -> NewAccount:
    """A new passphrase and TOTP secret (a lost phone, a forgotten passphrase)."""
    user = find(db, username)
    if user is None:
        raise AccountError(NO_USER)
    adminlog.record(db, day, actor, "account.reset", {"user": user.username})
    phrase = generate(language)
    secret = totp.new_secret()
    user.passphrase_hash = hasher.hash(phrase)
    user.totp_secret = totpseal.seal(secret, user.id, totp_key)
    user.totp_last_step = None
    user.failures = 0
    user.locked_until = 0
    return NewAccount(user.username, user.role, phrase, secret,
                      totp.provisioning_uri(secret, user.username))


def all_users(db: Session) -> list[GatewayUser]:
    return list(db.scalars(select(GatewayUser).order_by(GatewayUser.username)))
