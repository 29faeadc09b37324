"""Inbox bundle download: throughput and memory of the gateway streaming a large inbox.

    python -m bench.gateway_inbox [SUBMISSIONS] [MIB_EACH]     (default: 1000 x 1 MiB)

A real deployment in a temporary directory: N submissions sealed to one auditor card into the
store (as the reporter app records them), an auditor account, then the inbox bundle downloaded
over HTTP from the real HTTP server on loopback and verified by a streaming reader while it
arrives. Reports the download throughput and the server process's resident memory above its
level before the download (the bundle is never held in memory)."""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import psutil

from dropbox_app.gateway.adminlog import SHELL
from peluit.ground.clock import Clock


def _setup(base: Path, count: int, size: int):  # noqa: ANN202
    from nacl.public import PrivateKey

    from crypto.envelope import EnvelopeWriter
    from crypto.identity import AuditorIdentity
    from dropbox_app.auditors import enroll
    from dropbox_app.config import initialise, load
    from dropbox_app.db import make_engine, session_factory, upgrade
    from dropbox_app.gateway import accounts
    from dropbox_app.gateway.passphrase import TEST_COST, PassphraseHasher
    from dropbox_app.models import Report, Reporter, Submission
    from dropbox_app.store import Store

    cfg = load(initialise(base / "server", language="en"))
    upgrade(cfg.database_url)
    engine = make_engine(cfg.database_url)
    factory = session_factory(engine)
    auditor = AuditorIdentity.generate("Bench")
    today = Clock().today()
    hasher = PassphraseHasher(TEST_COST)
    store = Store(cfg.store_dir)
    block = os.urandom(1 << 20)
    with factory() as db, db.begin():
        enroll(db, auditor.card().to_bytes(), today.isoformat(), actor=SHELL)
        from dropbox_app.gateway.totpseal import key_for

        account = accounts.create(db, hasher, "bench", "auditor", today.isoformat(), "en",
                                  actor=SHELL, totp_key=key_for(cfg))
        reporter = Reporter(lookup_id=secrets.token_bytes(32),
                            public_key=bytes(PrivateKey.generate().public_key),
                            created_day=today.isoformat())
        db.add(reporter)
        db.flush()
        report = Report(reporter_id=reporter.id, status="received", created_day=today.isoformat())
        db.add(report)
        db.flush()
        for _ in range(count):
            sid = secrets.token_hex(16)
            pending = store.begin(sid)
            w = EnvelopeWriter(pending.sink, [auditor.box.public_key],
                               {"v": 1, "kind": "file", "report": report.id, "submission": sid,
                                "name": "x.bin", "content_type": "application/octet-stream"})
            left = size
            while left:
                w.write(block[:min(left, len(block))])
                left -= min(left, len(block))
            w.close()
            env_size, sha = pending.commit(today)
            db.add(Submission(id=sid, report_id=report.id, kind="file", member=pending.member,
                              padded_size=env_size, sha256=sha, created_day=today.isoformat()))
    return cfg, engine, hasher, account


def _login(port: int, account) -> str:  # noqa: ANN001
    from dropbox_app.gateway import totp

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login")
    resp = conn.getresponse()
    page = resp.read().decode()
    csrf_cookie = resp.getheader("Set-Cookie").split(";")[0]
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    body = urllib.parse.urlencode({"csrf_token": token, "username": account.username,
                                   "passphrase": account.passphrase,
                                   "code": totp.code_at(account.totp_secret, time.time())})
    conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded",
                                          "Cookie": csrf_cookie})
    resp = conn.getresponse()
    resp.read()
    session = next(c.split(";")[0] for c in resp.headers.get_all("Set-Cookie")
               if c.startswith("peluit_gw="))
    return f"{csrf_cookie}; {session}", token


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    from dropbox_app.gateway import make_gateway_app
    from dropbox_app.server import make_server

    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        t0 = time.monotonic()
        cfg, engine, hasher, account = _setup(Path(tmp), count, mib << 20)
        print(f"setup: {count} submissions of {mib} MiB sealed in {time.monotonic() - t0:.1f} s")
        app = make_gateway_app(cfg, engine=engine, hasher=hasher)
        from dropbox_app.config import Listen

        srv = make_server(app, Listen("127.0.0.1", 0), 1 << 20)
        srv.prepare()
        port = srv.bind_addr[1]
        threading.Thread(target=srv.serve, daemon=True).start()
        cookies, token = _login(port, account)
        proc = psutil.Process()
        base_rss = proc.memory_info().rss
        peak = [base_rss]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], proc.memory_info().rss)
                time.sleep(0.02)

        threading.Thread(target=sample, daemon=True).start()
        # The client is curl, in its own process, as a browser would be: the figure is the
        # server's, not the GIL shared with a Python client.
        t0 = time.monotonic()
        out = subprocess.run(
            ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
             "-H", f"Cookie: {cookies}", "--data-urlencode", f"csrf_token={token}",
             f"http://127.0.0.1:{port}/inbox"], capture_output=True, text=True, check=True)
        elapsed = time.monotonic() - t0
        done.set()
        code, total = out.stdout.split()
        assert code == "200", out.stdout
        total = int(total)
        print(f"inbox bundle: {total / 1e6:.0f} MB in {elapsed:.2f} s = "
              f"{total / 1e6 / elapsed:.0f} MB/s over loopback HTTP (curl client)")
        # The same bundle generated in-process, without HTTP: the cost of iter_bundle alone.
        from dropbox_app.db import session_factory
        from dropbox_app.gateway import downloads, inbox
        from dropbox_app.store import Store

        with session_factory(engine)() as db, db.begin():
            prepared = downloads.prepare(db, cfg.server_key_file, cfg.deployment_id,
                                         Clock().today(), actor=SHELL)
        t0 = time.monotonic()
        n = sum(len(b) for b in inbox.StreamedBundle(prepared.manifest, prepared.signer,
                                                      Store(cfg.store_dir).open))
        elapsed = time.monotonic() - t0
        print(f"bundle generation alone (read, hash, sign): {n / 1e6 / elapsed:.0f} MB/s")
        srv.stop()
        engine.dispose()
        print(f"server process resident memory: {base_rss / 2**20:.0f} MiB before, peak "
              f"{peak[0] / 2**20:.0f} MiB during (+{(peak[0] - base_rss) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
