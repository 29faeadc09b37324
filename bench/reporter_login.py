"""Codename logins: latency alone and with 50 at once, and the server's memory meanwhile.

    python -m bench.reporter_login [--clients N]

``peluit serve reporter`` (production argon2id: t=3, m=64 MiB) runs in its own process with N
reporters in its database. First a few logins one after the other (latency of one login), then
N clients log in at the same moment. The server runs at most as many derivations at once as
its cores and memory allow and answers "busy, try again" (503) to the rest after a short wait;
the clients here retry after 0.2 s (Tor Browser users would press reload). Reported: first-try
outcomes, time until every client is in, per-client latency, and the server's peak memory."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from tests.fixtures.liveserver import Client, MemorySampler, mib
from tests.fixtures.liveserver import start_server as start


def _derive(args: tuple[str, bytes]) -> tuple[bytes, bytes]:
    from crypto import codename as codenames
    from crypto.kdf import reporter_keys

    keys = reporter_keys(codenames.normalise(args[0]), args[1])
    return keys.lookup_id, bytes(keys.public_key)


def _reporters(cfg_path: Path, n: int) -> list[str]:
    """N reporters in the database, as if each had filed a report (rows only)."""
    from crypto import codename as codenames
    from dropbox_app.config import load
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.models import Reporter, new_id

    cfg = load(cfg_path)
    names = [str(codenames.generate("en")) for _ in range(n)]
    with ProcessPoolExecutor() as pool:
        derived = list(pool.map(_derive, [(c, cfg.salt()) for c in names]))
    engine = make_engine(cfg.database_url)
    with session_factory(engine)() as db, db.begin():
        for lookup_id, public in derived:
            db.add(Reporter(id=new_id(), lookup_id=lookup_id, public_key=public,
                            created_day="2026-01-01"))
    engine.dispose()
    return names


def _login(port: int, codename: str, retry: bool) -> tuple[float, int, int]:
    """(seconds until logged in, first status, attempts)."""
    client = Client(port)
    token = client.csrf
    t0 = time.perf_counter()
    first, attempts = None, 0
    while True:
        attempts += 1
        status, _ = client.post_form("/login", {"csrf_token": token, "codename": codename})
        first = first or status
        if status == 303 or not retry or status != 503:
            return time.perf_counter() - t0, first, attempts
        time.sleep(0.2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        server, cfg, port = start(Path(tmp))
        try:
            names = _reporters(cfg, args.clients)
            alone = [_login(port, names[i], retry=False)[0] for i in range(5)]
            sampler = MemorySampler(server.server_pid())
            results: list[tuple[float, int, int]] = [None] * args.clients  # type: ignore[list-item]
            go = threading.Event()

            def one(i: int) -> None:
                go.wait()
                results[i] = _login(port, names[i], retry=True)

            threads = [threading.Thread(target=one, args=(i,)) for i in range(args.clients)]
            for t in threads:
                t.start()
            t0 = time.perf_counter()
            go.set()
            for t in threads:
                t.join()
            total = time.perf_counter() - t0
            base, peak = sampler.stop()
        finally:
            server.stop()
    times = sorted(r[0] for r in results)
    firsts = [r[1] for r in results]
    print(f"one login alone: median {statistics.median(alone) * 1000:.0f} ms "
          f"(argon2id t=3, m=64 MiB, plus the request)")
    print(f"{args.clients} logins at once: first try {firsts.count(303)} in, "
          f"{firsts.count(503)} told busy; all in after {total:.1f} s "
          f"({args.clients / total:.1f} logins/s), "
          f"{sum(r[2] for r in results)} requests in all")
    print(f"latency per reporter: median {statistics.median(times):.1f} s, "
          f"max {times[-1]:.1f} s")
    print(f"server memory: {mib(base)} before, {mib(peak)} at peak, growth {mib(peak - base)}")


if __name__ == "__main__":
    main()
