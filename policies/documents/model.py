"""The protection policy's versions as files: the structured header, the texts, the version
directories, and the errors. (The package docstring says how a policy directory is laid out.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crypto.encoding import canonical_json
from crypto.envelope import DEFAULT_SLOTS
from crypto.errors import CryptoError
from crypto.identity import Card
from policies import clocks

DEFAULT_DIR = Path(__file__).resolve().parent / "protection-policy"
HEADER_FILE = "policy.toml"
SIGNATURE_FILE = "signature.json"
LANGUAGES = ("id", "en")
SIGNATURE_FORMAT = "peluit-policy-signature"
SIGNATURE_DOMAIN = b"peluit-policy-signature-v1\0"
FINGERPRINT_DOMAIN = b"peluit-policy-fingerprint-v1\0"


# The service targets a header must give (policies.clocks: the case clocks), and those a newer
# version may add (the carrying schedule, from 1.1).
DEADLINES = clocks.STAT_NAMES


OPTIONAL_DEADLINES = (clocks.CARRYING.stat,)


HEADER_KEYS = {"id", "version", "effective", "languages", "retention_max_days", "deadlines",
               "yardsticks"}


# From 1.1: case_retention_years, the workbench's retention period. escrow: who the custodians
# of deposited identities are and what opening one requires (crypto/escrow.py, docs/policies.md).
# conflict: the conflict group's members, who alone read reports about the inspectorate itself
# (dropbox_app/routing.py): the reporter app seals such a report only to cards named here.
OPTIONAL_HEADER_KEYS = {"case_retention_years", "escrow", "conflict"}


# At most as many conflict-group members as an envelope has recipient slots
# (crypto.envelope.DEFAULT_SLOTS; dropbox_app.auditors.MAX_GROUP).
MAX_CONFLICT_MEMBERS = DEFAULT_SLOTS


# A text names the header's figures by placeholder, so it cannot say one number and the signed
# header another: {{deadline.acknowledgment}}, {{retention_max_days}}, {{case_retention_years}}.
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")


MAX_FILE_BYTES = 256 * 1024
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,3}$")


# Python-Markdown takes time quadratic in the number of unclosed ``[`` (8,000 of them: 9 s; a
# 256 KiB text of them: hours), found by fuzzing the policy texts. No policy nests brackets
# anywhere near this deep, so a text that does is refused when its version is loaded.
MAX_BRACKET_DEPTH = 64


def renderable(text: str) -> bool:
    """Whether ``text``'s square brackets nest at most ``MAX_BRACKET_DEPTH`` deep (an unclosed
    one counts as open to the end)."""
    depth = 0
    for ch in text:
        if ch == "[":
            depth += 1
            if depth > MAX_BRACKET_DEPTH:
                return False
        elif ch == "]" and depth:
            depth -= 1
    return True


class PolicyError(Exception):
    """A policy version is missing, malformed, unsigned or does not verify."""


@dataclass(frozen=True)
class Header:
    id: str
    version: str
    effective: dt.date
    languages: tuple[str, ...]
    retention_max_days: int
    deadlines: dict[str, int]      # working days
    yardsticks: dict[str, int]     # EU Directive 2019/1937, calendar time
    case_retention_years: int | None = None  # None (1.0): "as the archive rules require"
    #: ``{"custodians": [card JSON, …], "consent_threshold": k, "approval_threshold": ka|None}``
    escrow: dict[str, Any] | None = None
    #: ``{"members": [card JSON, …]}``: the conflict group's auditor cards, or None (this
    #: version names no conflict group, and the report form does not ask the question).
    conflict: dict[str, Any] | None = None

    def conflict_members(self) -> list[Card] | None:
        """The conflict group's cards as the signed policy names them (None: no section)."""
        if self.conflict is None:
            return None
        return [Card.from_bytes(c.encode("utf-8")) for c in self.conflict["members"]]

    def conflict_key_ids(self) -> frozenset[str]:
        """The key ids of the conflict group's pinned cards (empty without a section)."""
        return frozenset(c.key_id for c in self.conflict_members() or ())

    def escrow_terms(self) -> tuple[list[Card], Any] | None:
        """The custodians' cards and the opening rule (crypto.escrow.Rule), or None when this
        version offers no identity escrow."""
        if self.escrow is None:
            return None
        from crypto.escrow import Rule

        cards = [Card.from_bytes(c.encode("utf-8")) for c in self.escrow["custodians"]]
        return cards, Rule(self.escrow["consent_threshold"], self.escrow["approval_threshold"])

    def calendar_settings(self) -> dict[str, int]:
        """The deadlines in the shape of policies.calendar.DeadlinePolicy's arguments, so the
        workbench can take its clocks from the signed policy."""
        out = {t.policy: self.deadlines[t.stat] for t in clocks.SERVICE_TARGETS
               if t.stat in self.deadlines}
        out["eu_acknowledge_days"] = self.yardsticks["acknowledgment_days"]
        out["eu_feedback_months"] = self.yardsticks["feedback_months"]
        return out

    def placeholders(self) -> dict[str, str]:
        """What a text's ``{{name}}`` placeholders stand for."""
        values = {f"deadline.{k}": str(v) for k, v in self.deadlines.items()}
        values["retention_max_days"] = str(self.retention_max_days)
        if self.case_retention_years is not None:
            values["case_retention_years"] = str(self.case_retention_years)
        return values

    def fill(self, text: str) -> str:
        """``text`` with its placeholders replaced by this header's figures (PolicyError for a
        placeholder the header cannot fill: such a text is never shown)."""
        values = self.placeholders()

        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in values:
                raise PolicyError(f"the text names {{{{{m.group(1)}}}}}, which the header "
                                  "does not give")
            return values[m.group(1)]

        return _PLACEHOLDER.sub(sub, text)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["effective"] = self.effective.isoformat()
        d["languages"] = list(self.languages)
        return d


