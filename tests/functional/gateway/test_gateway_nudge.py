"""The content-free nudge (dropbox_app/nudge.py): off by default; when on, the same message at
the same time every day, whether or not anything arrived, to a real SMTP server (aiosmtpd on
loopback); the gateway's home page says what waits and whether the nudge is on."""

import datetime as dt
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from dropbox_app import nudge
from dropbox_app.config import ConfigError
from peluit.ground.clock import Clock, FixedClock
from peluit.ground.services import service
from tests.fixtures.gateway import add_submission, create_account, login, make_deployment


class _Inbox:
    """An aiosmtpd handler that keeps every message and the name the client gave in EHLO."""

    def __init__(self):
        self.messages, self.ehlo = [], []
        self.got = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        self.ehlo.append(session.host_name)
        self.got.set()
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    yield inbox, port
    ctl.stop()


def _table(port, **extra):
    t = {"enabled": True, "at": "07:30", "to": ["tim@audit.example"],
         "from": "peluit@audit.example", "relay": f"127.0.0.1:{port}", "socks": "",
         "starttls": False}
    t.update(extra)
    return {"nudge": t}


def test_off_by_default_and_bad_tables_are_refused(tmp_path):
    assert nudge.parse({}, tmp_path) is None
    assert nudge.parse({"nudge": {"enabled": False, "to": "x"}}, tmp_path) is None
    cfg = nudge.parse(_table(25, socks="127.0.0.1:9050", relay="relayabc.onion:25"), tmp_path)
    assert cfg.socks == ("127.0.0.1", 9050) and cfg.relay == ("relayabc.onion", 25)
    assert cfg.at == dt.time(7, 30)
    with pytest.raises(ConfigError, match="only for a relay on loopback"):
        nudge.parse(_table(25, relay="mail.example.org:25"), tmp_path)  # no Tor: refused
    with pytest.raises(ConfigError):
        nudge.parse(_table(25, socks="203.0.113.5:9050"), tmp_path)  # SOCKS on loopback only
    for bad in ({"at": "8 pagi"}, {"to": []}, {"from": "nobody"}, {"relay": "mail"}):
        with pytest.raises(ConfigError):
            nudge.parse(_table(25, **bad), tmp_path)


def test_the_same_message_whether_or_not_anything_arrived(tmp_path, smtp):
    inbox, port = smtp
    cfg = nudge.parse(_table(port), tmp_path)
    zone = Clock("Asia/Jakarta").zone
    dep = make_deployment(tmp_path)
    nudge.send(cfg, dt.date(2026, 12, 1), zone)  # nothing on the server
    add_submission(dep, b"laporan")
    nudge.send(cfg, dt.date(2026, 12, 2), zone)  # something waits
    assert len(inbox.messages) == 2
    (f1, to1, raw1), (f2, to2, raw2) = inbox.messages
    assert (f1, to1) == (f2, to2) == ("peluit@audit.example", ["tim@audit.example"])
    m1, m2 = (email.message_from_bytes(r, policy=email.policy.default) for r in (raw1, raw2))
    assert m1.get_content().replace("\r\n", "\n") == m2.get_content().replace("\r\n", "\n") \
        == nudge.BODY
    assert m1["Subject"] == m2["Subject"] == "Peluit"
    # Dated at the fixed time of its day, not when it left; nothing else differs in size.
    assert m1["Date"] == "Tue, 01 Dec 2026 07:30:00 +0700"
    assert len(raw1) == len(raw2)
    # The EHLO name is a constant, never this machine's name.
    assert inbox.ehlo == ["localhost", "localhost"] and socket.gethostname() not in raw1.decode()
    dep.engine.dispose()


def test_the_nudger_fires_at_the_fixed_time_of_the_zone(tmp_path, smtp):
    inbox, port = smtp
    clock = FixedClock(dt.datetime(2026, 12, 1, 0, 29, 59, 900000, tzinfo=dt.UTC))  # 07:29 WIB
    n = nudge.Nudger(nudge.parse(_table(port), tmp_path), clock)
    now = clock.local()
    assert n.next_time(now) == dt.datetime(2026, 12, 1, 7, 30, tzinfo=now.tzinfo)
    clock.advance(seconds=1)
    assert n.next_time(clock.local()).date() == dt.date(2026, 12, 2)  # today's has passed
    assert n.send_day(dt.date(2026, 12, 1)) and n.last_ok and len(inbox.messages) == 1


def test_a_failing_relay_is_given_up_for_the_day(tmp_path, monkeypatch):
    monkeypatch.setattr(nudge, "RETRY_SECONDS", 0)
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    n = nudge.Nudger(nudge.parse(_table(port), tmp_path), Clock())
    assert n.send_day(dt.date(2026, 12, 1)) is False and n.last_ok is False


def test_the_home_page_says_what_waits_and_whether_the_nudge_is_on(deployment, tmp_path):
    dep = deployment
    login(dep, create_account(dep, "dewi", "auditor"))
    home = dep.app.get("/", {"lang": "en"})
    assert "Nothing waits to be fetched." in home.html.find(id="nudge-waiting").text
    assert home.html.find(id="nudge").text.strip().startswith("Off.")
    add_submission(dep, b"satu")
    home = dep.app.get("/", {"lang": "id"})
    assert "Ada yang menunggu diambil" in home.html.find(id="nudge-waiting").text
    from dropbox_app.gateway import make_gateway_app

    on = dep.cfg.with_(raw={**dep.cfg.raw, **_table(25)})
    app = make_gateway_app(on, engine=dep.engine, clock=dep.clock, hasher=dep.hasher)
    state = service(app, nudge.NudgeState)
    assert state.config.at == dt.time(7, 30) and state.zone == "Asia/Jakarta"
    assert state.sender is None  # the sender runs only in the serving process
