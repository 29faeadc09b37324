"""Run inside the nspawn container (tests/deploy/test_nspawn.py) with the deployment's own
Python (/opt/peluit/venv): a private Tor network on the container's loopback, the system tor
(tor@default, as install.sh configured it) pointed at it, and a Tor client fetching the
reporter app's front page through its onion service.

The container has no Internet (a private network namespace), so its tor cannot reach the
public Tor network; on the private one the path is the real one: the system tor publishes the
reporter onion's descriptor to the network's HSDirs, the client fetches it, builds a
rendezvous circuit through the relays, and the system tor forwards the stream to the app on
127.0.0.1:8080. Prints "STATUS <code> <bytes>" and exits 0 on success.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from tor import testnet

INCLUDE = Path("/etc/tor/peluit-testnet.conf")
TORRC = Path("/etc/tor/torrc")
LINE = f"%include {INCLUDE}"


def main() -> int:
    base = Path("/root/tornet")
    shutil.rmtree(base, ignore_errors=True)
    t0 = time.monotonic()
    original = TORRC.read_text()
    with testnet.network(base, authorities=3, relays=2, timeout=120) as net:
        print(f"network up in {time.monotonic() - t0:.1f} s", flush=True)
        INCLUDE.write_text("TestingTorNetwork 1\n"
                           + "".join(line + "\n" for line in net._dir_authority_lines))
        INCLUDE.chmod(0o644)
        TORRC.write_text(original + f"\n{LINE}\n")
        try:
            subprocess.run(["systemctl", "restart", "tor@default"], check=True, timeout=120)
            client = net.start_client("client")
            net.wait_for_bootstrap(client.process)
            address = Path("/var/lib/tor/peluit-reporter/hostname").read_text().strip()
            response = testnet.retry_socks(
                lambda: testnet.http_get_via_socks(client.socks_port, address),
                attempts_timeout=240)
            print(f"reached {address} in {time.monotonic() - t0:.1f} s", flush=True)
            print(f"STATUS {response.status} {len(response.body)}", flush=True)
            return 0 if response.status == 200 else 1
        finally:
            TORRC.write_text(original)
            INCLUDE.unlink(missing_ok=True)
            subprocess.run(["systemctl", "restart", "tor@default"], timeout=120)


if __name__ == "__main__":
    sys.exit(main())