@dataclass(frozen=True)
class PolicyVersion:
    path: Path
    header: Header
    files: dict[str, bytes]  # file name -> exact bytes (policy.toml, id.md, en.md)

    def text(self, language: str) -> str:
        return self.files[f"{language}.md"].decode("utf-8")

    def filled(self, language: str) -> str:
        """The text as a reader sees it: placeholders replaced by the signed header's figures."""
        return self.header.fill(self.text(language))

    def payload(self) -> dict[str, Any]:
        return {"policy": self.header.id, "version": self.header.version,
                "files": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(self.files.items())}}

    @property
    def fingerprint(self) -> str:
        return policy_fingerprint(self.payload())


def policy_fingerprint(payload: dict[str, Any]) -> str:
    """Eight groups of five digits over the signed payload (same reading scheme as keys)."""
    digest = hashlib.sha512(FINGERPRINT_DOMAIN + canonical_json(payload)).digest()
    return " ".join(f"{int.from_bytes(digest[i * 5:i * 5 + 5], 'big') % 100000:05d}"
                    for i in range(8))


def _parse_header(raw: bytes, where: Path) -> Header:
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{where}: not valid TOML ({exc})") from None
    if not HEADER_KEYS <= set(doc) <= HEADER_KEYS | OPTIONAL_HEADER_KEYS:
        raise PolicyError(f"{where}: header must have exactly {', '.join(sorted(HEADER_KEYS))}"
                          f" (and may have {', '.join(sorted(OPTIONAL_HEADER_KEYS))})")
    try:
        effective = dt.date.fromisoformat(str(doc["effective"]))
    except ValueError:
        raise PolicyError(f"{where}: effective must be a date YYYY-MM-DD") from None
    if not isinstance(doc["version"], str) or not _VERSION.match(doc["version"]):
        raise PolicyError(f"{where}: version must look like 1.0")
    if not isinstance(doc["id"], str) or not re.match(r"^[a-z][a-z0-9-]{0,63}$", doc["id"]):
        raise PolicyError(f"{where}: id must be lowercase letters, digits and dashes")
    if sorted(doc["languages"]) != sorted(LANGUAGES):
        raise PolicyError(f"{where}: languages must be {list(LANGUAGES)}")
    deadlines, yard = doc["deadlines"], doc["yardsticks"]
    if (not isinstance(deadlines, dict)
            or not set(DEADLINES) <= set(deadlines) <= {*DEADLINES, *OPTIONAL_DEADLINES}
            or not all(_posint(v) for v in deadlines.values())):
        raise PolicyError(f"{where}: deadlines must give {', '.join(DEADLINES)} in working days")
    if not isinstance(yard, dict) or not all(_posint(v) for v in yard.values()):
        raise PolicyError(f"{where}: yardsticks must be positive integers")
    if not _posint(doc["retention_max_days"]):
        raise PolicyError(f"{where}: retention_max_days must be a positive integer")
    years = doc.get("case_retention_years")
    if years is not None and not (_posint(years) and years <= 100):
        raise PolicyError(f"{where}: case_retention_years must be a whole number of years")
    return Header(doc["id"], doc["version"], effective, tuple(doc["languages"]),
                  doc["retention_max_days"], dict(deadlines), dict(yard), years,
                  _parse_escrow(doc.get("escrow"), where),
                  _parse_conflict(doc.get("conflict"), where))


def conflict_section(cards: list[Card]) -> str:
    """The ``[conflict]`` section naming ``cards``, as a compliance officer would add it to a
    version's policy.toml before signing (the demo and tests do it this way too)."""
    members = ",\n  ".join("'" + c.to_bytes().decode("utf-8") + "'" for c in cards)
    return f"\n[conflict]\nmembers = [\n  {members},\n]\n"


