"""What an auditor blacked out in a case before it leaves: page regions of its safe copies and
phrases of its text.

Kept per case as one envelope sealed to the vault's own key pair, at ``redactions/<case
id>.env``, naming its case inside (so one case's redactions cannot stand in for another's), and
never written in clear (a phrase to black out is typically the reporter's name). The safe copies
themselves stay as they were made: the auditor reads the whole page, and what leaves is rebuilt
from it with these redactions burnt in (``workbench.safecopy.redact``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey

from crypto.errors import AuthenticationError
from workbench import sealedfiles
from workbench.safecopy.redact import MAX_REGIONS, Region, clean_phrases

DIR = "redactions"
MAX_BYTES = 1024 * 1024
_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Redactions:
    phrases: list[str] = field(default_factory=list)
    regions: dict[str, list[Region]] = field(default_factory=dict)  # submission id → regions

    def of(self, submission_id: str) -> list[Region]:
        return list(self.regions.get(submission_id, []))

    def to_json(self) -> bytes:
        return json.dumps({"phrases": self.phrases, "regions": {
            sid: [[r.page, r.left, r.top, r.right, r.bottom] for r in rs]
            for sid, rs in self.regions.items() if rs}}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Redactions:
        # Whoever can write the vault folder can seal a file to the vault's public key, so a
        # well-sealed file may still hold anything: every shape error is "damaged", never a 500.
        try:
            doc = json.loads(data)
            regions = {}
            for sid, rows in doc.get("regions", {}).items():
                if not _ID.fullmatch(sid) or len(rows) > MAX_REGIONS:
                    raise AuthenticationError("stored redactions are malformed")
                regions[sid] = [Region(*(int(v) for v in row)) for row in rows]
            phrases = doc.get("phrases", [])
            if not isinstance(phrases, list) or not all(isinstance(p, str) for p in phrases):
                raise AuthenticationError("stored redactions are malformed")
            return cls(clean_phrases(phrases), regions)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            raise AuthenticationError("stored redactions are malformed") from exc


def _path(vault_path: Path | str, case_id: int) -> Path:
    return Path(vault_path) / DIR / f"{int(case_id)}.env"


def load(vault_path: Path | str, case_id: int, key: PrivateKey) -> Redactions:
    """The case's redactions (none when nothing was redacted). Raises AuthenticationError when
    the envelope was changed or belongs to another case."""
    data = sealedfiles.unseal(_path(vault_path, case_id), key,
                              {"kind": "redactions", "case": int(case_id)}, MAX_BYTES,
                              "redactions")
    return Redactions() if data is None else Redactions.from_json(data)


def store(vault_path: Path | str, case_id: int, redactions: Redactions, key: PrivateKey) -> None:
    sealedfiles.seal(_path(vault_path, case_id), redactions.to_json(), key,
                     {"v": 1, "kind": "redactions", "case": int(case_id)})
