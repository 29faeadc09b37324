"""`peluit demo` as `make run` starts it: set up on first run, then the reporter app, the gateway
and the workbench UI answer on their loopback ports, the workbench says it is not air-gapped, the
printed gateway credentials sign in, and SIGTERM stops everything."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pyotp

from tests.fixtures.gateway import HttpClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, ports):
    return subprocess.Popen(
        [sys.executable, "-m", "peluit", "demo", "--data-dir", str(tmp_path / "demo"),
         "--reporter-port", str(ports[0]), "--gateway-port", str(ports[1]),
         "--workbench-port", str(ports[2]), "--language", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    proc.stdout.close()
    proc.stderr.close()


def _ready(proc) -> str:
    out = []
    for line in proc.stdout:
        out.append(line)
        if "Ctrl-C stops everything" in line:
            break
    return "".join(out)


def test_demo_sets_up_and_serves_everything(tmp_path):
    ports = [_free_port() for _ in range(3)]
    proc = _start(tmp_path, ports)
    try:
        out = []
        for line in proc.stdout:
            out.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(out)
        assert "NOT AIR-GAPPED" in text, text + proc.stderr.read()
        demo_file = tmp_path / "demo" / "demo.json"
        assert demo_file.stat().st_mode & 0o077 == 0
        demo = json.loads(demo_file.read_text())
        assert demo["urls"]["gateway"] == f"http://127.0.0.1:{ports[1]}/"
        secret, passphrase = demo["gateway"]["totp_secret"], demo["gateway"]["passphrase"]
        assert secret in text and passphrase in text
        deadline = time.monotonic() + 30
        while True:  # the workbench thread may take a moment to listen
            try:
                pages = [urllib.request.urlopen(f"http://127.0.0.1:{p}/", timeout=10).read()
                         for p in ports]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert b"NOT AIR-GAPPED" in pages[2]

        # The gateway over real HTTP, with the credentials the demo printed.
        gw = HttpClient(ports[1])
        resp, _ = gw.post_form("/login", {"csrf_token": gw.token("/login"), "username": "admin",
                                          "passphrase": passphrase,
                                          "code": pyotp.TOTP(secret).now()})
        assert resp.status == 303
        assert b"pending-count" in gw.request("GET", "/")[1]
    finally:
        _stop(proc)
    assert not demo_file.exists()  # present only while the demo serves
    proc = _start(tmp_path, ports)  # a second start: same installation, same credentials
    try:
        out = _ready(proc)
        assert passphrase in out, out + proc.stderr.read()
    finally:
        _stop(proc)


def test_demo_refuses_a_bad_workbench_port_in_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "peluit", "demo", "--data-dir",
                          str(tmp_path / "d"), "--workbench-port", "99999"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == "peluit: --workbench-port: port out of range"
    assert not (tmp_path / "d").exists()  # refused before anything was created


def test_demo_json_appears_only_when_everything_listens(tmp_path):
    ports = [_free_port() for _ in range(3)]
    with socket.socket() as taken:  # another program holds the gateway's port
        taken.bind(("127.0.0.1", ports[1]))
        taken.listen()
        res = subprocess.run(
            [sys.executable, "-m", "peluit", "demo", "--data-dir", str(tmp_path / "demo"),
             "--reporter-port", str(ports[0]), "--gateway-port", str(ports[1]),
             "--workbench-port", str(ports[2])], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("peluit: cannot listen")
    assert not (tmp_path / "demo" / "demo.json").exists()  # a script waiting for it keeps waiting
