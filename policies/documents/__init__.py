"""The protection policy: versioned Markdown in Indonesian and English, signed by a compliance
officer, rendered sanitised.

Layout of a policy directory (``policies/documents/protection-policy/`` ships version 1.0)::

    protection-policy/<version>/policy.toml     the structured header (see HEADER_KEYS)
    protection-policy/<version>/id.md           Indonesian text
    protection-policy/<version>/en.md           English text
    protection-policy/<version>/signature.json  written by ``peluit policy sign``

The signature is Ed25519 by the officer's auditor identity (crypto.identity.AuditorIdentity: the
one they hold on the workbench, or a standalone one from ``peluit policy new-signer``) over
``SIGNATURE_DOMAIN`` + canonical JSON ``{"policy", "version", "files": {name: sha256}}`` of the
*exact bytes* of policy.toml, id.md and en.md. Change a byte in any of them and the version no
longer verifies. ``signature.json`` also carries the signer's card, so a verifier can show who
signed and, given ``trusted`` keys, insist on a particular officer.

The reporter app calls::

    rendered = signed_policy(policy_dir, "id")   # RenderedPolicy, or raises PolicyError
    rendered.html, rendered.version, rendered.fingerprint, rendered.signer

which returns the newest version that is signed, verifies, and is in force today; unsigned
drafts are skipped, and a version whose signature fails to verify is an error, never shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import hashlib
import itertools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bleach
import markdown
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from crypto.encoding import b64decode, b64encode, canonical_json, parse_canonical_json
from crypto.errors import CryptoError
from crypto.identity import AuditorIdentity, Card
from crypto.keys import sign_key_id
from peluit.ground.clock import Clock
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
OPTIONAL_HEADER_KEYS = {"case_retention_years", "escrow"}
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

# What a policy text may contain once rendered: structure and emphasis, links to https only.
ALLOWED_TAGS = frozenset({"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a",
                          "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
                          "code"})
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"https"})


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


@dataclass(frozen=True)
class Signature:
    card: Card
    signature: bytes
    payload: dict[str, Any]

    def to_bytes(self) -> bytes:
        return canonical_json({"format": SIGNATURE_FORMAT, "version": 1, "payload": self.payload,
                               "card": self.card.to_bytes().decode("utf-8"),
                               "signature": b64encode(self.signature)}) + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        try:
            obj = parse_canonical_json(data.strip(), limit=64 * 1024)
            if (not isinstance(obj, dict) or obj.get("format") != SIGNATURE_FORMAT
                    or set(obj) != {"format", "version", "payload", "card", "signature"}
                    or obj["version"] != 1 or not isinstance(obj["payload"], dict)
                    or not isinstance(obj["card"], str)):
                raise PolicyError("signature.json is not a Peluit policy signature")
            card = Card.from_bytes(obj["card"].encode("utf-8"))
            return cls(card, b64decode(obj["signature"], length=64), obj["payload"])
        except CryptoError as exc:
            raise PolicyError(f"signature.json: {exc}") from None


@dataclass(frozen=True)
class VerifiedPolicy:
    version: PolicyVersion
    signature: Signature

    @property
    def signer(self) -> str:
        return self.signature.card.name

    @property
    def signer_fingerprint(self) -> str:
        return self.signature.card.fingerprint


@dataclass(frozen=True)
class RenderedPolicy:
    """What a page needs to show a signed policy."""

    html: str
    language: str
    version: str
    effective: str
    fingerprint: str          # of the signed document: digits a reader can compare
    signer: str               # the officer's name on their card
    signer_fingerprint: str   # of the officer's keys
    header: Header


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
                  _parse_escrow(doc.get("escrow"), where))


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
    ids = []
    for text in cards:
        try:
            card = Card.from_bytes(text.encode("utf-8"))
        except CryptoError as exc:
            raise PolicyError(f"{where}: [escrow] custodian card not valid: {exc}") from None
        if card.kind != "custodian":
            raise PolicyError(f"{where}: [escrow] {card.name} is not a custodian card")
        ids.append(card.key_id)
    if len(set(ids)) != len(ids):
        raise PolicyError(f"{where}: [escrow] a custodian is named twice")
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


def sign_version(path: Path, identity: AuditorIdentity,
                 today: dt.date | None = None) -> Signature:
    """Sign a version as ``identity`` and write signature.json (atomically)."""
    version = load_version(path)
    payload = version.payload()
    sig = identity.signing.sign(SIGNATURE_DOMAIN + canonical_json(payload)).signature
    signature = Signature(identity.card(today), sig, payload)
    # Readable by all: root signs, the server's own user reads it (deploy/install.sh).
    write_atomic(Path(path) / SIGNATURE_FILE, signature.to_bytes(), mode=0o644)
    return signature


def verify_version(path: Path, trusted: Iterable[VerifyKey] | None = None) -> VerifiedPolicy:
    """The version with its signature, or PolicyError saying why it cannot be trusted."""
    version = load_version(path)
    sig_path = Path(path) / SIGNATURE_FILE
    try:
        signature = Signature.from_bytes(sig_path.read_bytes())
    except FileNotFoundError:
        raise PolicyError(f"{path}: version {version.header.version} is not signed") from None
    except OSError as exc:
        raise PolicyError(f"{sig_path}: {exc.strerror}") from None
    if signature.payload != version.payload():
        raise PolicyError(f"{path}: the files differ from what was signed")
    try:
        signature.card.sign_key.verify(SIGNATURE_DOMAIN + canonical_json(version.payload()),
                                       signature.signature)
    except BadSignatureError:
        raise PolicyError(f"{path}: the signature does not verify") from None
    if trusted is not None and signature.card.key_id not in {sign_key_id(k) for k in trusted}:
        raise PolicyError(f"{path}: signed by {signature.card.name}, who is not a trusted signer")
    return VerifiedPolicy(version, signature)


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


def current(policy_dir: Path = DEFAULT_DIR, today: dt.date | None = None,
            trusted: Iterable[VerifyKey] | None = None) -> VerifiedPolicy:
    """The newest signed version in force on ``today``. Unsigned drafts are skipped; a
    signature that fails is an error (someone changed a signed text), not a reason to fall back."""
    today = today or Clock().today()
    trusted = None if trusted is None else list(trusted)
    for path in reversed(version_dirs(policy_dir)):
        if not (path / SIGNATURE_FILE).exists():
            continue
        verified = verify_version(path, trusted)
        if verified.version.header.effective <= today:
            return verified
    raise PolicyError(f"{policy_dir}: no signed version of the policy is in force")


def _rendered(verified: Any, language: str) -> RenderedPolicy:
    """A verified version's text in ``language`` as sanitised HTML, with what it says of
    itself (version, dates, signer)."""
    v = verified.version
    return RenderedPolicy(
        html=render_markdown(v.filled(language)), language=language,
        version=v.header.version, effective=v.header.effective.isoformat(),
        fingerprint=v.fingerprint, signer=verified.signer,
        signer_fingerprint=verified.signer_fingerprint, header=v.header)


def signed_policy(policy_dir: Path = DEFAULT_DIR, language: str = "id",
                  today: dt.date | None = None,
                  trusted: Iterable[VerifyKey] | None = None) -> RenderedPolicy:
    """The current signed policy rendered to sanitised HTML in ``language`` (id or en)."""
    if language not in LANGUAGES:
        raise PolicyError(f"no policy text in language {language!r}")
    verified = current(policy_dir, today, trusted)
    return _rendered(verified, language)


@functools.lru_cache(maxsize=16)
def render_markdown(text: bytes | str) -> str:
    """Markdown to HTML, then bleach with a strict allow-list: whatever a text contains (raw
    HTML, scripts, event handlers, javascript: links), only structure and https links survive."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    html = markdown.markdown(text, extensions=["tables"], output_format="html")
    return bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def diff(a: Path, b: Path) -> str:
    """Header changes (``key: old -> new``), then a unified diff of each language's text."""
    va, vb = load_version(a), load_version(b)
    ha, hb = _flatten(va.header.as_dict()), _flatten(vb.header.as_dict())
    lines = [f"header {va.header.version} -> {vb.header.version}:"]
    changed = [k for k in sorted(set(ha) | set(hb)) if ha.get(k) != hb.get(k)]
    lines += [f"  {k}: {ha.get(k, '(none)')} -> {hb.get(k, '(none)')}" for k in changed]
    if not changed:
        lines.append("  (no changes)")
    for r in reductions(va.header, vb.header):
        lines.append(f"  REDUCES PROTECTION: {r}")
    for lang in LANGUAGES:
        name = f"{lang}.md"
        body = list(difflib.unified_diff(
            va.text(lang).splitlines(keepends=True), vb.text(lang).splitlines(keepends=True),
            fromfile=f"{va.header.version}/{name}", tofile=f"{vb.header.version}/{name}"))
        lines.append("")
        lines.append("".join(body).rstrip("\n") if body else f"{name}: no changes")
    return "\n".join(lines) + "\n"


