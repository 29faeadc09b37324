"""Two reporter app servers (``peluit serve reporter``, one config each) on one PostgreSQL
primary with a synchronous streaming-replication standby (tests/fixtures/pg_replica.py). The
primary is killed with ``kill -9`` while reporters are active, and the standby is promoted: the
apps carry on without a restart (libpq's multi-host URL with ``target_session_attrs=read-write``
finds the new primary; SQLAlchemy's pool pre-ping drops the dead connections), no report a
reporter saw accepted is lost, and nothing is stored half. Inbox bundle numbers taken on two
servers around the failover stay unique and gapless.

Run alone: ``pytest -m scale tests/scale``. Each test starts its own pair (about 3 s)."""

from __future__ import annotations

import http.client
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crypto.envelope import open_bytes
from crypto.identity import AuditorIdentity
from tests.fixtures.onion_reporter import FORM_TOKEN, OnionReporter
from tests.fixtures.pg_replica import PgPair, replicated_pair
from tor import testnet

pytestmark = [pytest.mark.scale, pytest.mark.postgres, pytest.mark.slow]

EVIDENCE = b"Kontrak 17/2026: 10% untuk kepala bagian.\n" * 500


def _peluit(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "peluit", *args], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


class Apps:
    """The deployment: one peluit.toml per app server, same database, secrets and store."""

    def __init__(self, pair: PgPair, base: Path, servers: int = 2) -> None:
        self.pair = pair
        self.ports = [testnet.free_port() for _ in range(servers)]
        data = base / "deployment"
        _peluit("init", "--data-dir", str(data), "--database-url", pair.url(),
                "--reporter-listen", f"127.0.0.1:{self.ports[0]}",
                "--gateway-listen", f"127.0.0.1:{testnet.free_port()}")
        first = data / "peluit.toml"
        self.configs = [first]
        for i, port in enumerate(self.ports[1:], 2):
            config = data / f"peluit-app{i}.toml"
            config.write_text(first.read_text().replace(f'"127.0.0.1:{self.ports[0]}"',
                                                        f'"127.0.0.1:{port}"'))
            self.configs.append(config)
        self.auditor = AuditorIdentity.generate("Auditor Satu")
        card = base / "auditor.card"
        card.write_bytes(self.auditor.card().to_bytes())
        _peluit("auditor", "enroll", str(card), "--config", str(first))
        from dropbox_app.config import load

        self.cfg = load(first)
        self.procs: list[subprocess.Popen] = []
        for config in self.configs:
            proc = subprocess.Popen([sys.executable, "-m", "peluit", "serve", "reporter",
                                     "--config", str(config)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in line, proc.stderr.read()
            self.procs.append(proc)

    def address(self, i: int) -> str:
        return f"127.0.0.1:{self.ports[i % len(self.ports)]}"

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            proc.wait(15)
            proc.stdout.close()
            proc.stderr.close()

    def stored(self) -> dict[str, set[str]]:
        """On the primary now: each report's submissions, opened with the auditor's key; the
        kinds found per report (a half-stored submission fails to open and fails the test)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.pair.url())
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT report_id, member, padded_size "
                                         "FROM submissions")).all()
                reports = {r for (r,) in conn.execute(text("SELECT id FROM reports"))}
        finally:
            engine.dispose()
        kinds: dict[str, set[str]] = {r: set() for r in reports}
        for report_id, member, size in rows:
            data = (self.cfg.store_dir / member).read_bytes()
            assert len(data) == size, f"envelope {member} is {len(data)} bytes, row says {size}"
            meta, _ = open_bytes(data, [self.auditor.box])
            kinds[report_id].add(meta["kind"])
        return kinds


@pytest.fixture
def pair():
    with replicated_pair() as p:
        yield p


@pytest.fixture
def apps(pair, tmp_path):
    a = Apps(pair, tmp_path)
    try:
        yield a
    finally:
        a.stop()


def test_promote_standby_while_reporters_are_active(pair, apps):
    accepted: dict[str, float] = {}      # report id -> when its "received" page came
    failures: list[tuple[float, str]] = []
    lock = threading.Lock()
    stop = threading.Event()
    killed_at: list[float] = []

    def reporter_loop(n: int) -> None:
        i = n
        while not stop.is_set():
            r = OnionReporter(None, apps.address(i), timeout=60)
            i += 1
            try:
                r.new_report(f"Laporan {n}-{i}: kepala bagian meminta 10% dari kontrak.",
                             [("bukti.txt", EVIDENCE)])
                rid = r.report_id()
                with lock:
                    accepted[rid] = time.monotonic()
            except Exception as exc:
                with lock:
                    failures.append((time.monotonic(), type(exc).__name__))
                time.sleep(0.2)
            finally:
                r.close()

    threads = [threading.Thread(target=reporter_loop, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 120
        while len(accepted) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(accepted) >= 4, f"no reports before the failover: {failures[-5:]}"
        before = set(accepted)
        killed_at.append(time.monotonic())
        pair.primary.kill9()
        t_promote = time.monotonic()
        pair.promote()
        promoted_in = time.monotonic() - t_promote
        while time.monotonic() < deadline:
            with lock:
                after = [t for t in accepted.values() if t > killed_at[0]]
            if len(after) >= 4:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(90)
    after = sorted(t for t in accepted.values() if t > killed_at[0])
    assert len(after) >= 4, f"reports after the failover: {len(after)}; failures {failures[-5:]}"
    assert apps.alive(), "an app server had to be restarted"
    kinds = apps.stored()
    # Every report a reporter saw accepted, before and after the failover, is there whole.
    for rid in accepted:
        assert kinds.get(rid) == {"report", "file"}, (rid, kinds.get(rid))
    # Reports whose answer was lost in the failover are whole or absent, never half.
    for rid, found in kinds.items():
        assert found == {"report", "file"}, (rid, found)
    print(f"\nfailover: standby promoted in {promoted_in:.2f} s; first report accepted "
          f"{after[0] - killed_at[0]:.2f} s after kill -9 of the primary; "
          f"{len(before)} reports before, {len(after)} after, {len(failures)} failed attempts")


def _slow_upload(address: str, r: OnionReporter, size: int, halfway: threading.Event,
                 resume: threading.Event, result: list) -> None:
    """Post a report with a ``size``-byte file over a raw connection: send half, signal, wait,
    send the rest."""
    page = r.request("GET", "/report/new")
    token = FORM_TOKEN.search(page.text).group(1)
    boundary = secrets.token_hex(16)
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (("csrf_token", r.csrf()), ("form_token", token),
                     ("what", "Laporan besar di tengah kegagalan basis data")))
    head += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
             f'filename="besar.bin"\r\nContent-Type: application/octet-stream\r\n\r\n')
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_len = len(head.encode()) + size + len(tail)
    host, port = address.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=120)
    conn.putrequest("POST", "/report/new/send")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(body_len))
    conn.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in r.cookies.items()))
    conn.endheaders()
    conn.send(head.encode())
    chunk = bytes(range(256)) * 4096  # 1 MiB
    sent = 0
    while sent < size:
        n = min(len(chunk), size - sent)
        conn.send(chunk[:n])
        sent += n
        if sent >= size // 2 and not halfway.is_set():
            halfway.set()
            resume.wait(60)
    conn.send(tail)
    resp = conn.getresponse()
    result.append((resp.status, resp.read()))
    conn.close()


@pytest.mark.parametrize("promoted_before_the_end", [True, False])
def test_kill_primary_in_the_middle_of_an_upload(pair, apps, promoted_before_the_end):
    """The primary dies while a 24 MiB upload streams in (the app holds no transaction
    then). The upload either ends accepted, its report whole on the promoted standby (the
    standby was promoted before the upload's end), or refused, and then nothing of it is
    stored (the upload ended while there was no primary); the report filed before is there."""
    earlier = OnionReporter(None, apps.address(1))
    earlier.new_report("Laporan sebelum kegagalan basis data utama.", [("bukti.txt", EVIDENCE)])
    earlier_id = earlier.report_id()
    r = OnionReporter(None, apps.address(0))
    r.get_codename()
    r.confirm()
    halfway, resume, result = threading.Event(), threading.Event(), []
    t = threading.Thread(target=_slow_upload,
                         args=(apps.address(0), r, 24 * 2 ** 20, halfway, resume, result))
    t.start()
    assert halfway.wait(60)
    pair.primary.kill9()
    if promoted_before_the_end:
        pair.promote()
    resume.set()
    t.join(120)
    if not promoted_before_the_end:
        pair.promote()
    [(status, body)] = result
    assert (status == 200) == promoted_before_the_end, (status, body[:300])
    kinds = apps.stored()
    assert kinds[earlier_id] == {"report", "file"}
    others = {rid: k for rid, k in kinds.items() if rid != earlier_id}
    if status == 200:
        # Accepted: whole and visible to the reporter.
        assert list(others.values()) == [{"report", "file"}], others
        assert "status-received" in r.followup().text
    else:
        # The app's own page: the database is out of reach, try again in a moment.
        assert status == 503, (status, body[:500])
        assert b"<html" in body and b"Traceback" not in body
        assert others == {}, others
    assert apps.alive()
    print(f"\nupload across the failover: HTTP {status}; reports stored besides the earlier "
          f"one: {len(others)}")


def test_inbox_bundle_numbers_across_servers_and_a_failover(pair):
    """Inbox bundle numbers taken as the gateway takes them (``sequences.take_next`` and the
    admin-log entry naming the number, in one transaction), by two servers at once, with the
    primary killed and the standby promoted half-way: every number is taken once, and the
    numbers in the log run 1..N without a gap."""
    from sqlalchemy import select

    from dropbox_app.db import make_engine, session_factory, upgrade
    from dropbox_app.gateway import adminlog, sequences
    from dropbox_app.models.gateway import AdminLogRow

    upgrade(pair.url())
    key_id = "k" * 16
    engines = [make_engine(pair.url()) for _ in range(2)]
    taken: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def take(engine) -> None:
        factory = session_factory(engine)
        while not stop.is_set():
            try:
                with factory() as db, db.begin():
                    seq = sequences.take_next(db, key_id)
                    adminlog.record(db, "2026-12-01", adminlog.SHELL, "inbox.download",
                                    {"seq": seq, "server_key": key_id, "submissions": 0})
                with lock:
                    taken.append(seq)
            except Exception as exc:
                with lock:
                    errors.append(type(exc).__name__)
                time.sleep(0.05)

    # The first number on one server, so the row exists before the two race.
    with session_factory(engines[0])() as db, db.begin():
        sequences.take_next(db, key_id)
        adminlog.record(db, "2026-12-01", adminlog.SHELL, "inbox.download",
                        {"seq": 1, "server_key": key_id, "submissions": 0})
    taken.append(1)
    threads = [threading.Thread(target=take, args=(e,), daemon=True) for e in engines * 2]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(taken) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    pair.primary.kill9()
    pair.promote()
    at_failover = len(taken)
    while len(taken) < at_failover + 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    with session_factory(engines[0])() as db:
        last = sequences.last(db, key_id, sequences.INBOX)
        logged = [e.details["seq"] for e in adminlog._load(list(
            db.scalars(select(AdminLogRow).order_by(AdminLogRow.seq))))
            if e.action == "inbox.download"]
    for e in engines:
        e.dispose()
    assert len(taken) > at_failover + 10, f"numbers after the failover: {errors[-5:]}"
    assert len(set(taken)) == len(taken), "a number was handed out twice"
    assert sorted(logged) == list(range(1, last + 1)), "gap or repeat in the logged numbers"
    assert set(taken) <= set(logged), "a number handed out is not in the database any more"
    print(f"\nbundle numbers: {len(taken)} taken on 2 servers, {at_failover} before the "
          f"failover; last {last}; {len(errors)} attempts failed during it")
