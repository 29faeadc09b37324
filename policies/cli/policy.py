"""`peluit policy …`: sign, verify, diff the protection policy; check a deployment's controls;
statistics."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    policy = subparsers.add_parser("policy", help="protection policy, controls and statistics")
    sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    p = sub.add_parser("new-signer", help="create a standalone signing identity for an officer")
    p.add_argument("name", help="the officer's name as it will appear on the card")
    p.add_argument("--out", type=Path, required=True, help="sealed identity file to create")
    p.add_argument("--card", type=Path, help="also write the public card here")
    p.set_defaults(func=_new_signer)

    p = sub.add_parser("new-custodian",
                       help="create a custodian's identity for identity escrow (kept by the "
                            "custodian, never in the auditors' vault); its card goes into the "
                            "policy's [escrow] section")
    p.add_argument("name", help="the custodian's name as it will appear on the card")
    p.add_argument("--out", type=Path, required=True, help="sealed identity file to create")
    p.add_argument("--card", type=Path, help="also write the public card here")
    p.set_defaults(func=_new_signer, custodian=True)

    p = sub.add_parser("install", help="copy the shipped policy into a deployment, unsigned")
    p.add_argument("dest", type=Path, help="the deployment's policy directory, e.g. "
                   "/etc/peluit/policy ([reporter] policy_dir)")
    p.set_defaults(func=_install)

    p = sub.add_parser("sign", help="sign a policy version (both languages and the header)")
    p.add_argument("version_dir", type=Path)
    p.add_argument("--identity", type=Path, required=True,
                   help="the compliance officer's sealed identity (workbench or new-signer)")
    p.set_defaults(func=_sign)

    p = sub.add_parser("verify", help="verify a policy version's signature")
    p.add_argument("version_dir", type=Path)
    p.add_argument("--trust", type=Path, action="append", default=[],
                   help="card of an officer whose signature is required (repeatable)")
    p.set_defaults(func=_verify)

    p = sub.add_parser("diff", help="what changed between two policy versions")
    p.add_argument("a", help="a version directory, or a version of the shipped policy")
    p.add_argument("b")
    p.set_defaults(func=_diff)

    p = sub.add_parser("check", help="run the machine-checkable controls against a deployment")
    p.add_argument("--config", type=Path, required=True, help="the deployment's peluit.toml")
    p.add_argument("--policy", type=Path, help="policy directory (default: the deployment's)")
    p.add_argument("--out", type=Path, default=Path("."), help="directory for the reports")
    p.add_argument("--workbench-deadlines", type=Path,
                   help="the workbench's policy file ([calendar] table, TOML) or JSON of its "
                        "deadlines, to compare with the signed policy")
    p.add_argument("--workbench-audit", type=Path, metavar="VAULT_OR_EXPORT",
                   help="the workbench's audit log (vault directory or JSON Lines export): "
                        "ESC-1 checks that every opened identity had a consent or approval")
    p.set_defaults(func=_check)

    p = sub.add_parser("stats", help="statistics from a workbench export, small counts hidden")
    p.add_argument("export", type=Path, help="the workbench's statistics export (JSON)")
    p.add_argument("--out", type=Path, default=Path("."), help="directory for the reports")
    p.add_argument("--language", choices=("id", "en"), default="id")
    p.set_defaults(func=_stats)


def _version_path(arg: str) -> Path:
    from policies.documents import DEFAULT_DIR

    path = Path(arg)
    if not path.exists() and (DEFAULT_DIR / arg).is_dir():
        return DEFAULT_DIR / arg
    return path


def _new_signer(args: argparse.Namespace) -> int:
    from crypto.identity import AuditorIdentity, CustodianIdentity

    from .common import fail, read_passphrase, write_atomic

    if args.out.exists():
        raise fail(f"{args.out} exists; refusing to overwrite an identity")
    kind = CustodianIdentity if getattr(args, "custodian", False) else AuditorIdentity
    try:
        identity = kind.generate(args.name)
        card = identity.card()
    except ValueError as exc:
        raise fail(str(exc)) from None
    passphrase = read_passphrase("New passphrase: ")
    if len(passphrase) < 12:
        raise fail("the passphrase must have at least 12 characters")
    write_atomic(args.out, identity.seal(passphrase))
    if args.card:
        write_atomic(args.card, card.to_bytes() + b"\n")
    print(f"{'custodian' if card.kind == 'custodian' else 'signer'} {card.name}: "
          f"fingerprint {card.fingerprint}")
    return 0


def _install(args: argparse.Namespace) -> int:
    from policies import documents

    from .common import fail

    try:
        installed = documents.install(args.dest)
    except (OSError, documents.PolicyError) as exc:
        raise fail(f"cannot install into {args.dest}: {exc}") from None
    for path in installed:
        print(f"installed {path} (unsigned: sign it with `peluit policy sign {path} "
              "--identity …`)")
    if not installed:
        print(f"{args.dest}: every shipped version is already there")
    return 0


def _sign(args: argparse.Namespace) -> int:
    from policies import documents

    from .common import fail, load_identity

    path = _version_path(str(args.version_dir))
    try:
        documents.load_version(path)  # fail on a broken version before asking for a passphrase
        identity = load_identity(args.identity)
        sig = documents.sign_version(path, identity)
        verified = documents.verify_version(path)
    except documents.PolicyError as exc:
        raise fail(str(exc)) from None
    print(f"signed {sig.payload['policy']} {sig.payload['version']} as {sig.card.name}")
    print(f"policy fingerprint: {verified.version.fingerprint}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from policies import documents

    from .common import fail, load_card

    trusted = [load_card(p).sign_key for p in args.trust] if args.trust else None
    try:
        verified = documents.verify_version(_version_path(str(args.version_dir)), trusted)
    except documents.PolicyError as exc:
        raise fail(str(exc)) from None
    h = verified.version.header
    print(f"{h.id} {h.version} (in force from {h.effective}): signature good")
    print(f"policy fingerprint: {verified.version.fingerprint}")
    print(f"signed by {verified.signer}, key fingerprint {verified.signer_fingerprint}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from policies import documents

    from .common import fail

    try:
        print(documents.diff(_version_path(args.a), _version_path(args.b)), end="")
    except documents.PolicyError as exc:
        raise fail(str(exc)) from None
    return 0


def _check(args: argparse.Namespace) -> int:
    from policies.controls import run_check

    from .common import fail

    try:
        return run_check(args.config, args.out, policy_dir=args.policy,
                         workbench_deadlines=args.workbench_deadlines,
                         workbench_audit=args.workbench_audit)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _stats(args: argparse.Namespace) -> int:
    from policies import statistics

    from .common import fail

    try:
        return statistics.run_report(args.export, args.out, language=args.language)
    except statistics.StatsError as exc:
        raise fail(str(exc)) from None
