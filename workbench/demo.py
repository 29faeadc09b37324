"""The workbench's part of ``peluit demo`` (peluit/demo.py calls these; nothing else does).

``prepare`` makes (once) a vault in the demo data directory with one lead, a generated
passphrase kept beside it in a 0600 file — acceptable for a demonstration on one machine,
never for real use — and the server card pinned; it returns the auditor card to enroll on the
demo gateway. ``make_app`` builds the UI with the demo switch on: every page then says
NOT AIR-GAPPED."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import vault
from .fsutil import write_atomic

VAULT_DIR = "workbench-vault"
NOTE_FILE = "workbench-passphrase.txt"
NAME = "Demo Auditor"


@dataclass(frozen=True)
class DemoVault:
    path: Path
    name: str
    passphrase: str
    card: bytes | None  # the auditor card, when the vault was just made (enroll it)


def _passphrase() -> str:
    """Six words of the EFF list (diceware draws them with random.SystemRandom)."""
    from diceware import get_passphrase, handle_options
    return get_passphrase(handle_options(["-n", "6", "-d", " ", "--no-caps", "-r", "system"]))


def prepare(data_dir: Path | str, server_card: bytes, deployment_id: str) -> DemoVault:
    data_dir = Path(data_dir)
    path = data_dir / VAULT_DIR
    secret = data_dir / NOTE_FILE
    if vault.is_vault(path) and secret.is_file():
        return DemoVault(path, NAME, secret.read_text().strip(), None)
    passphrase = _passphrase()
    unlocked, card = vault.init(path, NAME, passphrase, server_card, deployment_id)
    unlocked.lock()
    write_atomic(secret, passphrase.encode() + b"\n")
    return DemoVault(path, NAME, passphrase, card.to_bytes())


def make_app(demo: DemoVault) -> Any:
    from .web import make_app as _make_app
    return _make_app(demo.path, demo_not_air_gapped=True)
