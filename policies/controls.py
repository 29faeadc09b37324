"""Controls a machine can check: the promises of the protection policy, held against a running
deployment.

Each ``Control`` has an id, a statement, the rule it comes from and a ``check`` over a
``DeploymentFacts`` (plain data, gathered by the part that owns it: ``dropbox_app/facts.py`` for
the server) and the signed policy's ``Header``. A check returns a ``Result``: ``pass``, ``fail``
or ``n/a`` (the thing checked is not part of this deployment, e.g. no systemd units on a demo),
with the evidence that led to it. Facts that could not be gathered are ``None`` and make a
security control fail, never pass: a check that cannot see must not say "fine".

``peluit policy check --config peluit.toml`` gathers the facts through the ``peluit.facts``
entry point (so this package does not import the server), runs every control and writes
``check.json`` and ``check.html``; the exit code is 1 when any control fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crypto.kdf import MIN_MEMORY_KIB, MIN_TIME_COST
from peluit.ground.clock import Clock
from peluit.ground.i18n import N_

MIN_ACTIVE_CARDS = 2
MAX_UNIT_EXPOSURE = 2.0
# What a hardened unit must say, where systemd-analyze is not available to score it.
REQUIRED_UNIT_SETTINGS = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
    "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes",
    "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
}


@dataclass
class OnionService:
    """One HiddenServiceDir block of a torrc."""

    directory: str
    targets: list[str]                 # "host:port" the service forwards to
    pow_defenses: bool                 # HiddenServicePoWDefensesEnabled 1
    authorized_clients: int | None     # .auth files in authorized_clients/ (None: unreadable)


@dataclass
class Unit:
    name: str
    path: str
    settings: dict[str, str]           # [Service] settings, last one wins
    exposure: float | None = None      # systemd-analyze security --offline score, if run


@dataclass
class DeploymentFacts:
    """What a gatherer found. ``None`` means "could not be determined"."""

    config_path: str
    listen: dict[str, str] = field(default_factory=dict)         # app -> host:port
    access_logs: list[str] | None = None                          # where one is set or found
    active_cards: int | None = None
    # Active cards of the conflict group, who alone read reports about the inspectorate itself
    # (dropbox_app/routing.py); the largest active group, against the envelope's slot count.
    conflict_cards: int | None = None
    largest_group: int | None = None
    # (key id, name) of each active conflict-group card: COI-1 compares them with the signed
    # policy's [conflict] members, which alone the reporter app seals to.
    conflict_members: list[tuple[str, str]] | None = None
    gateway_accounts: int | None = None
    gateway_accounts_without_totp: int | None = None
    admin_log_entries: int | None = None                           # None: not readable
    admin_log_problems: list[str] | None = None
    argon2: dict[str, int] | None = None                          # {"t", "m", "p"}
    salt_problems: list[str] | None = None
    key_problems: list[str] | None = None
    retention_days: int | None = None
    policy_dir: str | None = None
    policy_signers: list[str] | None = None                       # card files; None: any signer
    store_envelopes: int | None = None
    store_problems: list[str] | None = None
    workbench_deadlines: dict[str, int] | None = None
    # Identity escrow, from the workbench's audit log (--workbench-audit): how many identities
    # were opened, and the openings without a recorded consent or approval. None: not given.
    escrow_openings: int | None = None
    escrow_problems: list[str] | None = None
    torrc: list[str] | None = None                                # torrc files read
    onion_services: list[OnionService] = field(default_factory=list)
    tor_socks_ports: list[str] = field(default_factory=list)
    tor_safe_logging: bool = True
    units: list[Unit] | None = None                               # None: no units installed

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Result:
    status: str                 # pass | fail | n/a
    evidence: tuple[str, ...]


def _ok(*evidence: str) -> Result:
    return Result("pass", evidence)


def _fail(*evidence: str) -> Result:
    return Result("fail", evidence)


def _na(*evidence: str) -> Result:
    return Result("n/a", evidence)


@dataclass(frozen=True)
class Control:
    id: str
    statement: str              # English msgid (marked N_ where written); translated in reports
    rule: str                   # where the promise comes from
    check: Callable[[DeploymentFacts, Any], Result]


# ---- the checks -----------------------------------------------------------------------------

def _is_loopback(hostport: str) -> bool:
    import ipaddress

    host = hostport.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_loopback(f: DeploymentFacts, _p: Any) -> Result:
    if not f.listen:
        return _fail("no listen addresses found in the configuration")
    ev = [f"{app} listens on {addr}" for app, addr in sorted(f.listen.items())]
    bad = [addr for addr in f.listen.values() if not _is_loopback(addr)]
    return _fail(*ev) if bad else _ok(*ev)


def check_access_log(f: DeploymentFacts, _p: Any) -> Result:
    if f.access_logs is None:
        return _fail("could not determine whether an access log is written")
    if f.access_logs:
        return _fail(*f.access_logs)
    return _ok("no access log configured in peluit.toml, the systemd units or torrc, "
               "and none found on disk")


def check_cards(f: DeploymentFacts, _p: Any) -> Result:
    if f.active_cards is None:
        return _fail("could not count the enrolled auditor cards")
    ev = f"{f.active_cards} active auditor card(s) enrolled (at least {MIN_ACTIVE_CARDS} needed)"
    return _ok(ev) if f.active_cards >= MIN_ACTIVE_CARDS else _fail(ev)


#: Recipient slots of every envelope (crypto/envelope.py DEFAULT_SLOTS): a larger group would
#: make its envelopes bigger than the other group's, and tell them apart.
ENVELOPE_SLOTS = 16


def check_conflict_group(f: DeploymentFacts, policy: Any) -> Result:
    """Reports about the inspectorate itself are read by the conflict group only, and only by
    members that the signed policy's ``[conflict]`` section names (the gateway's admin works
    for the inspectorate: a card they enroll alone is never a recipient). The group's active
    cards and that list must agree: an enrolled card not in the policy is named here (someone
    tried to add a reader, or the officer has yet to sign it in); a member not enrolled and
    active reads nothing."""
    if f.conflict_cards is None:
        return _fail("could not count the conflict group's cards")
    ev = [f"{f.conflict_cards} active card(s) in the conflict group, who alone read reports "
          "about the inspectorate itself (`peluit auditor enroll CARD --group conflict`)"]
    if f.largest_group is not None:
        ev.append(f"largest group: {f.largest_group} active card(s) (at most "
                  f"{ENVELOPE_SLOTS}, the envelope's recipient slots)")
    failed = f.conflict_cards < 1 or (f.largest_group or 0) > ENVELOPE_SLOTS
    conflict = getattr(policy, "conflict", None) if policy is not None else None
    if policy is None:
        failed = True
        ev.append("no signed protection policy in force: no conflict-group member is pinned, "
                  "so the report form does not ask whether a report concerns the inspectorate")
    elif conflict is None:
        failed = True
        ev.append(f"the signed policy {policy.version} has no [conflict] section: no "
                  "conflict-group member is pinned, so the report form does not ask whether a "
                  "report concerns the inspectorate (the compliance officer names the members "
                  "in [conflict] members and signs; docs/policies.md)")
    else:
        pinned = {c.key_id: c.name for c in policy.conflict_members()}
        active = dict(f.conflict_members or [])
        unpinned = [(k, n) for k, n in active.items() if k not in pinned]
        absent = [(k, n) for k, n in pinned.items() if k not in active]
        for key_id, name in unpinned:
            ev.append(f"conflict-group card {name} (key id {key_id}) is enrolled and active but "
                      f"not named in the signed policy {policy.version}: it is never sealed to")
        for key_id, name in absent:
            ev.append(f"the signed policy {policy.version} names {name} (key id {key_id}), "
                      "whose card is not enrolled and active in the conflict group")
        if unpinned or absent or f.conflict_members is None:
            failed = True
        else:
            ev.append(f"the conflict group's active cards are the {len(pinned)} member(s) the "
                      f"signed policy {policy.version} names")
    return _fail(*ev) if failed else _ok(*ev)


def check_totp(f: DeploymentFacts, _p: Any) -> Result:
    if f.gateway_accounts is None or f.gateway_accounts_without_totp is None:
        return _fail("could not read the gateway accounts")
    ev = (f"{f.gateway_accounts} gateway account(s), "
          f"{f.gateway_accounts_without_totp} without TOTP")
    return _ok(ev) if f.gateway_accounts_without_totp == 0 else _fail(ev)


def check_admin_log(f: DeploymentFacts, _p: Any) -> Result:
    if f.admin_log_entries is None or f.admin_log_problems is None:
        return _fail("could not read the gateway's admin log")
    if f.admin_log_problems:
        return _fail(*f.admin_log_problems)
    return _ok(f"{f.admin_log_entries} entr{'y' if f.admin_log_entries == 1 else 'ies'}, one "
               "chain from the first, ending where the head row says")


def check_argon2(f: DeploymentFacts, _p: Any) -> Result:
    if f.argon2 is None:
        return _fail("argon2 parameters not found")
    ev = (f"argon2id t={f.argon2.get('t')} m={f.argon2.get('m')} KiB p={f.argon2.get('p')}; "
          f"minimum t={MIN_TIME_COST} m={MIN_MEMORY_KIB} KiB")
    t, m = f.argon2.get("t"), f.argon2.get("m")
    ok = isinstance(t, int) and isinstance(m, int) and t >= MIN_TIME_COST and m >= MIN_MEMORY_KIB
    return _ok(ev) if ok else _fail(ev)


def check_secrets(f: DeploymentFacts, _p: Any) -> Result:
    if f.salt_problems is None or f.key_problems is None:
        return _fail("could not read the deployment salt or the server key")
    problems = f.salt_problems + f.key_problems
    return _fail(*problems) if problems else _ok(
        "deployment salt, server key and deployment id are random, not defaults, "
        "and readable by the owner only")


def check_retention(f: DeploymentFacts, policy: Any) -> Result:
    if f.retention_days is None:
        return _fail("retention_days not found")
    if policy is None:
        return _fail("no signed policy to compare with")
    ev = (f"retention_days = {f.retention_days}; the policy allows at most "
          f"{policy.retention_max_days}")
    return _ok(ev) if f.retention_days <= policy.retention_max_days else _fail(ev)


def check_store(f: DeploymentFacts, _p: Any) -> Result:
    if f.store_envelopes is None or f.store_problems is None:
        return _fail("could not read the store")
    if f.store_problems:
        return _fail(*f.store_problems)
    return _ok(f"{f.store_envelopes} envelope(s), all well-formed")


def check_policy_signed(f: DeploymentFacts, policy: Any) -> Result:
    if policy is None:
        return _fail(f"no signed protection policy in force in {f.policy_dir or '(none)'}")
    return _ok(f"protection policy {policy.version} in force from {policy.effective}, "
               f"signature verifies")


def check_workbench_deadlines(f: DeploymentFacts, policy: Any) -> Result:
    if f.workbench_deadlines is None:
        return _na("no workbench deadlines given (peluit policy check --workbench-deadlines)")
    if policy is None:
        return _fail("no signed policy to compare with")
    want = policy.calendar_settings()
    if getattr(policy, "case_retention_years", None) is not None:
        # The retention the policy promises is the one the workbench disposes by.
        want["case_retention_years"] = policy.case_retention_years
    diffs = [f"{k}: workbench {f.workbench_deadlines.get(k)}, policy {v}"
             for k, v in sorted(want.items()) if f.workbench_deadlines.get(k) != v]
    return _fail(*diffs) if diffs else _ok(
        "workbench deadlines equal the policy's: "
        + ", ".join(f"{k}={v}" for k, v in sorted(want.items())))


def check_escrow_openings(f: DeploymentFacts, _p: Any) -> Result:
    if f.escrow_problems is None:
        return _na("no workbench audit log given (--workbench-audit)")
    if f.escrow_problems:
        return _fail(*f.escrow_problems)
    return _ok(f"{f.escrow_openings} identit{'y' if f.escrow_openings == 1 else 'ies'} opened, "
               "each after a recorded consent or custodians' approval")


def escrow_findings(entries: Any) -> tuple[int, list[str]]:
    """Read the workbench's audit log (policies.auditlog entries, in order): every
    ``escrow.open`` must follow, for its request, a recorded ``escrow.consent`` (mode
    consent) or an ``escrow.approve`` by each custodian who opened it (mode approval). A
    broken chain is a finding too: a log that could have been edited proves nothing."""
    from policies import auditlog

    entries = list(entries)
    problems = [f"audit log: {p}" for p in auditlog.verify(entries)]
    consents: set[str] = set()
    approvals: set[tuple[str, str]] = set()
    opened = 0
    for e in entries:
        details = e.details if isinstance(e.details, dict) else {}
        request = details.get("request")
        if e.action == "escrow.consent":
            consents.add(str(request))
        elif e.action == "escrow.approve":
            approvals.add((str(request), e.actor))
        elif e.action == "escrow.open":
            opened += 1
            mode, who = details.get("mode"), details.get("custodians") or []
            if mode == "consent" and request in consents:
                continue
            if (mode == "approval" and who
                    and all((str(request), str(k)) in approvals for k in who)):
                continue
            problems.append(f"entry #{e.seq} (case {e.case}): identity opened for request "
                            f"{request} without a recorded "
                            f"{'approval' if mode == 'approval' else 'consent'}")
    return opened, problems


def check_no_reduction(f: DeploymentFacts, policy: Any) -> Result:
    """Every version of the deployment's policy against the one before it (policies.documents
    .reductions): none may lengthen a service target or a retention period."""
    from policies import documents

    if not f.policy_dir:
        return _fail("no policy directory")
    try:
        found = documents.chain_reductions(Path(f.policy_dir))
        versions = [p.name for p in documents.version_dirs(Path(f.policy_dir))]
    except documents.PolicyError as exc:
        return _fail(str(exc))
    return _fail(*found) if found else _ok(
        "no version promises less than the one before it: " + (" -> ".join(versions) or "none"))


def _service_for(f: DeploymentFacts, app: str) -> OnionService | None:
    addr = f.listen.get(app)
    for s in f.onion_services:
        if addr and any(_same_target(t, addr) for t in s.targets):
            return s
    return None


def _same_target(target: str, listen: str) -> bool:
    norm = {"localhost": "127.0.0.1"}
    th, _, tp = target.rpartition(":")
    lh, _, lp = listen.rpartition(":")
    return tp == lp and norm.get(th, th) == norm.get(lh, lh)


def _onion_service(f: DeploymentFacts, app: str, name: str) -> Any:
    """The onion service that forwards to ``app``, or the Result that says why there is none."""
    if f.torrc is None:
        return _na("no torrc found")
    s = _service_for(f, app)
    return _fail(f"no onion service forwards to the {name}") if s is None else s


def check_tor_gateway_auth(f: DeploymentFacts, _p: Any) -> Result:
    s = _onion_service(f, "gateway", "gateway")
    if isinstance(s, Result):
        return s
    if s.authorized_clients is None:
        return _fail(f"{s.directory}/authorized_clients cannot be read")
    ev = f"gateway onion {s.directory}: {s.authorized_clients} authorized client key(s)"
    return _ok(ev) if s.authorized_clients > 0 else _fail(ev + ": anyone may connect")


def check_tor_reporter_pow(f: DeploymentFacts, _p: Any) -> Result:
    s = _onion_service(f, "reporter", "reporter app")
    if isinstance(s, Result):
        return s
    ev = f"reporter onion {s.directory}: proof-of-work defences {'on' if s.pow_defenses else 'off'}"
    return _ok(ev) if s.pow_defenses else _fail(ev)


def check_tor_client_side(f: DeploymentFacts, _p: Any) -> Result:
    if f.torrc is None:
        return _na("no torrc found")
    bad = [f"SocksPort {p} is open on the server" for p in f.tor_socks_ports if p != "0"]
    if not f.tor_safe_logging:
        bad.append("SafeLogging is off: tor would log addresses")
    return _fail(*bad) if bad else _ok("no SocksPort on the server; SafeLogging on")


def check_units(f: DeploymentFacts, _p: Any) -> Result:
    if f.units is None:
        return _na("no Peluit systemd units installed")
    if not f.units:
        return _fail("the systemd unit directory holds no Peluit units")
    ev, failed = [], False
    for u in f.units:
        if u.exposure is not None:
            good = u.exposure <= MAX_UNIT_EXPOSURE
            ev.append(f"{u.name}: exposure {u.exposure:.1f} (at most {MAX_UNIT_EXPOSURE})")
        else:
            missing = [k for k, v in REQUIRED_UNIT_SETTINGS.items() if u.settings.get(k) != v]
            good = not missing
            ev.append(f"{u.name}: " + ("all hardening settings present" if good else
                                       "missing " + ", ".join(missing)))
        failed |= not good
    return _fail(*ev) if failed else _ok(*ev)


CONTROLS: tuple[Control, ...] = (
    Control("NET-1", N_("The reporter app and the gateway listen on loopback only."),
            "architecture invariant 3; reachable only as onion services", check_loopback),
    Control("LOG-1", N_("No access log is written anywhere."),
            "architecture invariant 3; policy §7 (no IP address, no access log)",
            check_access_log),
    Control("KEY-1", N_("At least two auditor cards are enrolled and active."),
            "policy §2 (reports are never lost with one key)", check_cards),
    Control("COI-1", N_("A conflict group is configured for reports about the inspectorate."),
            "policy: reports about the Inspectorate General or its head are read outside it",
            check_conflict_group),
    Control("AUTH-1", N_("Every gateway account requires TOTP."),
            "gateway: TOTP for everyone", check_totp),
    Control("AUD-1", N_("The gateway's admin log is one unbroken chain."),
            "gateway: admin log (docs/gateway.md); the workbench keeps what bundles carried",
            check_admin_log),
    Control("KDF-1", N_("argon2id parameters are at least the policy minimum."),
            "architecture invariant 4; crypto.kdf minimum", check_argon2),
    Control("SEC-1", N_("The deployment salt, server key and deployment id are not defaults."),
            "architecture invariant 4; policy §2", check_secrets),
    Control("RET-1", N_("Retention does not exceed the policy's maximum."),
            "policy §7 (retention_max_days)", check_retention),
    Control("STORE-1", N_("The store holds only well-formed envelopes."),
            "architecture invariant 1 (no plaintext at rest)", check_store),
    Control("POL-1", N_("A signed protection policy is in force."),
            "policy §8 (each version numbered and signed)", check_policy_signed),
    Control("POL-2", N_("The workbench's deadlines match the policy."),
            "policy §5 (deadlines)", check_workbench_deadlines),
    Control("ESC-1", N_("Every opened identity has a recorded consent or approval."),
            "policy [escrow] (opening a deposited identity)", check_escrow_openings),
    Control("POL-3", N_("No policy version promises less than the one before it."),
            "policy §8 / 1.1 §11 (reports keep the protection promised when made)",
            check_no_reduction),
    Control("TOR-1", N_("The gateway onion service requires client authorization."),
            "architecture: gateway over Tor with client auth", check_tor_gateway_auth),
    Control("TOR-2", N_("The reporter onion service has proof-of-work defences on."),
            "tor hardening: onion-service PoW", check_tor_reporter_pow),
    Control("TOR-3", N_("Tor on the server opens no SOCKS port and logs safely."),
            "architecture invariant 3", check_tor_client_side),
    Control("SYS-1", N_("The systemd units are hardened."),
            f"deploy: systemd-analyze exposure at most {MAX_UNIT_EXPOSURE}", check_units),
)


# ---- running and reporting ------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    control: Control
    result: Result


def run_controls(facts: DeploymentFacts, policy: Any,
                 controls: tuple[Control, ...] = CONTROLS) -> list[Outcome]:
    """Run every control; a check that raises is a failure with the error as evidence."""
    outcomes = []
    for c in controls:
        try:
            result = c.check(facts, policy)
        except Exception as exc:  # one broken check must not hide the others
            result = _fail(f"the check could not run: {exc.__class__.__name__}")
        outcomes.append(Outcome(c, result))
    return outcomes


def to_json(facts: DeploymentFacts, policy: Any, outcomes: list[Outcome],
            today: dt.date) -> dict[str, Any]:
    return {
        "format": "peluit-policy-check", "version": 1, "checked": today.isoformat(),
        "deployment": facts.config_path,
        "policy": None if policy is None else {"version": policy.version,
                                               "effective": policy.effective.isoformat()},
        "passed": all(o.result.status != "fail" for o in outcomes),
        "controls": [{"id": o.control.id, "statement": o.control.statement,
                      "rule": o.control.rule, "status": o.result.status,
                      "evidence": list(o.result.evidence)} for o in outcomes],
    }


def to_html(report: dict[str, Any], language: str = "id") -> str:
    from .templating import render

    return render("check.html.jinja2", language, report=report, css=_CSS) + "\n"


_CSS = ("body{font:14px/1.4 sans-serif;margin:2em;color:#111}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:.3em .6em;vertical-align:top;text-align:left}"
        "tr.fail td{background:#fde2e2}tr.pass td:nth-child(4){color:#175c2e}")

def gatherer() -> Callable[..., DeploymentFacts]:
    """The server's facts gatherer, found through the ``peluit.facts`` entry point so that
    this package never imports the server."""
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="peluit.facts") if ep.name == "server"]
    if not eps:
        raise ValueError("no facts gatherer installed (entry point peluit.facts:server)")
    return eps[0].load()


def policy_in_force(facts: DeploymentFacts, today: dt.date | None = None) -> Any:
    """The header of the deployment's signed policy in force, or None (POL-1 then fails)."""
    from policies import documents

    if not facts.policy_dir:
        return None
    trusted = None
    if facts.policy_signers is not None:
        from crypto.errors import CryptoError
        from crypto.identity import Card

        trusted = []
        for path in facts.policy_signers:
            try:
                trusted.append(Card.from_bytes(Path(path).read_bytes()).sign_key)
            except (OSError, CryptoError):
                return None  # as the reporter app does: an unusable signer card trusts nobody
    try:
        return documents.current(Path(facts.policy_dir), today, trusted).version.header
    except documents.PolicyError:
        return None