def _parse_conflict(raw: Any, where: Path) -> dict[str, Any] | None:
    """``[conflict]``: ``members``, the conflict group's auditor cards (canonical JSON strings,
    as ``[escrow]`` names its custodians). A card enrolled in the conflict group on the server
    but not named here is never sealed to: the gateway's admin, an employee of the
    inspectorate, cannot add a reader of reports about it without the officer's signature."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"members"}:
        raise PolicyError(f"{where}: [conflict] has members only")
    cards = raw["members"]
    if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards) or not cards:
        raise PolicyError(f"{where}: [conflict] members are one or more card texts")
    if len(cards) > MAX_CONFLICT_MEMBERS:
        raise PolicyError(f"{where}: [conflict] names more than {MAX_CONFLICT_MEMBERS} members, "
                          "the envelope's recipient slots")
    _check_cards(cards, where, "conflict", "member",
                 lambda c: c.kind == "auditor" and c.box_key is not None,
                 "an auditor card (one that can read reports)")
    return {"members": list(cards)}


def _check_cards(texts: list[str], where: Path, section: str, noun: str,
                 fits: Callable[[Card], bool], kind: str) -> None:
    """Each of ``texts`` a valid card that ``fits`` (else: "is not ``kind``"), none twice: the
    cards a signed section names (``[conflict]`` members, ``[escrow]`` custodians)."""
    ids = []
    for text in texts:
        try:
            card = Card.from_bytes(text.encode("utf-8"))
        except CryptoError as exc:
            raise PolicyError(f"{where}: [{section}] {noun} card not valid: {exc}") from None
        if not fits(card):
            raise PolicyError(f"{where}: [{section}] {card.name} is not {kind}")
        ids.append(card.key_id)
    if len(set(ids)) != len(ids):
        raise PolicyError(f"{where}: [{section}] a {noun} is named twice")


def _parse_escrow(raw: Any, where: Path) -> dict[str, Any] | None:
    """``[escrow]``: ``custodians`` (custodian cards, canonical JSON strings),
    ``consent_threshold`` (how many custodians open with the reporter's consent) and optionally
    ``approval_threshold`` (how many custodians' approval may replace consent; absent: consent
    is always required)."""
    if raw is None:
        return None
    from crypto.escrow import Rule

    if (not isinstance(raw, dict) or not {"custodians", "consent_threshold"} <= set(raw)
            <= {"custodians", "consent_threshold", "approval_threshold"}):
        raise PolicyError(f"{where}: [escrow] has custodians, consent_threshold and optionally "
                          "approval_threshold")
    cards = raw["custodians"]
    if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
        raise PolicyError(f"{where}: [escrow] custodians are card texts")
    _check_cards(cards, where, "escrow", "custodian", lambda c: c.kind == "custodian",
                 "a custodian card")
    approval = raw.get("approval_threshold")
    if not _posint(raw["consent_threshold"]) or (approval is not None and not _posint(approval)):
        raise PolicyError(f"{where}: [escrow] thresholds are positive integers")
    try:
        Rule(raw["consent_threshold"], approval).check(len(cards))
    except ValueError as exc:
        raise PolicyError(f"{where}: [escrow] {exc}") from None
    return {"custodians": list(cards), "consent_threshold": raw["consent_threshold"],
            "approval_threshold": approval}


def _posint(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def load_version(path: Path) -> PolicyVersion:
    """Read one version directory; check its header and that both texts are UTF-8."""
    path = Path(path)
    files: dict[str, bytes] = {}
    for name in (HEADER_FILE, *(f"{lang}.md" for lang in LANGUAGES)):
        try:
            with (path / name).open("rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise PolicyError(f"{path / name}: {exc.strerror}") from None
        if len(data) > MAX_FILE_BYTES:
            raise PolicyError(f"{path / name}: too large")
        if name.endswith(".md"):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise PolicyError(f"{path / name}: not UTF-8") from None
            if not renderable(text):
                raise PolicyError(f"{path / name}: brackets nested deeper than "
                                  f"{MAX_BRACKET_DEPTH}")
        files[name] = data
    header = _parse_header(files[HEADER_FILE], path / HEADER_FILE)
    if path.name != header.version:
        raise PolicyError(f"{path}: directory name does not match version {header.version}")
    for lang in LANGUAGES:
        try:
            header.fill(files[f"{lang}.md"].decode("utf-8"))
        except PolicyError as exc:
            raise PolicyError(f"{path / (lang + '.md')}: {exc}") from None
    return PolicyVersion(path, header, files)


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) for p in name.split("."))


def version_dirs(policy_dir: Path) -> list[Path]:
    """The version directories of a policy, oldest first."""
    policy_dir = Path(policy_dir)
    if (policy_dir / HEADER_FILE).is_file():
        return [policy_dir]
    try:
        dirs = [p for p in policy_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    except OSError as exc:
        raise PolicyError(f"{policy_dir}: {exc.strerror}") from None
    return sorted(dirs, key=lambda p: _version_key(p.name))


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """peluit.ground.files.write_atomic (never half a file), failing with a PolicyError."""
    from peluit.ground.files import write_atomic as write

    try:
        write(path, data, mode)
    except OSError as exc:
        raise PolicyError(f"cannot write {path}: {exc.strerror}") from None
