"""Start-up figures of the private Tor network the tests use (tor/testnet.py).

    python -m bench.tornet [RUNS]

Per run: authority keys (cached after the first run), consensus complete at every authority,
descriptor upload of one onion service, first fetch through a client, a second fetch over the
built circuit, shutdown. Machine-dependent; report the spread, not one number."""

from __future__ import annotations

import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tor import testnet


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


def run_once() -> dict[str, float]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    t0 = time.monotonic()
    figures: dict[str, float] = {}
    try:
        with testnet.network() as net:
            svc = testnet.OnionService("web", net.base_dir / "hs", server.server_port)
            host = net.start_onion_host("host", [svc])
            client = net.start_client("client")
            net.wait_for_descriptors(host, [svc])
            net.wait_for_bootstrap(client.process)
            figures.update(net.startup_seconds)
            testnet.retry_socks(lambda: testnet.http_get_via_socks(client.socks_port, svc.address))
            figures["first_fetch_after_launch"] = time.monotonic() - t0
            t1 = time.monotonic()
            testnet.http_get_via_socks(client.socks_port, svc.address)
            figures["fetch_over_built_circuit"] = time.monotonic() - t1
            t2 = time.monotonic()
        figures["shutdown"] = time.monotonic() - t2
    finally:
        server.shutdown()
        server.server_close()
    return figures


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    results = [run_once() for _ in range(runs)]
    for key in results[0]:
        values = [r[key] for r in results if key in r]
        print(f"{key:32} median {statistics.median(values):6.2f} s  "
              f"min {min(values):6.2f}  max {max(values):6.2f}  (n={len(values)})")


if __name__ == "__main__":
    main()
