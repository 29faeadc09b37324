"""A 500 MiB upload through the real reporter server on loopback.

    python -m bench.reporter_upload [--mib N]

``peluit serve reporter`` (SQLite, production settings) runs in its own process; this
process takes a codename and streams one report with an N MiB file (default 500, the default
per-request limit) over one loopback connection. Reported: throughput (body bytes over the time
from the first byte sent to the response), and the server's resident memory before and at its
peak during the upload (sampled every 20 ms). Client and server share this machine's cores."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.functional.reporter.liveserver import (
    Client,
    MemorySampler,
    mib,
    multipart,
    send_multipart,
)
from tests.functional.reporter.liveserver import start_server as start

MiB = 1024 * 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        server, _cfg, port = start(Path(tmp))
        try:
            client = Client(port)
            _codename, token = client.start_report()
            block = bytes(range(256)) * (MiB // 256)
            size = args.mib * MiB - 64 * 1024  # the whole request stays under the limit
            chunks = size // MiB
            tail = size - chunks * MiB

            def body():
                for _ in range(chunks):
                    yield block
                yield block[:tail]

            pieces, length, ctype = multipart(
                [("csrf_token", client.csrf), ("form_token", token),
                 ("what", "Benchmark upload of a large evidence file.")],
                [("evidence.bin", size, body())])
            sampler = MemorySampler(server.server_pid())
            t0 = time.perf_counter()
            status, _page = send_multipart(client, "/report/new/send", pieces, length, ctype)
            elapsed = time.perf_counter() - t0
            base, peak = sampler.stop()
            assert status == 303, status
            stored = sum(p.stat().st_size for p in (Path(tmp) / "d" / "store").glob("*.env"))
        finally:
            server.stop()
    print(f"upload: {length / MiB:.0f} MiB body in {elapsed:.2f} s = "
          f"{length / elapsed / 1e6:.0f} MB/s ({length / elapsed / MiB:.0f} MiB/s)")
    print(f"stored envelopes: {mib(stored)} (padded)")
    print(f"server memory: {mib(base)} before, {mib(peak)} at peak, growth {mib(peak - base)}")


if __name__ == "__main__":
    main()
