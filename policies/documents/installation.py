"""Which version is in force, what changed between two, whether a newer one reduces a
protection, and installing the shipped versions into a deployment."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

from nacl.signing import VerifyKey

from crypto.identity import AuditorIdentity, Card
from peluit.ground.clock import Clock

from .model import (
    DEFAULT_DIR,
    HEADER_FILE,
    LANGUAGES,
    SIGNATURE_FILE,
    Header,
    PolicyError,
    conflict_section,
    load_version,
    version_dirs,
)
from .rendering import RenderedPolicy, _flatten, _rendered
from .signing import VerifiedPolicy, sign_version, verify_version


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


def signed_policy(policy_dir: Path = DEFAULT_DIR, language: str = "id",
                  today: dt.date | None = None,
                  trusted: Iterable[VerifyKey] | None = None) -> RenderedPolicy:
    """The current signed policy rendered to sanitised HTML in ``language`` (id or en)."""
    if language not in LANGUAGES:
        raise PolicyError(f"no policy text in language {language!r}")
    verified = current(policy_dir, today, trusted)
    return _rendered(verified, language)


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
    if older.conflict is not None and newer.conflict is None:
        # Reports about the inspectorate filed under the older version, and their follow-up
        # messages, would have no reader outside the inspectorate any more.
        out.append("[conflict]: dropped (reports about the inspectorate would no longer be "
                   "routed away from it)")
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
            source: Path = DEFAULT_DIR, conflict: Sequence[Card] = ()) -> list[Path]:
    """Copy the shipped policy versions into a deployment's policy directory (``dest``), without
    any signature, and sign them as ``signer`` when one is given (the demo does; a real
    deployment's compliance officer signs with ``peluit policy sign``). Versions already present
    are left alone: an officer's signed copy is never overwritten. ``conflict``: the conflict
    group's cards, named in a ``[conflict]`` section added to each version before it is signed
    (the demo's; a real officer adds the section by hand, then signs)."""
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
        if conflict:
            with (tmp / HEADER_FILE).open("a", encoding="utf-8") as f:
                f.write(conflict_section(list(conflict)))
        tmp.rename(target)  # the version appears whole or not at all
        if signer is not None:
            sign_version(target, signer)
        installed.append(target)
    return installed