def reductions(older: Header, newer: Header) -> list[str]:
    """Where ``newer`` promises less than ``older``: a longer or dropped service target, a longer
    retention. The policy says that reports made earlier keep at least the protection promised
    when they were made; the workbench recomputes open cases' deadlines from the policy in force
    (workbench/cases/deadlines.py), so a version that lengthened a target would break that
    promise for reports already in progress. Control POL-3 runs this over a deployment's
    versions. Empty: no reduction."""
    out = []
    for name, days in older.deadlines.items():
        if name not in newer.deadlines:
            out.append(f"deadlines.{name}: dropped (was {days} working days)")
        elif newer.deadlines[name] > days:
            out.append(f"deadlines.{name}: {days} -> {newer.deadlines[name]} working days")
    if newer.retention_max_days > older.retention_max_days:
        out.append(f"retention_max_days: {older.retention_max_days} -> "
                   f"{newer.retention_max_days}")
    if (older.case_retention_years is not None
            and (newer.case_retention_years is None
                 or newer.case_retention_years > older.case_retention_years)):
        out.append(f"case_retention_years: {older.case_retention_years} -> "
                   f"{newer.case_retention_years}")
    return out


def chain_reductions(policy_dir: Path) -> list[str]:
    """``reductions`` between each version of a policy directory and the one before it (drafts
    included: a draft that reduces protection should be caught before anyone signs it)."""
    out = []
    versions = [load_version(p) for p in version_dirs(policy_dir)]
    for a, b in itertools.pairwise(versions):
        out += [f"{a.header.version} -> {b.header.version}: {r}"
                for r in reductions(a.header, b.header)]
    return out


