from __future__ import annotations

import re

import pytest

from tor import services


def test_torrc_has_the_required_defences(tmp_path):
    layout = services.Layout(tmp_path, 8080, 8081)
    text = services.render_torrc(layout)
    active = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "SocksPort 0" in active
    assert "ControlPort 0" in active
    assert "SafeLogging 1" in active
    assert not any(re.match(r"(SocksPort|ControlPort) (?!0$)", line) for line in active)
    assert not any(line.startswith(("Log ", "HiddenServiceExportCircuitID")) for line in active)
    # PoW on both services; each service points at loopback only.
    assert active.count("HiddenServicePoWDefensesEnabled 1") == 2
    assert f"HiddenServiceDir {tmp_path}/peluit-reporter" in active
    assert "HiddenServicePort 80 127.0.0.1:8080" in active
    assert "HiddenServicePort 80 127.0.0.1:8081" in active
    # The reporter onion closes a circuit that opens more streams than a browser needs, so one
    # circuit cannot hold every app thread with half-sent requests.
    reporter = active[active.index(f"HiddenServiceDir {tmp_path}/peluit-reporter"):]
    reporter = reporter[:next(i for i, line in enumerate(reporter[1:], 1)
                              if line.startswith("HiddenServiceDir"))]
    assert "HiddenServiceMaxStreams 10" in reporter
    assert "HiddenServiceMaxStreamsCloseCircuit 1" in reporter
    ports = [line for line in active if line.startswith("HiddenServicePort")]
    assert all(" 127.0.0.1:" in line for line in ports)


def test_layout_from_config(tmp_path):
    cfg = tmp_path / "peluit.toml"
    cfg.write_text('[reporter]\nlisten = "127.0.0.1:9000"\n[tor]\ndata_dir = "tor"\n')
    layout = services.layout_from_config(cfg)
    assert layout == services.Layout(tmp_path / "tor", 9000, 8081)
    assert services.layout_from_config(cfg, tmp_path / "x").tor_dir == tmp_path / "x"


@pytest.mark.parametrize("listen", ["0.0.0.0:8080", "10.0.0.5:8080", ":8080", "127.0.0.1:x"])
def test_non_loopback_listen_is_refused(tmp_path, listen):
    cfg = tmp_path / "peluit.toml"
    cfg.write_text(f'[gateway]\nlisten = "{listen}"\n')
    with pytest.raises(services.ServiceError, match="loopback"):
        services.layout_from_config(cfg)


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "peluit.toml"
    cfg.write_text("[tor\n")
    with pytest.raises(services.ServiceError, match="not valid TOML"):
        services.layout_from_config(cfg)
    with pytest.raises(services.ServiceError, match="cannot read"):
        services.layout_from_config(tmp_path / "missing.toml")


def test_setup_is_idempotent_and_seals_the_gateway(tmp_path):
    layout = services.Layout(tmp_path)
    services.setup(layout)
    sealed = (layout.auth_dir / "_sealed.auth").read_text()
    services.setup(layout)
    assert (layout.auth_dir / "_sealed.auth").read_text() == sealed
    for path in (layout.reporter_dir, layout.gateway_dir, layout.auth_dir):
        assert path.stat().st_mode & 0o777 == 0o700
    st = services.status(layout)
    assert st.sealed and st.clients == [] and st.reporter_address is None
    services.require_setup(layout)
    (layout.auth_dir / "_sealed.auth").unlink()
    with pytest.raises(services.ServiceError, match="sealed"):
        services.require_setup(layout)
