"""New reports through Tor, with one reporter backend and with two behind one Onionbalance
frontend address, in the same run (tests/fixtures/balanced.py: private Tor network, one
PostgreSQL, real ``peluit serve reporter`` processes at production argon2 cost).

    flock /tmp/peluit-heavy.lock python -m bench.onionbalance_load [--reports N] [--clients C]
                                                                    [--budget SECONDS]

Each phase has C reporters at once, each a new Tor circuit (SOCKS isolation) walking the whole
new-report flow (landing page, codename, confirmation, report with a 100 KiB file) until N
reports are in or the budget runs out. Phase 1 sends every reporter to backend 1's onion
address, phase 2 to the two backends' addresses in turn (see ``args_phases`` for why not
through the frontend by default; ``--through-frontend`` switches Onionbalance's config
between the phases instead).
Printed per phase: reports/hour, p50/p95 latency of a flow, which backend served how many
(rendezvous circuits), and CPU seconds per report of the app servers and of the backends' tor
processes. Both backends run on this one machine: the ratio shows what Onionbalance spreads,
not what a second machine adds."""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import psutil

from crypto.identity import AuditorIdentity
from tests.fixtures.balanced import _peluit, balanced
from tests.fixtures.onion_reporter import OnionReporter
from tests.fixtures.postgres import running_server

WHAT = "Kepala bagian pengadaan meminta 10% dari setiap nilai kontrak."
FILE = b"\x00" * (100 * 1024)


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        t = psutil.Process(pid).cpu_times()
        total += t.user + t.system
    return total


def _wait_frontend_over(bal, backends, budget: float = 240.0) -> float:
    """Seconds until the HSDirs serve a frontend descriptor whose introduction points are all
    of ``backends``."""
    want = set()
    for b in backends:
        want |= {ip.enc_key_raw for ip in bal.backend_descriptor(b)[1].introduction_points}
    t0 = time.monotonic()
    while time.monotonic() - t0 < budget:
        keys = {ip.enc_key_raw for ip in bal.frontend_descriptor()[1].introduction_points}
        if keys and keys <= want and all(
                keys & {ip.enc_key_raw for ip in bal.backend_descriptor(b)[1]
                        .introduction_points} for b in backends):
            return time.monotonic() - t0
        time.sleep(3)
    raise RuntimeError("the frontend descriptor did not change in time")


def phase(bal, reports: int, clients: int, budget: float, addresses: list[str]) -> dict:
    apps = [b.app.pid for b in bal.backends]
    tors = [b.tor.process.pid for b in bal.backends]
    rend_before = {b.name: b.rend_circuits() for b in bal.backends}
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    left = [reports]
    turn = [0]
    deadline = time.monotonic() + budget

    def worker() -> None:
        while time.monotonic() < deadline:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
                address = addresses[turn[0] % len(addresses)]
                turn[0] += 1
            r = OnionReporter(bal.anon.socks_port, address, timeout=120)
            t0 = time.monotonic()
            try:
                r.request("GET", "/")
                r.new_report(WHAT, [("bukti.bin", FILE)])
                with lock:
                    latencies.append(time.monotonic() - t0)
            except Exception as exc:
                with lock:
                    errors.append(type(exc).__name__)
                    left[0] += 1
            finally:
                r.close()

    cpu_app0, cpu_tor0 = _cpu(apps), _cpu(tors)
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    n = len(latencies)
    served = {b.name: len(b.rend_circuits() - rend_before[b.name]) for b in bal.backends}
    lat = sorted(latencies)
    return {
        "reports": n, "errors": len(errors), "error_kinds": sorted(set(errors)), "seconds": wall,
        "per_hour": n / wall * 3600 if n else 0.0,
        "p50": statistics.median(lat) if lat else None,
        "p95": lat[max(0, round(0.95 * n) - 1)] if lat else None,
        "served": served,
        "app_cpu_per_report": (_cpu(apps) - cpu_app0) / n if n else None,
        "tor_cpu_per_report": (_cpu(tors) - cpu_tor0) / n if n else None,
    }