def install(dest: Path, signer: AuditorIdentity | None = None,
            source: Path = DEFAULT_DIR) -> list[Path]:
    """Copy the shipped policy versions into a deployment's policy directory (``dest``), without
    any signature, and sign them as ``signer`` when one is given (the demo does; a real
    deployment's compliance officer signs with ``peluit policy sign``). Versions already present
    are left alone: an officer's signed copy is never overwritten."""
    import shutil

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    installed = []
    for src in version_dirs(source):
        target = dest / src.name
        if target.exists():
            continue
        tmp = dest / f".{src.name}.installing"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name in (HEADER_FILE, *(f"{lang}.md" for lang in LANGUAGES)):
            shutil.copyfile(src / name, tmp / name)
        tmp.rename(target)  # the version appears whole or not at all
        if signer is not None:
            sign_version(target, signer)
        installed.append(target)
    return installed


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """peluit.ground.files.write_atomic (never half a file), failing with a PolicyError."""
    from peluit.ground.files import write_atomic as write

    try:
        write(path, data, mode)
    except OSError as exc:
        raise PolicyError(f"cannot write {path}: {exc.strerror}") from None


# ---- the reporter landing page ---------------------------------------------------------------

@dataclass(frozen=True)
class PolicyBlock:
    """The signed policy as the landing page shows it: Jinja2 renders ``__html__`` unescaped,
    and everything in it is either bleach-sanitised or escaped here."""

    rendered: RenderedPolicy
    footer: str

    def __html__(self) -> str:
        import html

        return (f'{self.rendered.html}\n<p class="policy-signature">{html.escape(self.footer)}'
                "</p>")

    def __str__(self) -> str:
        return self.__html__()


