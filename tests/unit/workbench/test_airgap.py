from pathlib import Path

import pytest

from workbench import airgap


def _iface(root: Path, name: str, flags: str, operstate: str | None) -> None:
    d = root / name
    d.mkdir(parents=True)
    (d / "flags").write_text(flags + "\n")
    if operstate is not None:
        (d / "operstate").write_text(operstate + "\n")


def test_only_loopback_is_air_gapped(tmp_path):
    _iface(tmp_path, "lo", "0x9", "unknown")
    _iface(tmp_path, "eth0", "0x1002", "down")  # administratively down, no link
    assert airgap.interfaces_up(tmp_path) == []
    assert airgap.check(False, tmp_path) is True


@pytest.mark.parametrize(("flags", "operstate"), [
    ("0x1003", "up"),       # up with a link
    ("0x1003", "down"),     # up, no cable yet: one plug away from the network
    ("0x1002", "up"),       # link reported although not flagged up
    ("0x1002", "dormant"),
    ("garbage", "down"),    # unreadable flags: assume the worst
])
def test_any_live_interface_breaks_the_gap(tmp_path, flags, operstate):
    _iface(tmp_path, "lo", "0x9", "unknown")
    _iface(tmp_path, "wlan0", flags, operstate)
    with pytest.raises(airgap.NotAirGappedError) as exc:
        airgap.check(False, tmp_path)
    assert "wlan0" in str(exc.value)
    assert airgap.check(True, tmp_path) is False  # demo switch: allowed, but not gapped


def test_without_sysfs_the_gap_is_not_claimed(tmp_path):
    with pytest.raises(airgap.NotAirGappedError):
        airgap.check(False, tmp_path / "missing")


def _real_interfaces_up() -> list[str]:
    up = airgap.interfaces_up()
    if not up:
        pytest.skip("no network interface is up on this machine: nothing to refuse")
    return up


def test_this_machine_is_refused_for_real():
    up = _real_interfaces_up()
    with pytest.raises(airgap.NotAirGappedError) as exc:
        airgap.check(False)
    assert up[0] in str(exc.value)


def test_cli_refuses_to_start_with_a_network_interface_up(tmp_path, capsys):
    from peluit.cli import main

    _real_interfaces_up()
    code = main(["workbench", "serve", str(tmp_path / "vault")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(lines) == 1 and "refuses to start" in lines[0] and "Traceback" not in lines[0]
