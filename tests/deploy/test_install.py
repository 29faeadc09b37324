"""deploy/install.sh, run for real with PELUIT_SYSTEM=0 (everything but packages, users,
systemd, nftables and the tor restart) under a temporary root."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dropbox_app.config import load

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "install.sh"


def _install(root: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PELUIT_ROOT=str(root), PELUIT_SYSTEM="0",
               PELUIT_VENV=sys.prefix, PELUIT_SKIP_PIP="1",
               PELUIT_REPORTER_LISTEN="127.0.0.1:9080", PELUIT_GATEWAY_LISTEN="127.0.0.1:9081")
    return subprocess.run(["sh", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    result = _install(root)
    assert result.returncode == 0, result.stderr
    return root, result.stdout


def test_configuration_with_fresh_secrets_in_the_data_directory(installed):
    root, _ = installed
    config = root / "etc/peluit/peluit.toml"
    cfg = load(config)
    data = root / "var/lib/peluit"
    assert cfg.store_dir == data / "store" and cfg.salt_file.parent == data / "secrets"
    assert cfg.database_url == f"sqlite:///{data}/peluit.sqlite"
    assert cfg.tor_data_dir == root / "var/lib/tor"
    assert len(cfg.salt()) == 32 and re.fullmatch(r"[0-9a-f]{32}", cfg.deployment_id)
    for secret in (cfg.salt_file, cfg.server_key_file):
        assert secret.stat().st_mode & 0o777 == 0o600
    assert config.stat().st_mode & 0o777 == 0o640
    assert not (data / "peluit.toml").exists()
    from crypto.identity import ServerKey

    ServerKey.from_bytes(cfg.server_key_file.read_bytes())  # a real key


def test_database_is_migrated(installed):
    root, _ = installed
    from dropbox_app.db import current_revision, head_revision

    cfg = load(root / "etc/peluit/peluit.toml")
    assert current_revision(cfg.database_url) == head_revision()


def test_torrc_is_accepted_by_tor(installed, tmp_path):
    root, _ = installed
    if shutil.which("tor") is None:
        pytest.skip("tor missing (tests/install-deps.sh all)")
    torrc = root / "etc/tor/torrc"
    assert f"HiddenServiceDir {root}/var/lib/tor/peluit-gateway" in torrc.read_text()
    assert "HiddenServicePort 80 127.0.0.1:9080" in torrc.read_text()
    assert (root / "var/lib/tor/peluit-gateway/authorized_clients/_sealed.auth").exists()
    result = subprocess.run(["tor", "--verify-config", "-f", str(torrc),
                             "--DataDirectory", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-2000:]


def test_summary_says_what_to_do_next(installed):
    _, out = installed
    for step in ("auditor enroll", "gateway-user add", "tor add-client", "server-key show",
                 "backup", "db upgrade"):
        assert step in out


def test_running_again_keeps_every_secret(installed):
    root, _ = installed
    config = root / "etc/peluit/peluit.toml"
    before = load(config)
    salt, key = before.salt(), before.server_key_file.read_bytes()
    result = _install(root)
    assert result.returncode == 0, result.stderr
    assert "keeping" in result.stdout
    after = load(config)
    assert after.deployment_id == before.deployment_id
    assert after.salt() == salt and after.server_key_file.read_bytes() == key


def test_script_is_valid_sh_and_ships_what_it_installs():
    assert subprocess.run(["sh", "-n", str(SCRIPT)]).returncode == 0
    if shutil.which("shellcheck"):
        assert subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)]).returncode == 0
    for ref in re.findall(r'"\$SRC/(deploy/[^"]+)"', SCRIPT.read_text()):
        assert (REPO / ref).is_file(), ref


def test_units_journald_and_firewall_are_installed_for_the_configured_ports(installed, tmp_path):
    root, _ = installed
    cfg = load(root / "etc/peluit/peluit.toml")
    assert (str(cfg.reporter_listen), str(cfg.gateway_listen)) == ("127.0.0.1:9080",
                                                                    "127.0.0.1:9081")
    units = root / "etc/systemd/system"
    for unit in ("peluit-reporter.service", "peluit-gateway.service",
                 "peluit-retention.service", "peluit-retention.timer"):
        assert (units / unit).read_bytes() == (REPO / "deploy/systemd" / unit).read_bytes()
    journald = (root / "etc/systemd/journald.conf.d/peluit.conf").read_text()
    assert "Storage=volatile" in journald
    rules = (root / "etc/nftables.d/peluit.nft").read_text()
    assert "define app_ports = { 9080, 9081 }" in rules
    if shutil.which("nft"):
        import pwd

        try:
            pwd.getpwnam("peluit")
        except KeyError:
            rules = rules.replace('"peluit"', '"root"')
        check = tmp_path / "check.nft"
        check.write_text(rules)
        result = subprocess.run(["nft", "-c", "-f", str(check)], capture_output=True, text=True)
        assert result.returncode == 0 or "Operation not permitted" in result.stderr, result.stderr