class LandingPolicy:
    """``registry['peluit.policy']`` for the reporter app: called with the request, returns a
    PolicyBlock of the signed policy in force, or None (the app then shows its built-in
    summary). Files are re-read on each call, so a newly signed version shows without a
    restart; a version whose signature fails is never shown and is logged as a warning.

    ``deadlines`` is for ``registry['peluit.deadlines']``: the policy's own working-day
    deadlines, so the pages promise what the signed policy promises (false when there is no
    signed policy, so the app falls back to its defaults)."""

    def __init__(self, policy_dir: Path, trusted: Iterable[VerifyKey] | None = None):
        self.policy_dir = Path(policy_dir)
        self.trusted = None if trusted is None else list(trusted)
        self.deadlines = _PolicyDeadlines(self)
        self._cache: tuple[Any, VerifiedPolicy | None] | None = None

    @classmethod
    def for_deployment(cls, base_dir: Path, raw: dict[str, Any]) -> LandingPolicy:
        """From a deployment's peluit.toml: ``[reporter] policy_dir`` (default ``policy``) and
        optionally ``policy_signers``, card files of the officers whose signature is required.
        A signer card that cannot be read trusts nobody: nothing is shown rather than anything."""
        reporter = raw.get("reporter", {}) if isinstance(raw, dict) else {}
        base = Path(base_dir)
        trusted = None
        if "policy_signers" in reporter:
            trusted = []
            for name in reporter["policy_signers"] or []:
                try:
                    trusted.append(Card.from_bytes((base / str(name)).read_bytes()).sign_key)
                except (OSError, CryptoError) as exc:
                    _log().warning("policy signer card %s not usable: %s", name, exc)
                    return cls(base / str(reporter.get("policy_dir", "policy")), [])
        return cls(base / str(reporter.get("policy_dir", "policy")), trusted)

    def _stamp(self) -> tuple[Any, ...]:
        """Cheap identity of the files on disk: names, sizes and change times."""
        out: list[Any] = []
        try:
            for d in version_dirs(self.policy_dir):
                for p in sorted(d.iterdir()):
                    st = p.stat()
                    out.append((str(p), st.st_size, st.st_mtime_ns, st.st_ino))
        except (OSError, PolicyError):
            return ("unreadable",)
        return tuple(out)

    def verified(self, today: dt.date | None = None) -> VerifiedPolicy | None:
        """The signed version in force, verified once per change of the files or the day."""
        today = today or Clock().today()
        key = (self._stamp(), today)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        result = None
        if self.policy_dir.exists():
            try:
                result = current(self.policy_dir, today, self.trusted)
            except PolicyError as exc:
                _log().warning("protection policy not shown: %s", exc)
        self._cache = (key, result)
        return result

    def escrow(self, today: dt.date | None = None) -> tuple[list[Card], Any] | None:
        """The custodians and opening rule of the signed policy in force (None: no escrow).
        This is how custodians' public keys reach the reporter app: signed by the officer."""
        verified = self.verified(today)
        return verified.version.header.escrow_terms() if verified is not None else None

    def rendered(self, language: str, today: dt.date | None = None) -> RenderedPolicy | None:
        verified = self.verified(today)
        if verified is None or language not in LANGUAGES:
            return None
        return _rendered(verified, language)

    def __call__(self, request: Any) -> PolicyBlock | None:
        from peluit.ground.i18n import translations

        language = getattr(request, "language", "id")
        clock = getattr(request, "clock", None)
        r = self.rendered(language, clock.today() if clock is not None else None)
        if r is None:
            return None
        _ = translations("policies", "policies", language).gettext
        footer = _("Version %(version)s, in force from %(effective)s, signed by %(signer)s. "
                   "Fingerprint of this text: %(fingerprint)s.") % {
            "version": r.version, "effective": r.effective, "signer": r.signer,
            "fingerprint": r.fingerprint}
        return PolicyBlock(r, footer)


def _log():  # type: ignore[no-untyped-def]
    import logging

    return logging.getLogger(__name__)


class _PolicyDeadlines:
    """Attributes as the reporter pages name them, taken from the signed policy in force."""

    def __init__(self, landing: LandingPolicy):
        self._landing = landing

    def _deadlines(self) -> dict[str, int] | None:
        v = self._landing.verified()
        return v.version.header.deadlines if v else None

    def __bool__(self) -> bool:
        return self._deadlines() is not None

    def _days(self, clock: str) -> int:
        return (self._deadlines() or {})[clock]

    # The reporter pages' names for the policy's clocks.
    first_response = property(lambda self: self._days("acknowledgment"))
    decision = property(lambda self: self._days("verification"))
    completion = property(lambda self: self._days("completion"))
    retaliation = property(lambda self: self._days("retaliation"))
