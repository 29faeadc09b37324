"""OpenPGP bridge to outside agencies (KPK, Ombudsman, LPSK): python-gnupg over the real gpg.

Agency keys live in a private keyring directory that Peluit owns (mode 0700), never the user's
default ``~/.gnupg``. Encryption is to one explicit fingerprint that a person compared with the
agency out of band; compression is off (an OpenPGP path with compression is ten times slower,
and compressing before encrypting leaks through sizes)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import gnupg

from .errors import OpenPGPError

MAX_KEY_BYTES = 1024 * 1024
_FPR = re.compile(r"^[0-9A-F]{40}$|^[0-9A-F]{64}$")


@dataclass(frozen=True)
class AgencyKey:
    fingerprint: str
    uids: tuple[str, ...]
    algorithm: str
    length: int

    @property
    def grouped(self) -> str:
        """The fingerprint in groups of four, the way gpg prints it, for reading aloud."""
        return " ".join(self.fingerprint[i:i + 4] for i in range(0, len(self.fingerprint), 4))


class Keyring:
    def __init__(self, home: str | os.PathLike[str], gpg_binary: str | None = None):
        self.home = Path(home)
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        binary = gpg_binary or shutil.which("gpg") or "gpg"
        try:
            self._gpg = gnupg.GPG(gpgbinary=binary, gnupghome=str(self.home))
        except (OSError, ValueError) as exc:
            raise OpenPGPError(f"cannot start gpg: {exc}") from None
        self._gpg.encoding = "utf-8"

    def import_key(self, armored: bytes | str) -> AgencyKey:
        """Import exactly one public key; refuse secret keys and bundles of several keys."""
        data = armored.encode("utf-8") if isinstance(armored, str) else armored
        if len(data) > MAX_KEY_BYTES:
            raise OpenPGPError("key file too large")
        if b"PRIVATE KEY" in data:
            raise OpenPGPError("that is a private key; import the agency's public key only")
        scanned = self._gpg.scan_keys_mem(data) if hasattr(self._gpg, "scan_keys_mem") else None
        if scanned is not None and len(scanned) != 1:
            raise OpenPGPError(f"expected one public key, found {len(scanned)}")
        result = self._gpg.import_keys(data)
        fprs = sorted(set(result.fingerprints or []))
        if len(fprs) != 1:
            raise OpenPGPError("the file did not hold exactly one usable public key")
        return self.get(fprs[0])

    def get(self, fingerprint: str) -> AgencyKey:
        fpr = fingerprint.replace(" ", "").upper()
        if not _FPR.match(fpr):
            raise OpenPGPError("not a fingerprint")
        for key in self._gpg.list_keys():
            if key["fingerprint"] == fpr:
                return AgencyKey(fpr, tuple(key.get("uids") or ()), str(key.get("algo")),
                                 int(key.get("length") or 0))
        raise OpenPGPError("no such key in the keyring")

    def list(self) -> list[AgencyKey]:
        return [self.get(k["fingerprint"]) for k in self._gpg.list_keys()]

    def encrypt_stream(self, src: BinaryIO, out_path: str | os.PathLike[str], fingerprint: str,
                       armor: bool = False) -> None:
        """Encrypt ``src`` to the key with ``fingerprint`` into ``out_path``."""
        key = self.get(fingerprint)
        result = self._gpg.encrypt_file(
            src, [key.fingerprint], output=str(out_path), armor=armor, always_trust=True,
            extra_args=["--compress-algo", "none", "--throw-keyids"],
        )
        if not result.ok:
            try:
                os.unlink(out_path)
            except FileNotFoundError:
                pass
            raise OpenPGPError(f"gpg could not encrypt: {result.status}")
