"""A legitimate reporter's latency while ``peluit serve reporter`` is attacked over loopback.

    python -m bench.reporter_hostile [--seconds N] [--only NAME]

The real server runs in its own process (SQLite, production argon2 cost). Each attack of
issue 18 runs alone for N seconds (default 25), then all of them together; meanwhile a
legitimate client loads the landing page every half second (a new connection each time, as
Tor Browser through a fresh stream) and, once per attack, logs in with its codename. Printed per
attack: landing-page latency (median, worst), the login's latency and status, any 5xx the
legitimate client saw, and what the attackers got back. The refused-bodies attack also
reports the server's memory (RSS, sampled every 50 ms), and how many bytes the attackers
pushed before each answer (what the kernel's socket buffers take: the server reads none of a
body it refuses). Client and server share this
machine's cores, and the attackers run in this process."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil

from tests.fixtures.liveserver import Client, multipart, send_multipart, start_server
from tests.security import hostile

MiB = 1024 * 1024


def _cookies(client: Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _attacks(port: int, attacker: Client, flooder: Client, stop, tally) -> dict:
    def headers():
        return [hostile.header_trickle(port, 512, 5.0, stop, tally)]

    def bodies():
        return [hostile.body_trickle(port, 256, 5.0, stop, tally)]

    def uploads():
        return [hostile.StalledUploads(port, 32, _cookies(attacker), attacker.csrf, stop, tally)]

    def refused():
        return [hostile.RefusedBodies(port, stop, tally) for _ in range(4)]

    def flood():
        return [hostile.CodenameFlood(port, _cookies(flooder), flooder.csrf, stop, tally)
                for _ in range(32)]

    return {"512 trickled headers": headers, "256 trickled 200 KB bodies": bodies,
            "32 stalled uploads": uploads, "4 refused 400 MB bodies": refused,
            "32 threads of wrong codenames": flood,
            "all together": lambda: [*headers(), *bodies(), *uploads(), *refused(), *flood()]}


def _measure(port: int, codename: str, seconds: float) -> tuple[list, dict]:
    login: dict = {}

    def log_in() -> None:
        client = Client(port)
        t0 = time.monotonic()
        login["status"], _ = client.post_form(
            "/login", {"csrf_token": client.csrf, "codename": codename, "website": ""})
        login["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=log_in, daemon=True)
    t.start()
    landings = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        try:
            status, _ = Client(port).request("GET", "/")
        except OSError:
            status = 0
        landings.append((status, time.monotonic() - t0))
        time.sleep(max(0.0, 0.5 - (time.monotonic() - t0)))
    t.join(60)
    return landings, login


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=25.0)
    ap.add_argument("--only", default=None, help="run only the attacks whose name has this")
    args = ap.parse_args()
    hostile.raise_fd_limit()
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        server, _cfg, port = start_server(Path(tmp))
        try:
            proc = psutil.Process(server.server_pid())
            legit = Client(port)
            codename, token = legit.start_report()
            pieces, length, ctype = multipart(
                [("csrf_token", legit.csrf), ("form_token", token),
                 ("what", "Kepala pengadaan meminta sepuluh persen dari kontrak.")], [])
            assert send_multipart(legit, "/report/new/send", pieces, length, ctype)[0] == 200
            attacker, flooder = Client(port), Client(port)
            attacker.start_report()
            flooder.csrf  # noqa: B018 - the cookie
            landings, login = _measure(port, codename, 5)
            print(f"{'no attack':32} landing p50 {statistics.median(s for _, s in landings):.2f}"
                  f" s, worst {max(s for _, s in landings):.2f} s; login "
                  f"{login.get('seconds', -1):.1f} s ({login.get('status')})")
            for name in _attacks(port, attacker, flooder, None, None):
                if args.only and args.only not in name:
                    continue
                stop, tally = threading.Event(), hostile.Tally()
                threads = _attacks(port, attacker, flooder, stop, tally)[name]()
                rss0 = proc.memory_info().rss
                peak = [rss0]
                done = threading.Event()

                def sample(done=done, peak=peak) -> None:
                    while not done.wait(0.05):
                        peak[0] = max(peak[0], proc.memory_info().rss)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                for t in threads:
                    t.start()
                time.sleep(3)
                landings, login = _measure(port, codename, args.seconds)
                stop.set()
                for t in threads:
                    t.join(15)
                done.set()
                sampler.join()
                pushed = sum(getattr(t, "pushed", 0) for t in threads)
                rounds = sum(getattr(t, "rounds", 0) for t in threads)
                fivexx = [s for s, _ in landings if s >= 500 or s == 0]
                print(f"{name:32} landing p50 {statistics.median(s for _, s in landings):.2f} s,"
                      f" worst {max(s for _, s in landings):.2f} s ({len(landings)} loads, "
                      f"{len(fivexx)} failed); login {login.get('seconds', -1):.1f} s "
                      f"({login.get('status')}); attackers got "
                      f"{dict(sorted(tally.statuses.items()))}, {tally.connects} connections")
                print(f"{'':32} server RSS {rss0 / MiB:.0f} MiB -> peak {peak[0] / MiB:.0f} MiB"
                      + (f"; refused bodies: {rounds} answered after "
                         f"{pushed / max(rounds, 1) / MiB:.1f} MiB pushed each (of 381 MiB "
                         f"declared)" if rounds else ""))
                time.sleep(3)  # let the server drop the attackers' last connections
        finally:
            server.stop()


if __name__ == "__main__":
    main()
