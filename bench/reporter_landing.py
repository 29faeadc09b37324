"""Landing-page requests per second with 50 concurrent clients.

    python -m bench.reporter_landing [--clients N] [--seconds S]

``peluit serve reporter`` runs in its own process; N client threads here each keep one
connection open and fetch ``/`` as fast as they can for S seconds. Reported: requests/s, latency
percentiles, errors. The clients share the machine's cores with the server, so this is a lower
bound of what the server alone could do."""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path

from tests.fixtures.liveserver import MemorySampler, mib
from tests.fixtures.liveserver import start_server as start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        server, _cfg, port = start(Path(tmp))
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()
        go = threading.Event()
        end = [0.0]

        def client() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine = []
            go.wait()
            while time.perf_counter() < end[0]:
                t = time.perf_counter()
                try:
                    conn.request("GET", "/")
                    res = conn.getresponse()
                    res.read()
                    ok = res.status == 200
                except OSError:
                    ok = False
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                mine.append(time.perf_counter() - t)
                if not ok:
                    with lock:
                        errors[0] += 1
            conn.close()
            with lock:
                latencies.extend(mine)

        try:
            threads = [threading.Thread(target=client) for _ in range(args.clients)]
            for t in threads:
                t.start()
            sampler = MemorySampler(server.server_pid())
            start_t = time.perf_counter()
            end[0] = start_t + args.seconds
            go.set()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - start_t
            base, peak = sampler.stop()
        finally:
            server.stop()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100)
    print(f"landing page, {args.clients} concurrent clients, {elapsed:.1f} s: "
          f"{len(latencies) / elapsed:.0f} requests/s, {errors[0]} errors")
    print(f"latency: median {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, "
          f"p99 {q[98] * 1000:.0f} ms")
    print(f"server memory: {mib(base)} before, {mib(peak)} at peak")


if __name__ == "__main__":
    main()
