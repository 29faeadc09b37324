"""The shipped systemd units: exposure rated "OK" (2.0 or below) by systemd's own analyser, the
hardening that rating rests on actually present, and a command line the app accepts."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
APP_UNITS = ["peluit-reporter.service", "peluit-gateway.service"]
ALL_UNITS = [*APP_UNITS, "peluit-retention.service"]

needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                   reason="systemd-analyze missing (tests/install-deps.sh all)")


def exposure(unit: Path) -> float:
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


def directives(unit: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@needs_analyze
@pytest.mark.parametrize("name", ALL_UNITS)
def test_unit_is_rated_ok(name):
    assert exposure(UNITS / name) <= 2.0


@needs_analyze
def test_the_rating_can_fail(tmp_path):
    # The reference point: a unit with only the usual three options is "UNSAFE".
    weak = tmp_path / "weak.service"
    weak.write_text("[Service]\nExecStart=/bin/true\nProtectSystem=full\nPrivateTmp=yes\n"
                    "NoNewPrivileges=yes\n")
    assert exposure(weak) > 8.0


@pytest.mark.parametrize("name", ALL_UNITS)
def test_unit_keeps_temp_files_on_tmpfs_and_the_network_on_loopback(name):
    d = directives(UNITS / name)
    assert d["User"] == ["peluit"] and d["NoNewPrivileges"] == ["yes"]
    assert d["PrivateTmp"] == ["yes"] and d["TemporaryFileSystem"] == ["/var/tmp"]
    assert d["ProtectSystem"] == ["strict"] and d["ReadWritePaths"] == ["/var/lib/peluit"]
    assert d["IPAddressDeny"] == ["any"] and d["IPAddressAllow"] == ["localhost"]
    assert d["CapabilityBoundingSet"] == [""]
    assert "0.0.0.0" not in (UNITS / name).read_text()


@pytest.mark.parametrize("name, app", [(APP_UNITS[0], "reporter"), (APP_UNITS[1], "gateway")])
def test_unit_command_line_is_one_the_peluit_cli_accepts(name, app):
    from peluit.cli import build_parser

    [exec_start] = directives(UNITS / name)["ExecStart"]
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/peluit/venv/bin/peluit"
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.app, args.config) == ("serve", app, "/etc/peluit/peluit.toml")


# -- does the app still run under the hardening? ------------------------------------------------
# systemd is not PID 1 on the build machine, so the units cannot be started here. The option
# most likely to break a Python service, MemoryDenyWriteExecute, is a kernel feature of its own
# (prctl PR_SET_MDWE, Linux >= 6.3, inherited across fork and execve): the real server runs
# under it below, through a whole reporter flow (argon2, libsodium, streamed upload).

_MDWE_LAUNCHER = """
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:   # PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN
    sys.exit(77)
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""

_WX_PROBE = """
import mmap
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
except OSError:
    print("refused")
else:
    print("allowed")
"""


def test_reporter_app_runs_under_memory_deny_write_execute(tmp_path):
    import sys

    from tor.testnet import free_port

    probe = subprocess.run([sys.executable, "-c", _MDWE_LAUNCHER, "-c", _WX_PROBE],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode == 77:
        pytest.skip("kernel without PR_SET_MDWE")
    assert probe.stdout.strip() == "refused"  # the restriction is really on in the child

    port = free_port()
    data = tmp_path / "server"
    subprocess.run([sys.executable, "-m", "peluit", "init", "--data-dir", str(data),
                    "--reporter-listen", f"127.0.0.1:{port}"], check=True, capture_output=True,
                   timeout=120)
    from crypto.identity import AuditorIdentity

    card = tmp_path / "card"
    card.write_bytes(AuditorIdentity.generate("A").card().to_bytes())
    subprocess.run([sys.executable, "-m", "peluit", "auditor", "enroll", str(card), "--config",
                    str(data / "peluit.toml")], check=True, capture_output=True, timeout=120)
    proc = subprocess.Popen([sys.executable, "-c", _MDWE_LAUNCHER, "-m", "peluit", "serve",
                             "reporter", "--config", str(data / "peluit.toml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline(), proc.stderr.read()
        from bench.reporter_load import _new_reporter, _returning

        base = f"http://127.0.0.1:{port}"
        codename = _new_reporter(base, b"evidence " * 1000)
        _returning(base, codename)
        from dropbox_app.store import Store

        assert len(list(Store(data / "store").members())) == 2
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
