"""Several reporter backends behind one onion address, with Onionbalance (docs/scaling.md).

Onionbalance (PyPI's ``onionbalance``, 0.2.4: the version the probe of our test network ran,
newer than Debian 12's 0.2.2, and installed with pip into the same venv as the tests) runs on
a management host next to a tor client, holds the frontend key, fetches every backend's
descriptor and publishes one frontend descriptor carrying their introduction points. What
Peluit adds is only the glue an admin would otherwise type by hand:

- each backend's reporter service directory gets an ``ob_config`` naming the frontend
  address (``peluit tor setup --frontend``) and its torrc ``HiddenServiceOnionbalanceInstance
  1`` (``peluit tor torrc --frontend``);
- Onionbalance's ``config.yaml`` lists the frontend key and the backends' addresses
  (``peluit tor frontend-config``); removing a backend is writing it again without that
  address and sending Onionbalance SIGHUP.

The frontend key itself is made by Onionbalance's own ``onionbalance-config``."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

OB_CONFIG = "ob_config"
_ONION = re.compile(r"^[a-z2-7]{56}\.onion$")


class BalanceError(ValueError):
    """Bad address or key; the message says what to fix."""


def check_onion(address: str) -> str:
    address = address.strip().lower()
    if not address.endswith(".onion"):
        address += ".onion"
    if not _ONION.match(address):
        raise BalanceError(f"{address!r} is not a v3 onion address")
    return address


def write_ob_config(hs_dir: Path, frontend: str) -> Path:
    """The file tor reads (before it starts) to accept introductions for ``frontend`` on the
    backend service in ``hs_dir``. Owned like ``hs_dir`` (tor's user)."""
    path = hs_dir / OB_CONFIG
    path.write_text(f"MasterOnionAddress {check_onion(frontend)}\n", encoding="ascii")
    st = hs_dir.stat()
    if (path.stat().st_uid, path.stat().st_gid) != (st.st_uid, st.st_gid):
        os.chown(path, st.st_uid, st.st_gid)
    path.chmod(0o600)
    return path


def frontend_address(key_file: Path) -> str:
    """The onion address of a frontend key as ``onionbalance-config`` writes it (PEM, PKCS#8
    Ed25519)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from stem.descriptor.hidden_service import HiddenServiceDescriptorV3

    try:
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
    except OSError as exc:
        raise BalanceError(f"cannot read {key_file}: {exc.strerror}") from None
    except ValueError:
        raise BalanceError(f"{key_file} is not a PEM private key (make it with "
                           "onionbalance-config)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BalanceError(f"{key_file} is not an Ed25519 key")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return HiddenServiceDescriptorV3.address_from_identity_key(raw)


def render_config(key_file: Path, backends: Iterable[str]) -> str:
    """Onionbalance's config.yaml for one frontend over ``backends``. JSON is YAML, and needs
    no YAML library here."""
    names = [check_onion(b) for b in backends]
    if not names:
        raise BalanceError("at least one backend address is needed")
    if len(set(names)) != len(names):
        raise BalanceError("a backend address is listed twice")
    data = {"services": [{
        "key": str(key_file),
        "instances": [{"address": a.removesuffix(".onion"), "name": f"backend{i + 1}"}
                      for i, a in enumerate(names)]}]}
    return ("# Onionbalance config, written by `peluit tor frontend-config`; after a change, "
            "send onionbalance SIGHUP.\n" + json.dumps(data, indent=2) + "\n")
