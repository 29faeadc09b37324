"""The gateway onion with one client key per auditor, driven by `peluit tor ...` for real.

The tests run in file order on the one session network and build on each other: the gateway
starts with only the sealed client, an auditor is added, a wrong key is tried, the auditor is
removed."""

from __future__ import annotations

import base64
import time

import pytest

from tests.fixtures.tornet import serve_wsgi
from tor import clientauth, testnet

pytestmark = [pytest.mark.tor, pytest.mark.slow]


def _gateway(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"gateway"]


@pytest.fixture
def gateway_up(tornet):
    with serve_wsgi(_gateway, tornet.layout.gateway_port):
        yield


def _code(tornet, client) -> int:
    with pytest.raises(testnet.SocksError) as err:
        tornet.get(client, tornet.gateway, retry=20)
    return err.value.code


def test_gateway_refuses_a_client_without_a_key_even_with_no_auditor_enrolled(tornet, gateway_up):
    # Only the sealed client is authorized: the descriptor is encrypted, tor says so.
    assert "gateway clients: 0" in tornet.peluit("tor", "status", "--config",
                                                 str(tornet.config)).stdout
    assert _code(tornet, tornet.anon) == testnet.ONION_MISSING_CLIENT_AUTH


def test_add_client_then_the_auditor_reaches_the_gateway(tornet, gateway_up):
    out = tornet.auditor.auth_dir / "alice.auth_private"
    tornet.peluit("tor", "add-client", "alice", "--config", str(tornet.config), "--out", str(out))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    tornet.reload_host()
    tornet.auditor.reload()
    # What tor loaded from the file is the private key add-client generated.
    private = clientauth.b32decode(out.read_text().strip().rsplit(":", 1)[1])
    assert tornet.auditor.client_auth_keys(tornet.gateway.address) == [
        base64.b64encode(private).decode()]
    resp = tornet.get(tornet.auditor, tornet.gateway)
    assert (resp.status, resp.body) == (200, b"gateway")
    status = tornet.peluit("tor", "status", "--config", str(tornet.config)).stdout
    assert tornet.gateway.address in status and "alice" in status


def test_a_key_that_was_never_added_is_refused(tornet, gateway_up):
    mallory = clientauth.ClientKey.generate("mallory")
    (tornet.anon.auth_dir / "mallory.auth_private").write_text(
        mallory.client_line(tornet.gateway.address) + "\n")
    tornet.anon.reload()
    assert len(tornet.anon.client_auth_keys(tornet.gateway.address)) == 1
    tornet.anon.forget_onion_descriptors()
    assert _code(tornet, tornet.anon) == testnet.ONION_WRONG_CLIENT_AUTH


def test_printed_tor_browser_key_is_the_private_half_of_the_installed_key(tornet):
    result = tornet.peluit("tor", "add-client", "bob", "--config", str(tornet.config))
    line = next(x for x in result.stdout.splitlines() if "Tor Browser key:" in x)
    private = clientauth.b32decode(line.split(":", 1)[1].strip())
    from nacl.bindings import crypto_scalarmult_base

    installed = {c.name: c.public for c in clientauth.list_clients(tornet.layout.auth_dir)}
    assert installed["bob"] == crypto_scalarmult_base(private)
    tornet.peluit("tor", "remove-client", "bob", "--config", str(tornet.config))


def test_removed_client_keeps_a_cached_descriptor_after_reload_but_not_after_restart(
        tornet, gateway_up):
    tornet.peluit("tor", "remove-client", "alice", "--config", str(tornet.config))
    tornet.reload_host()
    # Known tor behaviour, and why remove-client tells the admin to restart tor: a reload
    # publishes a descriptor without alice's key, but alice's client still holds the old one
    # (and its circuits), so it still gets through.
    assert tornet.get(tornet.auditor, tornet.gateway).status == 200
    # A restart closes the circuits and rotates the introduction points...
    tornet.restart_host()
    # ...and alice, even before her client forgets the old descriptor, is not served: her tor
    # tries the dead introduction points (an error, or no answer until it gives up; bounded
    # here), then fetches the new descriptor, which she cannot decrypt.
    with pytest.raises((testnet.SocksError, TimeoutError)):
        testnet.http_get_via_socks(tornet.auditor.socks_port, tornet.gateway.address,
                                   timeout=20)
    tornet.auditor.forget_onion_descriptors()
    assert _code(tornet, tornet.auditor) == testnet.ONION_WRONG_CLIENT_AUTH


def test_a_key_added_in_the_second_of_another_reload_still_gets_through(tornet, gateway_up):
    # tor numbers a descriptor by the second it was built in, and an HSDir keeps the first of
    # two with the same number. Here a reload publishes a descriptor for erin and, in the same
    # second, another reload one that also lets carol in: the HSDirs refuse the second one, and
    # the harness has to notice and publish again (tor/testnet.py), or carol is refused for good.
    for old in tornet.auditor.auth_dir.glob("*.auth_private"):
        old.unlink()
    clientauth.add_client(tornet.layout.auth_dir, "erin")
    time.sleep(1.05 - time.time() % 1)  # early in a second, so both builds fall in it
    tornet.host.reload()
    time.sleep(0.3)  # erin's descriptor reaches the HSDirs (0.1-0.3 s here)
    carol = clientauth.add_client(tornet.layout.auth_dir, "carol")
    (tornet.auditor.auth_dir / "carol.auth_private").write_text(
        carol.client_line(tornet.gateway.address) + "\n")
    try:
        tornet.reload_host()
        tornet.auditor.reload()
        tornet.auditor.forget_onion_descriptors()
        resp = tornet.get(tornet.auditor, tornet.gateway)
        assert (resp.status, resp.body) == (200, b"gateway")
    finally:
        for name in ("erin", "carol"):
            clientauth.remove_client(tornet.layout.auth_dir, name)
