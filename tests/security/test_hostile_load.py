"""A server that stays up: ``peluit serve reporter`` in its own process, attacked over loopback
by real slow sockets, while a legitimate reporter must still be served (the landing page 200
within 5 s, a codename login within 30 s, never a 5xx).

The attacks, all at once (issue 18):
* 512 connections trickling their request headers, one byte per 5 s each;
* 256 connections sending a declared 200 KB urlencoded body, one byte per 5 s;
* 32 multipart uploads with a valid session that stall after their first part;
* 4 keep-alive connections sending requests the app refuses with 400 MB bodies;
* 32 threads posting wrong codenames.
Before that, the refused bodies alone: the server's memory must not grow by 256 MiB and it must
not read the bodies: each time, the attacker gets the answer having pushed no more than the
kernel's socket buffers hold (a few MiB), not the 400 MB it declared.

Every attacker reconnects when the server drops it. Bounded: about a minute in all."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.fixtures.liveserver import Client, multipart, send_multipart, start_server

from . import hostile

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
ATTACK_SECONDS = 35


def _rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


class _Peak(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            self.peak = max(self.peak, _rss(self.pid))


def _file_report(client: Client) -> str:
    codename, token = client.start_report()
    pieces, length, ctype = multipart(
        [("csrf_token", client.csrf), ("form_token", token),
         ("what", "Kepala pengadaan meminta sepuluh persen dari kontrak.")], [])
    status, page = send_multipart(client, "/report/new/send", pieces, length, ctype)
    assert status == 200 and "<h1>" in page, page[:300]  # the acknowledgment page
    return codename


def _cookies(client: Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def test_a_legitimate_reporter_is_served_through_every_attack(tmp_path: Path):
    hostile.raise_fd_limit()
    server, _cfg, port = start_server(tmp_path)
    stop = threading.Event()
    attackers: list[threading.Thread] = []
    try:
        pid = server.server_pid()
        legit = Client(port)
        codename = _file_report(legit)
        attacker = Client(port)
        attacker.start_report()  # a valid session for the stalled uploads
        flooder = Client(port)
        flood_csrf = flooder.csrf

        # 1. Refused bodies alone: answered, not read, no memory.
        tally = hostile.Tally()
        base = _rss(pid)
        peak = _Peak(pid)
        peak.start()
        refusers = [hostile.RefusedBodies(port, stop, tally) for _ in range(4)]
        for t in refusers:
            t.start()
        time.sleep(6)
        stop.set()
        for t in refusers:
            t.join(10)
        peak.done.set()
        peak.join()
        pushed = sum(t.pushed for t in refusers)
        rounds = sum(t.rounds for t in refusers)
        assert tally.statuses.get(400, 0) >= 4, tally.statuses
        assert peak.peak - base < 256 * MiB, (base, peak.peak)
        assert pushed / rounds < 32 * MiB, f"{pushed / rounds / MiB:.0f} MiB sent per refusal"
        print(f"refused bodies: {rounds} answered, the attackers pushed {pushed / MiB:.0f} MiB "
              f"({pushed / rounds / MiB:.1f} MiB each); RSS {base / MiB:.0f} -> peak "
              f"{peak.peak / MiB:.0f} MiB")

        # 2. Everything at once.
        stop.clear()
        tally = hostile.Tally()
        attackers = [
            hostile.header_trickle(port, 512, 5.0, stop, tally),
            hostile.body_trickle(port, 256, 5.0, stop, tally),
            hostile.StalledUploads(port, 32, _cookies(attacker), attacker.csrf, stop, tally),
            *(hostile.RefusedBodies(port, stop, tally) for _ in range(4)),
            *(hostile.CodenameFlood(port, _cookies(flooder), flood_csrf, stop, tally)
              for _ in range(32)),
        ]
        for t in attackers:
            t.start()
        time.sleep(5)  # every attacker connected and sending

        login: dict = {}

        def log_in() -> None:
            client = Client(port)
            t0 = time.monotonic()
            login["status"], _ = client.post_form(
                "/login", {"csrf_token": client.csrf, "codename": codename, "website": ""})
            login["seconds"] = time.monotonic() - t0

        login_thread = threading.Thread(target=log_in, daemon=True)
        login_thread.start()
        landings = []
        end = time.monotonic() + ATTACK_SECONDS
        while time.monotonic() < end:
            t0 = time.monotonic()
            status, _ = Client(port).request("GET", "/")
            landings.append((status, time.monotonic() - t0))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
        login_thread.join(40)
        floods = sum(getattr(t, "sent", 0) for t in attackers)
        trickles = tally.connects
    finally:
        stop.set()
        for t in attackers:
            t.join(15)
        server.stop()

    print(f"landing: {len(landings)} loads, slowest {max(s for _, s in landings):.2f} s; "
          f"login {login.get('seconds', -1):.1f} s; attackers: {floods} wrong codenames, "
          f"{trickles} connections, answers {dict(sorted(tally.statuses.items()))}")
    assert floods > 32, "the codename flood did not run"
    assert trickles >= 512 + 256 + 32, "the slow connections were not all opened"
    assert all(status == 200 for status, _ in landings), landings
    assert max(seconds for _, seconds in landings) < 5, landings
    assert login.get("status") == 303, login
    assert login["seconds"] < 30, login
