"""The nudge reaches the deployment's mail relay through Tor's SOCKS port: a real SMTP server
(aiosmtpd) behind an onion address of the private Tor network, reached by a real tor client."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from aiosmtpd.controller import Controller

from dropbox_app import nudge
from peluit.ground.clock import Clock

pytestmark = [pytest.mark.tor, pytest.mark.slow]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((session.peer[0], envelope.content))
        return "250 OK"


def test_the_nudge_goes_through_tor_to_an_onion_relay(tornet, tmp_path):
    inbox = _Inbox()
    # The reporter onion forwards its virtual port 80 to this loopback port: the relay's place.
    ctl = Controller(inbox, hostname="127.0.0.1", port=tornet.layout.reporter_port)
    ctl.start()
    try:
        cfg = nudge.parse({"nudge": {
            "enabled": True, "to": ["tim@audit.example"], "from": "peluit@audit.example",
            "relay": f"{tornet.reporter.address}:80",
            "socks": f"127.0.0.1:{tornet.anon.socks_port}", "starttls": False}}, tmp_path)
        deadline = time.monotonic() + 120  # tor's circuits to a fresh onion can take a while
        while True:
            try:
                nudge.send(cfg, dt.date(2026, 12, 1), Clock().zone)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)
    finally:
        ctl.stop()
    assert len(inbox.messages) == 1
    peer, raw = inbox.messages[0]
    assert peer == "127.0.0.1"  # tor's onion host, the only way in
    assert b"Check the Peluit gateway" in raw
