"""The production torrc template, running for real on the private Tor network."""

from __future__ import annotations

import pytest

from tests.fixtures.tornet import serve_wsgi
from tor import testnet

pytestmark = [pytest.mark.tor, pytest.mark.slow]


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from loopback " + environ["REMOTE_ADDR"].encode()]


def test_reporter_onion_serves_a_loopback_app_through_a_client_socks_port(tornet):
    assert tornet.reporter.address.endswith(".onion")
    assert len(tornet.reporter.address) == 62  # v3: 56 base32 characters + ".onion"
    with serve_wsgi(_hello, tornet.layout.reporter_port):
        resp = tornet.get(tornet.anon, tornet.reporter)
    assert resp.status == 200
    # The app sees tor's loopback connection, never the reporter's address.
    assert resp.body == b"hello from loopback 127.0.0.1"


def test_reporter_onion_is_down_when_the_app_is_down(tornet):
    # Nothing listens on the reporter port now: tor's answer is "connection refused", which
    # shows the fetch above really went through that port and nothing else.
    with pytest.raises(testnet.SocksError) as err:
        tornet.get(tornet.anon, tornet.reporter, retry=5)
    assert err.value.code in (0x05, 0x01, 0x04, 0x06)  # refused / general failure / unreachable


def test_onion_host_has_no_socks_port_and_no_tcp_control_port(tornet):
    ctl = tornet.host.controller()
    assert ctl.get_info("net/listeners/socks") == ""
    control = ctl.get_info("net/listeners/control").split()
    assert control and all(listener.startswith('"unix:') for listener in control)
    assert ctl.get_conf("SafeLogging") == "1"


def test_reporter_descriptor_announces_the_proof_of_work_defence(tornet):
    # The client fetched the reporter descriptor above; decrypt its inner layer (a reporter
    # onion needs no client key) and look for tor's PoW parameters.
    from stem.descriptor.hidden_service import HiddenServiceDescriptorV3

    ctl = tornet.anon.process.controller()
    with serve_wsgi(_hello, tornet.layout.reporter_port):
        tornet.get(tornet.anon, tornet.reporter)
    bare = tornet.reporter.address.removesuffix(".onion")
    raw = ctl.get_info(f"hs/client/desc/id/{bare}")
    inner = HiddenServiceDescriptorV3.from_str(raw).decrypt(tornet.reporter.address)
    assert "pow-params v1" in str(inner)
