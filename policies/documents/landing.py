"""The signed policy as the landing pages show it (the reporter app's service ``Landing`` wraps
it; the workbench's policy page uses it too): re-read when the files change, never shown
when its signature fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.signing import VerifyKey

from crypto.errors import CryptoError
from crypto.identity import Card
from peluit.ground.clock import Clock

from .installation import current
from .model import LANGUAGES, PolicyError, version_dirs
from .rendering import RenderedPolicy, _rendered
from .signing import VerifiedPolicy


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

    def conflict(self, today: dt.date | None = None) -> frozenset[str] | None:
        """The key ids of the conflict group's members named by the signed policy in force
        (None: no signed policy, or one without a ``[conflict]`` section). The reporter app
        seals a report about the inspectorate only to enrolled, active cards named here, so the
        gateway's admin cannot add a reader of such reports on their own."""
        verified = self.verified(today)
        if verified is None or verified.version.header.conflict is None:
            return None
        return verified.version.header.conflict_key_ids()

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
        if r.conflict_members:
            footer += " " + _("Reports about the Inspectorate General itself are read only by "
                              "the conflict group this policy names: %(members)s.") % {
                "members": ", ".join(name for name, _fp in r.conflict_members)}
        return PolicyBlock(r, footer)


def _log():  # type: ignore[no-untyped-def]
    import logging

    return logging.getLogger("policies.documents")


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
