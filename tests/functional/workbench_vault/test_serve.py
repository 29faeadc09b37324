"""The real server: waitress on loopback only, the banner in demo mode."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.fixtures.workbench_vault import make_vault
from workbench import airgap


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _external_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent for UDP connect
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


@pytest.mark.slow
def test_serve_binds_loopback_only_and_says_not_air_gapped(tmp_path):
    tv = make_vault(tmp_path)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "peluit", "workbench", "serve", str(tv.path), "--port", str(port),
         "--demo-not-air-gapped"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    body = r.read().decode()
                    headers = r.headers
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert airgap.BANNER in body and headers["X-Peluit-Air-Gap"] == airgap.BANNER
        external = _external_address()
        if external:
            with socket.socket() as s, pytest.raises(OSError):
                s.settimeout(2)
                s.connect((external, port))
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert airgap.BANNER in err.decode()
