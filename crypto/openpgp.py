"""OpenPGP bridge to outside agencies (KPK, Ombudsman, LPSK): python-gnupg over the real gpg.

Agency keys live in a private keyring directory that Peluit owns (mode 0700), never the user's
default ``~/.gnupg`` or ``$GNUPGHOME``. Only public keys go in, one per import: a secret key or a
file of several keys is refused before anything is imported. Encryption is to one explicit
fingerprint that a person compared with the agency out of band; compression is off (ten times
slower with it, and compressing before encrypting leaks through sizes), and the recipient key id
is hidden in the output (``--throw-keyids``). The output appears under its name only once
complete (peluit.ground.files)."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import gnupg

from peluit.ground.files import replacing

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


def _default_homes() -> set[Path]:
    homes = {Path.home() / ".gnupg"}
    if os.environ.get("GNUPGHOME"):
        homes.add(Path(os.environ["GNUPGHOME"]))
    return {h.expanduser().resolve() for h in homes}


class Keyring:
    """A private GnuPG home holding agency public keys only."""

    def __init__(self, home: str | os.PathLike[str], gpg_binary: str | None = None):
        self.home = Path(home)
        if self.home.expanduser().resolve() in _default_homes():
            raise OpenPGPError("refusing to use the default GnuPG home; give Peluit its own")
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        binary = gpg_binary or shutil.which("gpg") or "gpg"
        try:
            self._gpg = gnupg.GPG(gpgbinary=binary, gnupghome=str(self.home))
        except (OSError, ValueError, RuntimeError) as exc:
            raise OpenPGPError(f"cannot start gpg: {exc}") from None
        self._gpg.encoding = "utf-8"

    def import_key(self, armored: bytes | str) -> AgencyKey:
        """Import exactly one public key that can encrypt; refuse secret keys, files with several
        keys, and revoked or expired keys."""
        data = armored.encode("utf-8") if isinstance(armored, str) else bytes(armored)
        if len(data) > MAX_KEY_BYTES:
            raise OpenPGPError("key file too large")
        if b"PRIVATE KEY" in data:
            raise OpenPGPError("that is a private key; import the agency's public key only")
        # A dry run first: nothing reaches the keyring unless the file holds one public key.
        scanned = self._gpg.scan_keys_mem(data)
        if any(k.get("type") == "sec" for k in scanned):
            raise OpenPGPError("that is a private key; import the agency's public key only")
        if len(scanned) != 1 or scanned[0].get("type") != "pub":
            raise OpenPGPError(f"expected one public key, found {len(scanned)}")
        result = self._gpg.import_keys(data)
        if getattr(result, "sec_read", 0) or getattr(result, "sec_imported", 0):
            raise OpenPGPError("that is a private key; import the agency's public key only")
        fprs = sorted(set(result.fingerprints or []))
        if len(fprs) != 1:
            raise OpenPGPError("the file did not hold exactly one usable public key")
        key = self._listing(fprs[0])
        if key.get("trust") in ("r", "e", "i", "d") or "E" not in str(key.get("cap", "")):
            self._gpg.delete_keys(fprs[0])
            raise OpenPGPError("that key is revoked, expired or cannot encrypt")
        return self.get(fprs[0])

    def _listing(self, fpr: str) -> dict[str, object]:
        for key in self._gpg.list_keys():
            if key["fingerprint"] == fpr:
                return dict(key)
        raise OpenPGPError("no such key in the keyring")

    def get(self, fingerprint: str) -> AgencyKey:
        fpr = fingerprint.replace(" ", "").upper()
        if not _FPR.fullmatch(fpr):
            raise OpenPGPError("not a fingerprint")
        key = self._listing(fpr)
        uids = key.get("uids") or ()
        return AgencyKey(fpr, tuple(str(u) for u in uids),  # type: ignore[union-attr]
                         str(key.get("algo")), int(str(key.get("length") or 0)))

    def list(self) -> list[AgencyKey]:
        return [self.get(k["fingerprint"]) for k in self._gpg.list_keys()]

    def encrypt_stream(self, src: BinaryIO, out_path: str | os.PathLike[str], fingerprint: str,
                       armor: bool = False) -> None:
        """Encrypt ``src`` to the key with ``fingerprint`` into ``out_path`` (streamed through
        gpg; constant memory)."""
        key = self.get(fingerprint)
        with replacing(out_path) as tmp:
            result = self._gpg.encrypt_file(
                src, [key.fingerprint], output=str(tmp), armor=armor, always_trust=True,
                extra_args=["--compress-algo", "none", "--throw-keyids"],
            )
            if not result.ok:
                raise OpenPGPError(f"gpg could not encrypt: {result.status}")