def args_phases(bal, through_frontend: bool):
    """(label, addresses) per phase. Through the frontend, the test network's introduction
    points (replaced every 10-30 s under TestingTorNetwork) outrun Onionbalance's republishing,
    and flows hang on points that are gone; the backends' own addresses, taken in turn, give
    what two backends serve when the balancing works (production lifetimes: hours)."""
    if not through_frontend:
        yield "one backend", [bal.backends[0].address]
        yield "two backends", [b.address for b in bal.backends]
        return
    for label, backends in (("one backend", bal.backends[:1]), ("two backends", bal.backends)):
        bal.write_frontend_config(backends)
        bal.reload_onionbalance()
        print(f"{label}: frontend switched in {_wait_frontend_over(bal, backends):.0f} s")
        bal.anon.forget_onion_descriptors()
        yield label, [bal.frontend]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=16)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--budget", type=float, default=300.0, help="seconds per phase at most")
    ap.add_argument("--through-frontend", action="store_true",
                    help="phases through the frontend address (Onionbalance config switched "
                         "between them); default: the backends' own addresses, round robin")
    ap.add_argument("--silent-loss", action="store_true",
                    help="then SIGSTOP backend 1 and time clients through the frontend")
    args = ap.parse_args()
    with running_server() as pg:
        db = pg.create_database()
        with balanced(pg.url(db)) as bal:
            # Without an enrolled auditor the channel takes no report (503).
            card = bal.base / "auditor.card"
            card.write_bytes(AuditorIdentity.generate("Auditor Bench").card().to_bytes())
            _peluit("auditor", "enroll", str(card), "--config", str(bal.backends[0].config))
            print(f"set-up: { {k: round(v, 1) for k, v in bal.startup_seconds.items()} }",
                  flush=True)
            results = {}
            for label, addresses in args_phases(bal, args.through_frontend):
                res = phase(bal, args.reports, args.clients, args.budget, addresses)
                results[label] = res
                if not res["reports"]:
                    print(f"{label}: no report in {res['seconds']:.0f} s; "
                          f"{res['errors']} failed flows {res['error_kinds']}")
                    continue
                print(f"{label}: {res['reports']} reports "
                      f"in {res['seconds']:.0f} s = {res['per_hour']:.0f}/hour; p50 "
                      f"{res['p50']:.1f} s, p95 {res['p95']:.1f} s; served {res['served']}; "
                      f"CPU per report: apps {res['app_cpu_per_report']:.2f} s, backend tors "
                      f"{res['tor_cpu_per_report']:.2f} s; {res['errors']} failed flows",
                      flush=True)
            one, two = results["one backend"], results["two backends"]
            if one["per_hour"] and two["per_hour"]:
                print(f"ratio two/one: {two['per_hour'] / one['per_hour']:.2f} "
                      f"(reports/hour); p95 {two['p95'] / one['p95']:.2f}")
            if args.silent_loss:
                silent_loss(bal)


def _time_to_reach(socks_port: int, address: str, budget: float) -> tuple[float | None, int]:
    t0 = time.monotonic()
    tries = 0
    while time.monotonic() - t0 < budget:
        tries += 1
        r = OnionReporter(socks_port, address, timeout=60)
        try:
            r.request("GET", "/")
            return time.monotonic() - t0, tries
        except Exception:  # noqa: S112 - any failure: try again on a new circuit
            continue
        finally:
            r.close()
    return None, tries


def silent_loss(bal) -> None:
    """Backend 1 stops answering without closing anything (SIGSTOP of its tor and app server:
    a machine that vanished, a cut cable). Time until a client holding the frontend
    descriptor, and a client that fetches it anew, get the landing page."""
    import os
    import signal

    b = bal.backends[0]
    fresh = bal.network.start_client("fresh-silent")
    bal.network.wait_for_bootstrap(fresh.process)
    _time_to_reach(bal.anon.socks_port, bal.frontend, 120)  # the descriptor is cached now
    for pid in (b.tor.process.pid, b.app.pid):
        os.kill(pid, signal.SIGSTOP)
    out = {}
    threads = [threading.Thread(target=lambda k=k, p=p: out.__setitem__(
        k, _time_to_reach(p, bal.frontend, 400)))
        for k, p in (("cached", bal.anon.socks_port), ("new", fresh.socks_port))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for pid in (b.tor.process.pid, b.app.pid):
        os.kill(pid, signal.SIGCONT)
    print(f"silent loss of {b.name} (SIGSTOP): client holding the frontend descriptor "
          f"{out['cached']}, new client {out['new']} (seconds, tries)")


if __name__ == "__main__":
    main()
