"""The content-free nudge: a daily e-mail to the auditors that says "look at the gateway".

Off by default. When on (``[nudge] enabled = true`` in peluit.toml), the gateway process sends
ONE fixed message every day at a fixed time of the deployment's zone, through the deployment's
SMTP relay reached over Tor's SOCKS port. The message, its subject, its size, its Date header
and the time it leaves are the same whether or not anything arrived: it carries no bit about
activity, so neither the relay, the mailbox provider, nor anyone watching the Tor client learns
whether reports came in (docs/gateway.md, "The nudge": the leak analysis). Its only use is a
daily reminder to carry a bundle over; the gateway's home page says what waits, to staff who
have signed in.

The EHLO name is a constant (smtplib would send this machine's host name), the Message-ID is
random, the SMTP conversation goes through Tor to a relay (an onion address is best: then the
relay does not see where it comes from either). A failed send is retried a few times in the
hour after the fixed time, then given up for the day; only the day and the outcome are kept,
in memory, for the home page."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import secrets
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .config import ConfigError, parse_listen

log = logging.getLogger(__name__)

#: The one message. Both languages, no deployment name, no count, no link.
SUBJECT = "Peluit"
BODY = ("Periksa gateway Peluit dan bawa bundel kotak masuk ke meja kerja.\n"
        "Check the Peluit gateway and carry the inbox bundle to the workbench.\n\n"
        "Pesan ini dikirim setiap hari pada jam yang sama, ada atau tidak ada kiriman baru.\n"
        "This message is sent every day at the same time, whether or not anything arrived.\n")
#: What the gateway says in EHLO (never this machine's name).
EHLO_NAME = "localhost"
#: Retries of a failed send, RETRY_SECONDS apart (all within the hour after the fixed time).
RETRIES = 5
RETRY_SECONDS = 600
TIMEOUT = 120.0


@dataclass(frozen=True)
class NudgeConfig:
    at: dt.time
    to: tuple[str, ...]
    sender: str
    relay: tuple[str, int]
    socks: tuple[str, int] | None  # None: straight to a relay on loopback
    starttls: bool = True
    username: str | None = None
    password_file: Path | None = None


def parse(raw: dict[str, Any], base_dir: Path) -> NudgeConfig | None:
    """The ``[nudge]`` table; None when it is absent or ``enabled`` is not true."""
    t = raw.get("nudge") or {}
    if not isinstance(t, dict):
        raise ConfigError("nudge must be a table")
    if t.get("enabled", False) is not True:
        return None
    try:
        at = dt.time.fromisoformat(t.get("at", "08:00"))
    except (TypeError, ValueError):
        raise ConfigError('nudge.at must be a time such as "08:00"') from None
    to = t.get("to")
    if not isinstance(to, list) or not to or not all(isinstance(a, str) and "@" in a
                                                     for a in to):
        raise ConfigError("nudge.to must be a list of e-mail addresses")
    sender = t.get("from")
    if not isinstance(sender, str) or "@" not in sender:
        raise ConfigError("nudge.from must be an e-mail address")
    relay_raw = t.get("relay")
    if not isinstance(relay_raw, str) or ":" not in relay_raw:
        raise ConfigError('nudge.relay must be "host:port" (an onion address is best)')
    host, _, port = relay_raw.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError("nudge.relay's port must be a number")
    relay = (host, int(port))
    socks_raw = t.get("socks", "127.0.0.1:9050")
    if socks_raw == "":
        # Only a relay on this machine (which itself relays over Tor) may go without Tor.
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ConfigError('nudge.socks = "" is only for a relay on loopback: mail to '
                              "anywhere else goes through Tor's SOCKS port")
        socks = None
    else:
        listen = parse_listen(socks_raw, "nudge.socks")  # loopback only
        socks = (listen.host, listen.port)
    pw = t.get("password_file")
    return NudgeConfig(at=at, to=tuple(to), sender=sender, relay=relay, socks=socks,
                       starttls=bool(t.get("starttls", True)),
                       username=t.get("username") or None,
                       password_file=(base_dir / pw).resolve() if pw else None)


def message(cfg: NudgeConfig, day: dt.date, zone: dt.tzinfo) -> EmailMessage:
    """The day's message: the same bytes every day but for the Date (the fixed time of that
    day, not the moment it left) and the random Message-ID."""
    msg = EmailMessage()
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    msg["Subject"] = SUBJECT
    msg["Date"] = email.utils.format_datetime(dt.datetime.combine(day, cfg.at, tzinfo=zone))
    # Random, of one length (make_msgid's varies with the time and process id).
    msg["Message-ID"] = f"<{secrets.token_hex(16)}@peluit.invalid>"
    msg.set_content(BODY)
    return msg


class _SMTP(smtplib.SMTP):
    """smtplib's client, connecting through a SOCKS5 proxy (Tor resolves the name: rdns)."""

    def __init__(self, socks: tuple[str, int] | None) -> None:
        self._socks = socks
        super().__init__(local_hostname=EHLO_NAME, timeout=TIMEOUT)

    def _get_socket(self, host: str, port: int, timeout: float) -> Any:
        if self._socks is None:
            return super()._get_socket(host, port, timeout)
        import socks

        s = socks.socksocket()
        s.set_proxy(socks.SOCKS5, self._socks[0], self._socks[1], rdns=True)
        s.settimeout(timeout)
        s.connect((host, port))
        return s


