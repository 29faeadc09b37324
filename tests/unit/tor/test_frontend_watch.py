"""`peluit tor frontend-watch` (tor/frontend_watch.py): when a backend is taken out of
Onionbalance's config.yaml and put back, that the file is always whole, and that a probe is a
"no" on any failure. The probes through a real Tor network are in
tests/scale/test_onionbalance.py."""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from peluit.cli import main
from tor import frontend_watch

BACK1, BACK2, BACK3 = ("b" * 56 + ".onion", "c" * 56 + ".onion", "d" * 56 + ".onion")


def _listed(config) -> list[str]:
    text = config.read_text()
    data = json.loads(text[text.index("{"):])
    return [i["address"] + ".onion" for i in data["services"][0]["instances"]]


@pytest.fixture
def watcher(tmp_path, key):
    reloads = []
    w = frontend_watch.Watcher(key, [BACK1, BACK2, BACK3], tmp_path / "config.yaml",
                               lambda: reloads.append(_listed(tmp_path / "config.yaml")),
                               failures=3, recoveries=2)
    w.write(w.listed)
    w.reloads = reloads
    return w


def test_a_backend_is_taken_out_after_n_failures_in_a_row_and_put_back(watcher):
    # Two failures, an answer, two failures: never three in a row, so it stays.
    for ok in (False, False, True, False, False):
        assert not watcher.record({BACK1: True, BACK2: ok, BACK3: True})
    assert watcher.reloads == []
    assert watcher.record({BACK1: True, BACK2: False, BACK3: True})  # third in a row
    assert _listed(watcher.config) == [BACK1, BACK3] == watcher.reloads[-1]
    assert not watcher.record({BACK1: True, BACK2: True, BACK3: True})  # one answer: not yet
    assert watcher.record({BACK1: True, BACK2: True, BACK3: True})
    assert _listed(watcher.config) == [BACK1, BACK2, BACK3] == watcher.reloads[-1]
    assert len(watcher.reloads) == 2


def test_the_last_listed_backend_is_never_taken_out(watcher):
    for _ in range(3):
        watcher.record({BACK1: False, BACK2: False, BACK3: True})
    assert _listed(watcher.config) == [BACK3]
    for _ in range(5):
        watcher.record({BACK1: False, BACK2: False, BACK3: False})
    assert _listed(watcher.config) == [BACK3]
    assert len(watcher.reloads) == 1
    # The one listed fails, another comes back: the one that answers is listed with it, and
    # the failing one goes once another is there.
    watcher.record({BACK1: True, BACK2: False, BACK3: False})
    watcher.record({BACK1: True, BACK2: False, BACK3: False})
    assert _listed(watcher.config) == [BACK1]


def test_the_config_is_replaced_whole_and_keeps_its_mode(watcher):
    watcher.config.chmod(0o640)
    for _ in range(3):
        watcher.record({BACK1: False, BACK2: True, BACK3: True})
    assert watcher.config.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in watcher.config.parent.iterdir()
            if p.name.startswith(".config")] == []


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_the_config_keeps_its_owner_so_onionbalance_can_still_read_it(watcher):
    os.chown(watcher.config, 65534, 65534)  # Onionbalance's own user, say
    watcher.config.chmod(0o640)
    for _ in range(3):
        watcher.record({BACK1: False, BACK2: True, BACK3: True})
    st = watcher.config.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o640)


def test_a_probe_is_a_no_on_a_closed_socks_port_and_on_a_silent_one():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert frontend_watch.probe(BACK1, ("127.0.0.1", closed), timeout=5) is False
    # A SOCKS port that accepts and never answers (tor stuck on a dead introduction point):
    # the probe gives up at its timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    held = []
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    try:
        t0 = time.monotonic()
        assert frontend_watch.probe(BACK1, silent.getsockname(), timeout=1) is False
        assert time.monotonic() - t0 < 10
    finally:
        silent.close()
        for conn, _ in held:
            conn.close()


@pytest.mark.parametrize("args,message", [
    (["--socks", "9050"], "HOST:PORT"),
    (["--failures", "0"], "at least 1"),
    (["--backend", "nope"], "not a v3 onion address"),
])
def test_bad_options_are_refused(key, tmp_path, capsys, args, message):
    code = main(["tor", "frontend-watch", "--key", str(key), "--backend", BACK1,
                 "--config-file", str(tmp_path / "config.yaml"), "--reload", "true", *args])
    assert code != 0
    assert message in capsys.readouterr().err
    assert not (tmp_path / "config.yaml").exists()
