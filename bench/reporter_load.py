"""Load test of one reporter app on this machine: how many reporters does one server hold?

    python -m bench.reporter_load [--clients N] [--flows N] [--pages N]

Starts the real reporter app (``peluit serve``'s HTTP server, production argon2 cost
t=3, m=64 MiB, SQLite) on a loopback port in this process, then drives it over HTTP with
bounded numbers of requests from client threads, each with its own cookie jar:

- landing pages (no argon2): throughput and latency;
- whole new-reporter flows: codename (one argon2id), confirmation, report with a 100 KiB file
  (streamed into an envelope);
- returning reporters: login with the codename (one argon2id) and the follow-up page.

Tor is left out on purpose: an onion circuit adds latency per request (0.04-0.25 s over a
built circuit on the private network), not server load; the tor process's own CPU cost per
stream is small next to argon2. Figures are for this shared, noisy 2-core machine."""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dropbox_app.gateway.adminlog import SHELL


def _setup(data: Path) -> tuple[object, str]:
    from crypto.identity import AuditorIdentity
    from dropbox_app import auditors
    from dropbox_app.app import make_http_server, make_reporter_app
    from dropbox_app.config import initialise, load
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.server import bound_port
    from peluit.ground.clock import Clock

    path = initialise(data, reporter_listen="127.0.0.1:0")
    cfg = load(path)
    from dropbox_app.db import upgrade

    upgrade(cfg.database_url)
    engine = make_engine(cfg.database_url)
    with session_factory(engine)() as s, s.begin():
        auditors.enroll(s, AuditorIdentity.generate("Bench").card().to_bytes(), Clock().day(),
                        actor=SHELL)
    app = make_reporter_app(cfg, engine=engine, login_limits=(10**6, 10**6))
    from dropbox_app.throttle import default_kdf_slots

    print(f"argon2 slots: {default_kdf_slots(cfg.argon2.memory_kib)}")
    srv = make_http_server(cfg, "reporter", app)
    srv.prepare()
    threading.Thread(target=srv.serve, daemon=True).start()
    return srv, f"http://127.0.0.1:{bound_port(srv)}"


BUSY = [0]  # 503 answers: the app's argon2 gate was full and it shed the request


class _Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        for c in self.jar:
            if c.name == "csrf":
                return c.value
        self.get("/")
        return self.csrf()

    def get(self, path: str) -> str:
        return self._open(self.base + path)

    def _open(self, req, data: bytes | None = None) -> str:
        # A 503 means the argon2 gate was full: like a person, try again a moment later.
        while True:
            try:
                with self.opener.open(req, data=data, timeout=300) as r:
                    return r.read().decode()
            except urllib.error.HTTPError as exc:
                if exc.code != 503:
                    raise
                exc.close()
                BUSY[0] += 1
                time.sleep(0.5)

    def post(self, path: str, fields: dict) -> str:
        return self._open(self.base + path, urllib.parse.urlencode(fields).encode())

    def post_multipart(self, path: str, fields: list, files: list) -> str:
        boundary = secrets.token_hex(16)
        parts = []
        for name, value in fields:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{value}\r\n".encode())
        for name, filename, data in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                         f'filename="{filename}"\r\nContent-Type: application/octet-stream'
                         f"\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        req = urllib.request.Request(
            self.base + path, data=b"".join(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._open(req)


def _new_reporter(base: str, evidence: bytes) -> str:
    c = _Client(base)
    page = c.post("/codename", {"csrf_token": c.csrf(), "words": "id", "website": ""})
    codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page))
    c.post("/codename/confirm", {"csrf_token": c.csrf(), "written_down": "yes"})
    form = c.get("/report/new")
    token = re.search(r'name="form_token" value="([0-9a-f]+)"', form).group(1)
    c.post_multipart("/report/new/send",
                     [("csrf_token", c.csrf()), ("form_token", token),
                      ("what", "Bench: pungli di loket layanan setiap hari Senin.")],
                     [("files", "bukti.bin", evidence)])
    return codename


def _returning(base: str, codename: str) -> None:
    c = _Client(base)
    page = c.post("/login", {"csrf_token": c.csrf(), "codename": codename, "website": ""})
    assert "status-received" in page, "login did not reach the follow-up page"


def _timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def _report(label: str, latencies: list[float], wall: float) -> None:
    latencies = sorted(latencies)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(f"{label:34} {len(latencies) / wall:8.1f} /s   p50 {statistics.median(latencies):6.3f} s"
          f"   p95 {p95:6.3f} s   (n={len(latencies)}, {wall:.1f} s)")


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--flows", type=int, default=16)
    ap.add_argument("--pages", type=int, default=400)
    args = ap.parse_args(argv)
    evidence = secrets.token_bytes(100 * 1024)
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        srv, base = _setup(Path(tmp) / "server")
        try:
            _Client(base).get("/")  # warm up
            with ThreadPoolExecutor(args.clients) as pool:
                t = time.perf_counter()
                lat = list(pool.map(lambda _: _timed(_Client(base).get, "/"),
                                    range(args.pages)))
                _report("landing page", lat, time.perf_counter() - t)

                codenames: list[str] = []

                def flow(_: int) -> float:
                    t0 = time.perf_counter()
                    codenames.append(_new_reporter(base, evidence))
                    return time.perf_counter() - t0

                t = time.perf_counter()
                lat = list(pool.map(flow, range(args.flows)))
                wall = time.perf_counter() - t
                _report("new reporter: codename+report", lat, wall)
                per_hour = args.flows / wall * 3600

                t = time.perf_counter()
                lat = list(pool.map(lambda cn: _timed(_returning, base, cn), codenames))
                wall_login = time.perf_counter() - t
                _report("returning reporter: login", lat, wall_login)
        finally:
            srv.stop()
    print(f"=> one server: ~{per_hour:,.0f} new reports/hour or "
          f"~{len(codenames) / wall_login * 3600:,.0f} logins/hour at {args.clients} "
          f"concurrent clients (argon2id t=3, m=64 MiB dominates); "
          f"{BUSY[0]} requests shed with 503 and retried")


if __name__ == "__main__":
    main(sys.argv[1:])
