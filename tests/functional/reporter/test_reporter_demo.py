"""``peluit demo`` starts the reporter app, the gateway and the workbench on loopback, writes
demo.json with their URLs and credentials once they answer, and removes it on exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.slow


def test_demo_runs_everything_on_loopback(tmp_path):
    data = tmp_path / "demo"
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "peluit", "demo", "--data-dir", str(data),
                             "--reporter-port", "0", "--gateway-port", "0",
                             "--workbench-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "TMPDIR": str(tmp)})
    try:
        deadline = time.monotonic() + 90
        while not (data / "demo.json").exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        info = json.loads((data / "demo.json").read_text())
        assert (data / "demo.json").stat().st_mode & 0o077 == 0
        for part in ("reporter", "gateway", "workbench"):
            assert info[part].startswith("http://127.0.0.1:")
        with urllib.request.urlopen(info["reporter"]) as res:  # noqa: S310 - loopback
            page = res.read().decode()
        assert res.status == 200 and "Peluit" in page
        assert "belum menerima laporan" not in page  # the demo auditor is enrolled
        assert info["gateway_user"]["passphrase"] and info["gateway_user"]["totp_secret"]
        assert info["workbench_user"]["passphrase"]
        assert (data / "peluit.sqlite").stat().st_mode & 0o077 == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    assert not (data / "demo.json").exists()


def test_demo_refuses_a_bad_port(tmp_path):
    res = subprocess.run([sys.executable, "-m", "peluit", "demo", "--data-dir",
                          str(tmp_path / "d"), "--reporter-port", "70000"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.strip().startswith("peluit demo:") and "Traceback" not in res.stderr