def run_check(config: Path, out_dir: Path, *, policy_dir: Path | None = None,
              workbench_deadlines: Path | None = None, workbench_audit: Path | None = None,
              language: str = "id",
              today: dt.date | None = None,
              gather: Callable[..., DeploymentFacts] | None = None) -> int:
    """``peluit policy check``: gather, check, write check.json and check.html. Returns the
    exit code (1 when a control fails). Raises ValueError for a user error."""
    from policies import documents
    from policies.documents import write_atomic

    today = today or Clock().today()
    facts = (gather or gatherer())(Path(config), policy_dir=policy_dir)
    if workbench_deadlines is not None:
        facts.workbench_deadlines = load_workbench_deadlines(workbench_deadlines)
    if workbench_audit is not None:
        from policies import auditlog

        try:
            entries, _kind = auditlog.load_source(Path(workbench_audit))
        except (OSError, auditlog.AuditFormatError) as exc:
            raise ValueError(f"{workbench_audit}: {exc}") from None
        facts.escrow_openings, facts.escrow_problems = escrow_findings(entries)
    policy = policy_in_force(facts, today)
    outcomes = run_controls(facts, policy)
    report = to_json(facts, policy, outcomes, today)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create {out_dir}: {exc.strerror}") from None
    try:
        write_atomic(out_dir / "check.json",
                      json.dumps(report, indent=2, ensure_ascii=False).encode() + b"\n")
        write_atomic(out_dir / "check.html", to_html(report, language).encode("utf-8"))
    except documents.PolicyError as exc:
        raise ValueError(str(exc)) from None
    for o in outcomes:
        print(f"{o.result.status.upper():4} {o.control.id:8} {o.control.statement}")
        if o.result.status == "fail":
            for line in o.result.evidence:
                print(f"     - {line}")
    print(f"report: {out_dir / 'check.html'}, {out_dir / 'check.json'}")
    return 0 if report["passed"] else 1


