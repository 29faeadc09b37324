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
