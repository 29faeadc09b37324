"""Compose grants: a form outlives the session that served it.

Without JavaScript, typing is idle time: a reporter who takes an hour over a report would, at the
30-minute idle timeout, send it into "your session has ended" and lose it. The idle timeout is
right for what a session unlocks (the replies, sealed to the reporter's key in the session), and
wrong for the text in the browser. So every compose form carries a grant, made by the server
when it serves the form and checked when the form comes back:

    base64url(JSON {"p": purpose, "s": subject, "f": form token, "e": expiry hour}) "." MAC

* ``purpose`` and ``subject`` bind the grant to one form: ``report`` and the reporter's row id
  (a reporter row is made when the codename is issued, holding only the lookup id and the public
  key), or ``message`` and the report's id.
* the form token is the form's one-time token (throttle.spend_token), so a grant sends one form
  once;
* the expiry is an hour number (at least ``COMPOSE_HOURS`` ahead), inside the form only:
  nothing about it is stored.

The MAC is keyed BLAKE2b under a key derived from the deployment's secret salt. A grant carries
no secret: no codename, no key, nothing a finder of the browser could use to read anything. What
it allows is exactly what the form on the screen allows: sending that form, once, within
``COMPOSE_HOURS``. It never opens a session and never shows a reply."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

COMPOSE_HOURS = 24  # far past the 30-minute idle timeout and the 2-hour session lifetime
FIELD = "compose"
PURPOSES = frozenset({"report", "message"})


@dataclass(frozen=True)
class Grant:
    purpose: str
    subject: str
    form_token: str
    expires_hour: int


def grant_key(salt: bytes) -> bytes:
    """The MAC key: a one-way function of the salt, so a grant reveals nothing about it."""
    return hashlib.blake2b(b"compose-grant-v1", key=salt[:64], digest_size=32,
                           person=b"peluit-compose").digest()


def _mac(key: bytes, payload: bytes) -> bytes:
    return hashlib.blake2b(payload, key=key, digest_size=32).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, now_hour: int, purpose: str, subject: str, form_token: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    payload = json.dumps({"p": purpose, "s": subject, "f": form_token,
                          "e": now_hour + COMPOSE_HOURS + 1}, separators=(",", ":"),
                         sort_keys=True).encode("ascii")
    return _b64(payload) + "." + _b64(_mac(key, payload))


def check(key: bytes, now_hour: int, token: str, purpose: str, form_token: str
          ) -> Grant | None:
    """The grant if ``token`` is genuine, for ``purpose``, for this form's token, and not past
    its hour; None otherwise (the caller then treats the form as a session-less request)."""
    if not token or len(token) > 512 or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    try:
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(mac), _mac(key, payload)):
            return None
        d = json.loads(payload)
        grant = Grant(str(d["p"]), str(d["s"]), str(d["f"]), int(d["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    if grant.purpose != purpose or not form_token or grant.form_token != form_token:
        return None
    if now_hour >= grant.expires_hour:
        return None
    return grant
