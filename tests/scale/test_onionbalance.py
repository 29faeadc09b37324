"""Two reporter backends behind one Onionbalance frontend address, on a private Tor network of
their own (tests/fixtures/balanced.py): each backend its own tor and its own ``peluit serve
reporter``, one PostgreSQL database, one store. One network for the whole module; the tests
run in order and share its state (the killed backend stays dead until the last test revives
it). `peluit tor frontend-watch` runs from the kill on, as on the management host.

Run alone: ``flock /tmp/peluit-heavy.lock pytest -m scale tests/scale/test_onionbalance.py``.
The figures (failover times, what the frontend descriptor carries) are printed (``-s``)."""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from crypto.envelope import open_bytes
from crypto.identity import AuditorIdentity
from tests.fixtures.balanced import _peluit, balanced
from tests.fixtures.onion_reporter import OnionReporter
from tor import testnet

pytestmark = [pytest.mark.scale, pytest.mark.tor, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.timeout(900)]

WHAT = "Kepala bagian pengadaan meminta 10% dari setiap nilai kontrak."
EVIDENCE = b"Kontrak 17/2026: 10% untuk kepala bagian.\n" * 200


@contextlib.contextmanager
def _started(url: str):
    """The set-up, started; a private network whose tor exits while it starts is made again
    once. In one full-suite CI run (and never alone, in about twenty runs) a relay exited with
    status 1 before writing its log; its console output now says why (tor/testnet.py). A
    second failure skips the module with that output, not every test with an error."""
    failures = []
    for _attempt in range(2):
        cm = balanced(url)
        try:
            b = cm.__enter__()
        except testnet.TorNetworkError as exc:
            failures.append(str(exc))
            continue
        try:
            yield b
        finally:
            cm.__exit__(None, None, None)
        return
    pytest.skip("the private Tor network did not start, twice: " + " | ".join(failures))


@pytest.fixture(scope="module")
def bal(postgres_server, tmp_path_factory):
    import logging

    logging.getLogger("stem").setLevel(logging.WARNING)
    db = postgres_server.create_database()
    with _started(postgres_server.url(db)) as b:
        auditor = AuditorIdentity.generate("Auditor Satu")
        card = b.base / "auditor.card"
        card.write_bytes(auditor.card().to_bytes())
        _peluit("auditor", "enroll", str(card), "--config", str(b.backends[0].config))
        b.auditor = auditor
        b.state = {}
        b.fresh = b.network.start_client("fresh")  # a reporter's Tor that never saw the address
        b.network.wait_for_bootstrap(b.fresh.process)
        print(f"\nset-up: {({k: round(v, 1) for k, v in b.startup_seconds.items()})}")
        yield b


def _intro_keys(inner) -> set[str]:
    """Each introduction point's encryption key: the service's own, one per introduction point
    (the onion key is the relay's, and two backends may pick the same relay)."""
    return {ip.enc_key_raw for ip in inner.introduction_points}


def _inner_lines(inner) -> list[str]:
    """The frontend descriptor's inner layer without the introduction points' key blobs."""
    head = str(inner).split("introduction-point", 1)[0]
    return [line for line in head.splitlines() if line.strip()]


def _served_by(bal, fn):
    """Run ``fn`` and tell which live backend had a new rendezvous circuit for it."""
    live = [b for b in bal.backends if b.tor.process.poll() is None]
    before = {b.name: b.rend_circuits() for b in live}
    result = fn()
    new = [b for b in live if b.rend_circuits() - before[b.name]]
    return result, new