def load_workbench_deadlines(path: Path) -> dict[str, int]:
    """The workbench's deadlines: its policy file (TOML with a ``[calendar]`` table, as
    policies/calendar.py reads it, and ``[cases] retention_years``) or JSON of the same fields
    (``case_retention_years`` for the retention). A field left out is the workbench's default."""
    from policies.clocks import CASE_RETENTION_YEARS

    if Path(path).suffix == ".toml":
        import tomllib

        from policies.calendar import CalendarError, load_config

        try:
            deadlines, _overrides = load_config(path)
            with open(path, "rb") as fh:
                cases = tomllib.load(fh).get("cases", {})
        except (CalendarError, OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        years = cases.get("retention_years", CASE_RETENTION_YEARS) \
            if isinstance(cases, dict) else CASE_RETENTION_YEARS
        return {**dataclasses.asdict(deadlines), "case_retention_years": years}
    try:
        obj = json.loads(Path(path).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc.__class__.__name__})") from None
    if not isinstance(obj, dict) or not all(isinstance(v, int) for v in obj.values()):
        raise ValueError(f"{path}: expected an object of whole numbers such as "
                         '{"acknowledge_days": 3, "verify_days": 3, "complete_days": 75}')
    # A field the file leaves out is the workbench's default, exactly as for its TOML file.
    from policies.calendar import CalendarError, DeadlinePolicy

    obj = dict(obj)
    years = obj.pop("case_retention_years", CASE_RETENTION_YEARS)
    try:
        return {**dataclasses.asdict(DeadlinePolicy(**obj)), "case_retention_years": years}
    except (CalendarError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
