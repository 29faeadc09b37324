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

from tests.fixtures.liveserver import (
    Client,
    MemorySampler,
    mib,
    multipart,
    send_multipart,
)
from tests.fixtures.liveserver import start_server as start

MiB = 1024 * 1024


def disk_rate(directory: Path, mib_: int = 256) -> float:
    """MB/s of writing ``mib_`` MiB in 256 KiB blocks to a file in ``directory`` and fsyncing
    it, as the store does (its writer fdatasyncs every 32 MiB)."""
    import os

    block = os.urandom(256 * 1024)
    path = directory / ".bench-disk"
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        for i in range(mib_ * 4):
            f.write(block)
            if i % 128 == 127:
                f.flush()
                os.fdatasync(f.fileno())
        f.flush()
        os.fsync(f.fileno())
    elapsed = time.perf_counter() - t0
    path.unlink()
    return mib_ * MiB / elapsed / 1e6


def cipher_rate(mib_: int = 256) -> float:
    """MB/s of sealing ``mib_`` MiB into an envelope for one recipient, on one core, into a
    sink that keeps nothing: the cipher's own rate."""
    from nacl.public import PrivateKey

    from crypto.envelope import EnvelopeWriter

    class Null:
        def write(self, data):
            return len(data)

    block = bytes(256 * 1024)
    t0 = time.perf_counter()
    w = EnvelopeWriter(Null(), [PrivateKey.generate().public_key], {"v": 1})
    for _ in range(mib_ * 4):
        w.write(block)
    w.close()
    return mib_ * MiB / (time.perf_counter() - t0) / 1e6


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
            import psutil

            proc = psutil.Process(server.server_pid())
            cpu0 = sum(proc.cpu_times()[:2])
            t0 = time.perf_counter()
            status, _page = send_multipart(client, "/report/new/send", pieces, length, ctype)
            elapsed = time.perf_counter() - t0
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            base, peak = sampler.stop()
            assert status == 200, status  # the acknowledgment page
            stored = sum(p.stat().st_size for p in (Path(tmp) / "d" / "store").glob("*.env"))
            disk = disk_rate(Path(tmp) / "d" / "store")
            cipher = cipher_rate()
        finally:
            server.stop()
    rate = length / elapsed / 1e6
    print(f"upload: {length / MiB:.0f} MiB body in {elapsed:.2f} s = "
          f"{rate:.0f} MB/s ({length / elapsed / MiB:.0f} MiB/s)")
    print(f"same run: disk (write + fdatasync) {disk:.0f} MB/s, cipher (one core) "
          f"{cipher:.0f} MB/s; upload share of the slower: {rate / min(disk, cipher):.2f}")
    print(f"server CPU: {cpu:.2f} s (user + system) = {length / cpu / 1e6:.0f} MB of upload per "
          f"CPU-second (less sensitive to a shared machine's load than the wall-clock rate)")
    print(f"stored envelopes: {mib(stored)} (padded)")
    print(f"server memory: {mib(base)} before, {mib(peak)} at peak, growth {mib(peak - base)}")


if __name__ == "__main__":
    main()