def _stored_reports(bal) -> dict[str, dict[str, object]]:
    cfg_url = _database_url(bal)
    engine = create_engine(cfg_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT report_id, member FROM submissions")).all()
    finally:
        engine.dispose()
    from dropbox_app.config import load

    store = load(bal.backends[0].config).store_dir
    out: dict[str, dict[str, object]] = {}
    for report_id, member in rows:
        meta, body = open_bytes((store / member).read_bytes(), [bal.auditor.box])
        out.setdefault(report_id, {})[meta["kind"]] = body
    return out


def _database_url(bal) -> str:
    from dropbox_app.config import load

    return load(bal.backends[0].config).database_url


def test_frontend_descriptor_lists_both_backends_and_no_pow_params(bal):
    """What the frontend descriptor carries: the backends' introduction points (two of each),
    and NOT their proof-of-work parameters. Onionbalance 0.2.4 (and stem 1.8) have no PoW
    code: a client reaching the service by the frontend address gets no effort suggestion,
    so the PoW defence does not protect the frontend address (docs/scaling.md). When a newer
    Onionbalance carries ``pow-params``, this test fails: update the docs and invert it."""
    _, front = bal.frontend_descriptor()
    backs = {b.name: bal.backend_descriptor(b)[1] for b in bal.backends}
    for name, inner in backs.items():
        assert any(line.startswith("pow-params v1 ") for line in str(inner).splitlines()), \
            f"{name}: the backend's own descriptor has no pow-params"
    keys = _intro_keys(front)
    per_backend = {name: len(keys & _intro_keys(inner)) for name, inner in backs.items()}
    assert all(n >= 1 for n in per_backend.values()), per_backend
    assert keys <= set().union(*(_intro_keys(i) for i in backs.values()))
    lines = _inner_lines(front)
    assert not any(line.startswith("pow-params") for line in str(front).splitlines())
    print(f"\nfrontend descriptor, inner layer: {lines}; {len(keys)} introduction points "
          f"{per_backend}; backends' own descriptors: "
          + "; ".join(f"{n}: " + next(ln for ln in str(i).splitlines()
                                      if ln.startswith("pow-params"))
                      for n, i in backs.items()))


def test_reporter_files_a_report_through_the_frontend(bal):
    r = OnionReporter(bal.anon.socks_port, bal.frontend)
    codename, served = _served_by(bal, lambda: r.new_report(WHAT, [("bukti.txt", EVIDENCE)]))
    rid = r.report_id()
    assert len(served) == 1, f"served by {[b.name for b in served]}"
    stored = _stored_reports(bal)[rid]
    assert json.loads(stored["report"])["what"] == WHAT
    assert stored["file"] == EVIDENCE
    bal.state.update(codename=codename, report_id=rid, first=served[0])
    print(f"\nreport filed through the frontend, served by {served[0].name}")


def _time_to_reach(client, address: str, budget: float, out: dict, key: str) -> None:
    t0 = time.monotonic()
    tries = 0
    while time.monotonic() - t0 < budget:
        tries += 1
        r = OnionReporter(client.socks_port, address, timeout=30)
        try:
            r.request("GET", "/")
            out[key] = (time.monotonic() - t0, tries)
            return
        except Exception:  # noqa: S110 - any failure: try again with a new circuit
            pass
        finally:
            r.close()
        time.sleep(0.2)
    out[key] = (None, tries)


# The watcher's settings on the test network: a round every 3 s, a probe given 20 s, out after
# 3 failed probes in a row (tor replaces introduction points every 10-30 s here, so a live
# backend's probe fails now and then: 2 in a row were seen), back after 2 answers.
WATCH = ("--interval", "3", "--timeout", "20", "--failures", "3", "--recoveries", "2")


def _watch_rounds(bal) -> list[str]:
    return [line for line in bal.watch_log.read_text(errors="replace").splitlines()
            if line.startswith("probes: ")]


def test_backend_killed_new_and_cached_clients_reach_the_other(bal):
    """The backend that served the report dies (tor and app server, SIGKILL), with the health
    watcher (`peluit tor frontend-watch`) running on the management host. A reporter whose Tor
    already holds the frontend descriptor, and one whose Tor never fetched it, both reach the
    service through the other backend; timed from the kill."""
    first = bal.state["first"]
    survivor = next(b for b in bal.backends if b is not first)
    bal.start_watcher(*WATCH)
    deadline = time.monotonic() + 90
    while not any(" FAILED" not in r for r in _watch_rounds(bal)):
        assert bal.watcher.poll() is None, bal.watch_log.read_text()
        assert time.monotonic() < deadline, f"no round with every backend answering: " \
                                            f"{_watch_rounds(bal)[-3:]}"
        time.sleep(1)
    assert bal.listed_backends() == bal.backends
    bal.state["dead_keys"] = _intro_keys(bal.backend_descriptor(first)[1])
    bal.state["killed_at"] = time.monotonic()
    bal.state["killed_wall"] = time.time()
    first.kill()
    out: dict[str, tuple] = {}
    threads = [threading.Thread(target=_time_to_reach, args=(c, bal.frontend, 180, out, k))
               for c, k in ((bal.anon, "cached"), (bal.fresh, "new"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    bal.state["failover"] = out
    print(f"\nfailover after kill of {first.name}, watcher running: client holding the frontend "
          f"descriptor {out['cached'][0]} s ({out['cached'][1]} tries); new client "
          f"{out['new'][0]} s ({out['new'][1]} tries)")
    assert out["cached"][0] is not None and out["new"][0] is not None, out
    bal.state["survivor"] = survivor


def test_reporter_who_started_on_the_dead_backend_follows_up_through_the_other(bal):
    from urllib3.exceptions import TimeoutError as HttpTimeout

    survivor = bal.state["survivor"]

    def follow_up() -> OnionReporter:
        # A client that still holds a descriptor naming the dead backend's introduction points
        # can hang on one of them (seen once in CI: 90 s without an answer). A reporter then
        # asks Tor Browser for a new circuit for the site and tries again: so does this test,
        # once (NEWNYM, which also drops the cached descriptor, and a new SOCKS identity).
        for attempt in (1, 2):
            r = OnionReporter(bal.anon.socks_port, bal.frontend)
            try:
                r.login(bal.state["codename"])
                page = r.followup()
                assert "status-received" in page.text
                r.message("Tambahan: rapat pembagian dilakukan setiap Jumat.")
                return r
            except HttpTimeout:
                if attempt == 2:
                    raise
                print(f"\nfollow-up attempt {attempt} hung; new circuit")
                bal.anon.forget_onion_descriptors()
        raise AssertionError("unreachable")

    r, served = _served_by(bal, follow_up)
    assert served == [survivor], [b.name for b in served]
    assert r.report_id() == bal.state["report_id"]
    stored = _stored_reports(bal)[bal.state["report_id"]]
    assert "message" in stored, sorted(stored)


def test_watcher_takes_the_dead_backend_out_of_the_frontend_descriptor(bal):
    """The watcher's probes of the killed backend's own address fail; after 3 in a row it
    writes config.yaml without it and sends Onionbalance SIGHUP, and the frontend descriptor
    that follows lists none of its introduction points. Timed from the kill."""
    first, survivor = bal.state["first"], bal.state["survivor"]
    dead_keys, killed_at = bal.state["dead_keys"], bal.state["killed_at"]
    deadline = time.monotonic() + 90
    while bal.listed_backends() != [survivor]:
        assert bal.watcher.poll() is None, bal.watch_log.read_text()
        assert time.monotonic() < deadline, f"still listed: {_watch_rounds(bal)[-5:]}"
        time.sleep(0.5)
    # When the watcher wrote it (the file's mtime): this test starts polling only once the
    # clients' timings above are done, which may be 30 s after the kill.
    dropped = bal.ob_config.stat().st_mtime - bal.state["killed_wall"]
    looked = time.monotonic() - killed_at
    while True:
        _, front = bal.frontend_descriptor(bal.fresh)
        keys = _intro_keys(front)
        if not keys & dead_keys and keys:
            break
        assert time.monotonic() < deadline + 60, "the dead backend is still in the frontend"
        time.sleep(2)
    gone = time.monotonic() - killed_at
    rounds = _watch_rounds(bal)
    print("\nwatcher rounds up to now: " + " | ".join(r.removeprefix("probes: ")
                                                     for r in rounds[-8:]))
    bal.state["dropped_at"] = time.monotonic()
    # Not asserted: that every key left is in the survivor's current descriptor. On a test
    # network tor replaces introduction points every 10-30 s, and the frontend descriptor
    # lags behind by one Onionbalance fetch cycle or more.
    print(f"\nwatcher took {first.name} out of config.yaml {dropped:.1f} s after the kill; "
          f"the frontend descriptor listed none of its introduction points {gone:.1f} s after "
          f"the kill, when first looked at {looked:.1f} s after it ({len(keys)} introduction "
          f"points left, of {survivor.name})")


def test_watcher_puts_a_revived_backend_back(bal):
    """The killed backend comes back (same keys, its tor and app server started again): after
    2 answered probes the watcher lists it again, and it serves through its own address."""
    from tests.fixtures.balanced import wait_until_reachable

    first = bal.state["first"]
    t0 = time.monotonic()
    first.revive()
    deadline = t0 + 150
    while first not in bal.listed_backends():
        assert bal.watcher.poll() is None, bal.watch_log.read_text()
        assert time.monotonic() < deadline, f"not put back: {_watch_rounds(bal)[-5:]}"
        time.sleep(0.5)
    back = time.monotonic() - t0
    assert bal.listed_backends() == bal.backends
    wait_until_reachable(bal.fresh, first.address, 60)
    print(f"\nwatcher put {first.name} back into config.yaml {back:.1f} s after its tor and "
          f"app server started again")
