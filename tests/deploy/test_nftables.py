"""The shipped nftables ruleset: valid for nft, and saying what docs/deploy.md says it does."""

from __future__ import annotations

import pwd
import shutil
import subprocess
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "deploy" / "nftables" / "peluit.nft"


def _nft_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True,
                          timeout=30)


@pytest.fixture
def checkable(tmp_path) -> Path:
    """The ruleset as nft can check it here: nft resolves the user name at load time, and the
    app user only exists on an installed server, so the check uses a user that exists."""
    if shutil.which("nft") is None:
        pytest.skip("nft missing (tests/install-deps.sh all)")
    text = RULES.read_text()
    try:
        pwd.getpwnam("peluit")
    except KeyError:
        text = text.replace('define peluit_user = "peluit"', 'define peluit_user = "root"')
    path = tmp_path / "peluit.nft"
    path.write_text(text)
    probe = _nft_check(path)
    if probe.returncode != 0 and "Operation not permitted" in probe.stderr:
        pytest.skip("nft -c needs CAP_NET_ADMIN here")
    return path


def test_ruleset_is_valid(checkable):
    result = _nft_check(checkable)
    assert result.returncode == 0, result.stderr


def test_the_check_catches_a_broken_ruleset(checkable):
    checkable.write_text(checkable.read_text().replace("counter reject", "counter rejekt"))
    assert _nft_check(checkable).returncode != 0


def test_app_user_may_send_through_loopback_only():
    text = RULES.read_text()
    assert 'define peluit_user = "peluit"' in text
    assert 'meta skuid $peluit_user oifname != "lo" counter reject' in text
    assert 'iifname != "lo" tcp dport $app_ports counter drop' in text
    # Its own table: loading it neither flushes nor depends on the admin's other rules.
    assert "flush ruleset" not in text