def send(cfg: NudgeConfig, day: dt.date, zone: dt.tzinfo) -> None:
    """Send the day's message once; raise OSError or smtplib.SMTPException on failure."""
    with _SMTP(cfg.socks) as smtp:
        smtp.connect(*cfg.relay)
        smtp.ehlo()
        if cfg.starttls:
            smtp.starttls()
            smtp.ehlo()
        if cfg.username and cfg.password_file:
            smtp.login(cfg.username, cfg.password_file.read_text(encoding="utf-8").strip())
        smtp.send_message(message(cfg, day, zone))


class Nudger(threading.Thread):
    """Sends the message every day at ``cfg.at`` in the deployment's zone."""

    def __init__(self, cfg: NudgeConfig, clock: Any) -> None:
        super().__init__(name="nudge", daemon=True)
        self.cfg, self.clock = cfg, clock
        self._stop = threading.Event()
        self.last_day: dt.date | None = None
        self.last_ok: bool | None = None

    def next_time(self, now: dt.datetime) -> dt.datetime:
        at = dt.datetime.combine(now.date(), self.cfg.at, tzinfo=now.tzinfo)
        return at if at > now else at + dt.timedelta(days=1)

    def run(self) -> None:
        while not self._stop.is_set():
            now = self.clock.local()
            when = self.next_time(now)
            if self._stop.wait((when - now).total_seconds()):
                return
            self.send_day(when.date())

    def send_day(self, day: dt.date) -> bool:
        zone = self.clock.zone
        for attempt in range(RETRIES + 1):
            try:
                send(self.cfg, day, zone)
                self.last_day, self.last_ok = day, True
                return True
            except (OSError, smtplib.SMTPException) as exc:
                log.warning("nudge: sending failed (%s), attempt %d", type(exc).__name__,
                            attempt + 1)
                if self._stop.wait(RETRY_SECONDS):
                    break
        self.last_day, self.last_ok = day, False
        return False

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class NudgeState:
    """What the gateway's home page shows (a service, ``request.find_service(NudgeState)``):
    the configuration (None: off), the zone of ``at``, and the sender of this process (None
    where it does not run: tests, a process that does not serve)."""
    config: NudgeConfig | None
    zone: str
    sender: Nudger | None = None


def start(cfg: NudgeConfig, clock: Any) -> Nudger:
    nudger = Nudger(cfg, clock)
    nudger.start()
    return nudger
