"""The apps listen on loopback only and refuse to start bound anywhere else, whatever the
configuration says. Started for real with `peluit serve`; the port must stay closed."""

from __future__ import annotations

import socket
import subprocess
import sys

import psutil
import pytest

from tor.testnet import free_port


def _public_address() -> str:
    """A non-loopback address of this machine (one the app could really bind), else TEST-NET."""
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family == socket.AF_INET and not a.address.startswith("127."):
                return a.address
    return "192.0.2.1"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    data = tmp_path_factory.mktemp("deployment")
    port = free_port()
    subprocess.run([sys.executable, "-m", "peluit", "init", "--data-dir", str(data),
                    "--reporter-listen", f"127.0.0.1:{port}"],
                   check=True, capture_output=True, timeout=120)
    return data / "peluit.toml", port


def _with_listen(config, tmp_path, app: str, listen: str):
    text = config.read_text()
    section = f"[{app}]\n"
    head, _, tail = text.partition(section)
    rest = tail.split("\n", 1)[1] if tail.startswith("listen") else tail
    out = tmp_path / "peluit.toml"
    out.write_text(head + section + f'listen = "{listen}"\n' + rest)
    for name in ("secrets", "store", "peluit.sqlite"):
        (tmp_path / name).symlink_to(config.parent / name)
    return out


@pytest.mark.parametrize("app, host", [
    ("reporter", "0.0.0.0"), ("reporter", "::"), ("reporter", "public"),
    ("gateway", "0.0.0.0"), ("gateway", "public")])
def test_serve_refuses_a_non_loopback_bind(deployment, tmp_path, app, host):
    deployment = deployment[0]
    port = free_port()
    if host == "public":
        host = _public_address()
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    config = _with_listen(deployment, tmp_path, app, listen)
    result = subprocess.run([sys.executable, "-m", "peluit", "serve", app, "--config",
                             str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "loopback" in result.stderr or "not an IP address" in result.stderr
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_init_refuses_a_public_listen(tmp_path):
    result = subprocess.run([sys.executable, "-m", "peluit", "init", "--data-dir",
                             str(tmp_path / "d"), "--reporter-listen", "0.0.0.0:8080"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "loopback" in result.stderr


def test_server_refuses_a_public_bind_even_without_the_config_check():
    from dropbox_app.config import ConfigError, Listen
    from dropbox_app.server import make_server

    for host in ("0.0.0.0", _public_address()):
        with pytest.raises(ConfigError, match="loopback"):
            make_server(lambda e, s: [], Listen(host, 0), 1024)


def test_loopback_is_accepted(deployment):
    # The control case: the same command with a loopback address starts.
    deployment, port = deployment
    proc = subprocess.Popen([sys.executable, "-m", "peluit", "serve", "reporter", "--config",
                             str(deployment)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert f"listening on http://127.0.0.1:{port}/" in proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
