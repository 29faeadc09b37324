"""`peluit tor ... --frontend` and `peluit tor frontend-config`: the glue between Peluit's
onion services and Onionbalance (tor/onionbalance.py)."""

from __future__ import annotations

import json

import pytest

from peluit.cli import main
from tor import onionbalance, services

FRONT = "a" * 56 + ".onion"
BACK1, BACK2 = "b" * 56 + ".onion", "c" * 56 + ".onion"


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_backend_torrc_and_ob_config(tmp_path, capsys):
    code, _, _ = _run(capsys, "tor", "setup", "--tor-dir", str(tmp_path), "--frontend", FRONT)
    assert code == 0
    layout = services.Layout(tmp_path)
    assert (layout.reporter_dir / "ob_config").read_text() == f"MasterOnionAddress {FRONT}\n"
    assert (layout.reporter_dir / "ob_config").stat().st_mode & 0o777 == 0o600
    code, out, _ = _run(capsys, "tor", "torrc", "--tor-dir", str(tmp_path), "--frontend", FRONT,
                        "--no-gateway")
    assert code == 0
    assert "HiddenServiceOnionbalanceInstance 1" in out
    assert str(layout.reporter_dir) in out and str(layout.gateway_dir) not in out
    # The single-server torrc is unchanged: no instance line, the gateway is there.
    code, out, _ = _run(capsys, "tor", "torrc", "--tor-dir", str(tmp_path))
    assert "Onionbalance" not in out and str(layout.gateway_dir) in out


def test_frontend_config_lists_the_key_and_backends(key, capsys):
    code, out, err = _run(capsys, "tor", "frontend-config", "--key", str(key),
                          "--backend", BACK1, "--backend", BACK2.removesuffix(".onion"))
    assert code == 0
    data = json.loads(out.split("\n", 1)[1])  # JSON is YAML: what onionbalance reads
    [svc] = data["services"]
    assert svc["key"] == str(key)
    assert [i["address"] for i in svc["instances"]] == ["b" * 56, "c" * 56]
    assert onionbalance.frontend_address(key) in err


@pytest.mark.parametrize("backends", [["nonsense"], [BACK1, BACK1]])
def test_bad_backends_are_refused(key, capsys, backends):
    args = [a for b in backends for a in ("--backend", b)]
    code, _, err = _run(capsys, "tor", "frontend-config", "--key", str(key), *args)
    assert code != 0 and "Traceback" not in err


def test_a_key_that_is_not_a_frontend_key_is_refused(tmp_path, capsys):
    bad = tmp_path / "x.key"
    bad.write_text("not a key")
    code, _, err = _run(capsys, "tor", "frontend-config", "--key", str(bad), "--backend", BACK1)
    assert code != 0 and "PEM" in err
