"""`peluit workbench …`: the vault's commands (see peluit/cli.py for the convention).

Every command checks the air gap first: with a non-loopback interface up it refuses, unless
``--demo-not-air-gapped`` is given, and then it says NOT AIR-GAPPED on stderr before anything
else. Passphrases come from a prompt, or from a file for scripts and tests."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from peluit.ground.clock import Clock
from peluit.ground.errors import UserError

DEFAULT_PORT = 8090
# Gateway admin log entries an import prints (the first import may bring a thousand).
SHOW_GATEWAY_LOG = 20


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--demo-not-air-gapped", action="store_true",
                   help="run although a network interface is up (demonstrations only; every "
                        "output then says NOT AIR-GAPPED)")


def _vault_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--vault", dest="dir", type=Path, default=os.environ.get("PELUIT_VAULT"),
                   help="the vault directory (default: $PELUIT_VAULT)")


def _unlock_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as", dest="who", metavar="NAME",
                   help="who you are (name or key id; default: the only auditor of the vault)")
    p.add_argument("--passphrase-file", type=Path, metavar="FILE",
                   help="read your passphrase from the first line of FILE instead of a prompt")


def _unlocking(p: argparse.ArgumentParser, func: Any) -> None:
    """The options of a command that unlocks the vault as one of its people, and its function."""
    _vault_arg(p)
    _unlock_args(p)
    _common(p)
    p.set_defaults(func=func)


def register(subparsers: argparse._SubParsersAction) -> None:
    wb = subparsers.add_parser("workbench", help="the air-gapped auditor workbench")
    sub = wb.add_subparsers(dest="workbench_command", metavar="COMMAND")
    wb.set_defaults(func=lambda args: (wb.print_help(), 2)[1])

    p = sub.add_parser("init", help="create a vault with its first auditor (a lead)")
    p.add_argument("dir", type=Path)
    p.add_argument("--name", required=True, help="the first auditor's name")
    p.add_argument("--server-card", required=True, type=Path,
                   help="the server's signing card (pinned: inbox bundles must be signed by it)")
    p.add_argument("--deployment-id", required=True,
                   help="the server's deployment id (32 hex characters, from its peluit.toml)")
    p.add_argument("--passphrase-file", type=Path, metavar="FILE")
    _common(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add-auditor", help="add a person to the vault")
    p.add_argument("dir", type=Path)
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=["auditor", "lead", "compliance"])
    p.add_argument("--new-passphrase-file", type=Path, metavar="FILE",
                   help="the new person's passphrase (default: they type it at a prompt)")
    _unlock_args(p)
    _common(p)
    p.set_defaults(func=cmd_add_auditor)

    p = sub.add_parser("remove-auditor", help="take a person's access to the vault away (a lead)")
    p.add_argument("dir", type=Path)
    p.add_argument("name", metavar="NAME", help="the person's name or key id")
    _unlock_args(p)
    _common(p)
    p.set_defaults(func=cmd_remove_auditor)

    p = sub.add_parser("safe-copy", help="turn a reporter's file (PDF, Office, image, text) into "
                                         "a PDF of page pixels only, rendered in a sandbox")
    p.add_argument("input", type=Path, metavar="INPUT")
    p.add_argument("output", type=Path, metavar="OUTPUT.pdf")
    p.add_argument("--no-ocr", dest="ocr", action="store_false",
                   help="no text layer (skip reading the pages with Tesseract)")
    _common(p)
    p.set_defaults(func=cmd_safe_copy)

    p = sub.add_parser("import", help="import an inbox bundle (verify, decrypt, file, deduplicate)")
    p.add_argument("bundle", type=Path)
    _unlocking(p, cmd_import)

    p = sub.add_parser("escrow-open",
                       help="a custodian opens a reporter's deposited identity (after the "
                            "reporter's recorded consent, or with custodians' approval where "
                            "the deposit allows it)")
    p.add_argument("--request", required=True, metavar="ID",
                   help="the lead's request (its id, as on the case page)")
    p.add_argument("--custodian", dest="custodians", action="append", type=Path, required=True,
                   metavar="FILE", help="a custodian's sealed identity file (repeat for k of n)")
    p.add_argument("--custodian-passphrase-file", type=Path, metavar="FILE",
                   help="the custodians' passphrases, one line each, in the order given")
    p.add_argument("--approval", action="store_true",
                   help="open with the custodians' approval instead of the reporter's consent")
    _unlocking(p, cmd_escrow_open)

    p = sub.add_parser("export-replies",
                       help="write the signed reply bundle of everything since the last export")
    p.add_argument("out", type=Path)
    p.add_argument("--resend-from", type=int, metavar="SEQ",
                   help="carry again what your bundles SEQ and later carried (only if they "
                        "never reached the gateway: it refuses replies it already has)")
    _unlocking(p, cmd_export)

    p = sub.add_parser("dispose",
                       help="a lead: dispose of closed cases past the retention period (content "
                            "deleted, the fact kept in the audit log)")
    p.add_argument("--dry-run", action="store_true", help="list them, dispose of nothing")
    p.add_argument("--keep", action="append", default=[], metavar="NUMBER",
                   help="a case number to keep (a court, law enforcement or an open dispute "
                        "needs it); may be repeated")
    p.add_argument("--policy-file", type=Path, metavar="FILE",
                   help="the workbench's policy file ([cases] retention_years; default "
                        "VAULT/cases.toml when it exists)")
    _unlocking(p, cmd_dispose)

    p = sub.add_parser("pin-server",
                       help="trust a new server key by its fingerprint (if the bundle that "
                            "announced it was lost)")
    p.add_argument("card", type=Path, help="the server card (`peluit server-key show` on the "
                                           "server)")
    p.add_argument("--fingerprint", required=True,
                   help="the fingerprint as the gateway's admin reads it to you, on another "
                        "channel")
    _unlocking(p, cmd_pin_server)

    gl = sub.add_parser("gateway-log", help="what the vault keeps of the gateway's admin log")
    glsub = gl.add_subparsers(dest="gateway_log_command", metavar="ACTION", required=True)
    p = glsub.add_parser("show", help="the newest entries kept")
    p.add_argument("--last", type=int, default=50, metavar="N")
    _unlocking(p, cmd_gateway_log_show)
    p = glsub.add_parser("forget-after",
                         help="a lead: forget the entries kept after N, so the next import takes "
                              "the gateway's from there (after a restore, or once a reported "
                              "change has been looked into)")
    p.add_argument("seq", type=int, metavar="N")
    _unlocking(p, cmd_gateway_log_forget)

    p = sub.add_parser("serve", help="the workbench UI on http://127.0.0.1 (loopback only)")
    p.add_argument("dir", type=Path)
    p.add_argument("--port", type=_port, default=DEFAULT_PORT)
    _common(p)
    p.set_defaults(func=cmd_serve)


# --- helpers ---------------------------------------------------------------------------------

def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:  # 0: any free port
        raise argparse.ArgumentTypeError("a port is a number from 0 to 65535")
    return port


def _check_air_gap(args: argparse.Namespace) -> bool:
    from . import airgap
    try:
        gapped = airgap.check(args.demo_not_air_gapped)
    except airgap.NotAirGappedError as exc:
        raise UserError(str(exc)) from None
    if not gapped:
        print(f"*** {airgap.BANNER} *** demonstration only: never open real reports here",
              file=sys.stderr)
    return gapped


def _read_passphrase_file(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the passphrase file {path}: "
                        f"{exc.__class__.__name__}") from None
    return text.splitlines()[0] if text else ""


def _prompt_new_passphrase(who: str) -> str:
    import getpass
    first = getpass.getpass(f"New passphrase for {who}: ")
    if getpass.getpass("Type it again: ") != first:
        raise UserError("the two passphrases differ")
    return first


def _passphrase(path: Path | None, prompt: str) -> str:
    if path is not None:
        return _read_passphrase_file(path)
    import getpass
    return getpass.getpass(prompt)


def _default_who(vault_dir: Path, who: str | None) -> str:
    from . import vault
    if who:
        return who
    people = [r for r in vault.auditor_records(vault_dir) if r.role in vault.CONTENT_ROLES]
    if len(people) != 1:
        raise UserError("this vault has several auditors: say who you are with --as NAME")
    return people[0].key_id


def unlock_from_args(args: argparse.Namespace) -> Any:
    """Unlock the vault named by ``args.dir`` for ``--as``; one clear line on failure."""
    from . import vault
    if args.dir is None:
        raise UserError("which vault? give --vault DIR or set PELUIT_VAULT")
    try:
        who = _default_who(args.dir, args.who)
        record = vault.find_record(args.dir, who)
        passphrase = _passphrase(args.passphrase_file, f"Passphrase for {record.name}: ")
        return vault.unlock(args.dir, record.key_id, passphrase)
    except vault.VaultError as exc:
        raise UserError(str(exc)) from None


def _read_card(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read the server card {path}: "
                    f"{exc.strerror or exc.__class__.__name__}") from None


def _print_card(card: Any, role: str) -> None:
    if role == "compliance":
        print("Compliance officers see aggregates only: do NOT enroll this card on the gateway.")
        print(f"Key fingerprint: {card.fingerprint}")
        return
    print("Enroll this auditor card on the gateway, then compare the fingerprint out of band:")
    print(card.to_bytes().decode("utf-8"))
    print(f"Fingerprint: {card.fingerprint}")


# --- commands --------------------------------------------------------------------------------

def cmd_init(args: argparse.Namespace) -> int:
    from . import vault
    _check_air_gap(args)
    server_card = _read_card(args.server_card)
    if args.passphrase_file:
        passphrase = _read_passphrase_file(args.passphrase_file)
    else:
        passphrase = _prompt_new_passphrase(args.name)
    try:
        unlocked, card = vault.init(args.dir, args.name, passphrase, server_card,
                                    args.deployment_id.strip().lower())
    except vault.VaultError as exc:
        raise UserError(str(exc)) from None
    print(f"Vault created in {args.dir} with {args.name} as lead.")
    _print_card(card, "lead")
    unlocked.lock()
    return 0


def cmd_add_auditor(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from . import db, vault
    _check_air_gap(args)
    by = unlock_from_args(args)
    if args.new_passphrase_file:
        new_passphrase = _read_passphrase_file(args.new_passphrase_file)
    else:
        new_passphrase = _prompt_new_passphrase(args.name)
    engine = db.make_engine(args.dir)
    try:
        with db.unlocked(by.vault_key), Session(engine) as session, session.begin():
            _, card = vault.add_auditor(session, by, args.name, args.role, new_passphrase)
            from .audit import record
            record(session, by.key_id, "vault.add_auditor",
                   details={"key_id": card.key_id, "role": args.role})
    except vault.VaultError as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
        by.lock()
    print(f"Added {args.name} ({args.role}).")
    _print_card(card, args.role)
    return 0


def cmd_remove_auditor(args: argparse.Namespace) -> int:
    from . import vault
    from .audit import record

    def remove(session: Any, by: Any) -> Any:
        gone = vault.remove_auditor(session, by, args.name)
        record(session, by.key_id, "vault.remove_auditor",
               details={"key_id": gone.key_id, "role": gone.role})
        return gone

    gone = _with_session(args, remove, content=True)
    vault.wipe_record(args.dir, gone.key_id)  # after the commit: the row already refuses
    print(f"Removed {gone.name}: their passphrase no longer opens this vault.")
    if gone.role in vault.CONTENT_ROLES:
        print(f"Disable their card on the gateway too (key id {gone.key_id}), so new "
              "submissions are no longer sealed to them.")
    return 0


def cmd_pin_server(args: argparse.Namespace) -> int:

    from . import servercards
    card_bytes = _read_card(args.card)
    card = _with_session(args, lambda session, by: servercards.pin_replacement(
        session, by, card_bytes, args.fingerprint, Clock().today().isoformat()))
    print(f"The vault now trusts server key {card.key_id} (fingerprint {card.fingerprint}); "
          "bundles signed by the keys before it are refused.")
    return 0


def _with_session(args: argparse.Namespace, work, content: bool = False):
    """Unlock, run ``work(session, unlocked)`` in one transaction, lock again. With
    ``content``, encrypted columns are readable meanwhile (needs the vault key)."""
    import contextlib

    from sqlalchemy.orm import Session

    from . import db, vault
    _check_air_gap(args)
    by = unlock_from_args(args)
    engine = db.make_engine(args.dir)
    try:
        db.create_schema(engine)
        if content:
            by.require_content()
        # With the vault key, the transaction checks the trust records and seals its changes.
        keys = db.unlocked(by.vault_key) if by.vault_key else contextlib.nullcontext()
        with keys, Session(engine) as session, session.begin():
            return work(session, by)
    except (vault.VaultError, db.SchemaError) as exc:
        raise UserError(str(exc)) from None
    finally:
        engine.dispose()
        by.lock()


def cmd_dispose(args: argparse.Namespace) -> int:
    import datetime as dt

    from sqlalchemy import text

    from .cases import retention
    from .cases.service import User

    policy_file = args.policy_file or (args.dir / "cases.toml" if args.dir and
                                       (args.dir / "cases.toml").is_file() else None)
    try:
        years = retention.load_years(policy_file)
    except retention.RetentionError as exc:
        raise UserError(str(exc)) from None
    today = Clock().today()
    keep = {n.strip() for n in args.keep}

    def work(session: Any, by: Any) -> list[str]:
        user = User(by.key_id, by.identity.name, by.role)
        due = [d for d in retention.due(session, today, years) if d.case.number not in keep]
        if not args.dry_run:
            at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
            for d in due:
                retention.dispose(session, user, d.case, args.dir, today, years, at)
        return [f"{d.case.number} (closed {d.case.closed_day}, retention ended "
                f"{d.disposal_day})" for d in due]

    try:
        done = _with_session(args, work, content=not args.dry_run)
    except retention.WorkflowError as exc:
        raise UserError(f"refused: {exc}") from None
    if not args.dry_run and done:
        from . import db

        engine = db.make_engine(args.dir)
        try:  # no copy of a deleted page stays in the write-ahead log
            with engine.connect() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        finally:
            engine.dispose()
    verb = "Would dispose of" if args.dry_run else "Disposed of"
    print(f"{verb} {len(done)} case(s) closed more than {years} year(s) ago"
          + (":" if done else "."))
    for line in done:
        print(f"  {line}")
    if keep:
        print(f"Kept as asked: {', '.join(sorted(keep))}.")
    return 0


def cmd_gateway_log_show(args: argparse.Namespace) -> int:
    from .gatewaylog import describe, kept

    entries = _with_session(args, lambda session, _by: kept(session, max(args.last, 1)))
    if not entries:
        print("No entry of the gateway's admin log yet: the next inbox bundle brings them.")
    for entry in entries:
        print(describe(entry))
    return 0


def cmd_gateway_log_forget(args: argparse.Namespace) -> int:
    from .gatewaylog import forget_after

    n = _with_session(args, lambda session, by: forget_after(session, by, args.seq))
    print(f"Forgot {n} entr{'y' if n == 1 else 'ies'} after #{args.seq} (recorded in the audit "
          "log); the next import takes the gateway's entries from there.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from . import airgap, db, vault
    from .serve import serve
    gapped = _check_air_gap(args)
    try:
        serve(args.dir, port=args.port, demo_not_air_gapped=not gapped)
    except (vault.VaultError, airgap.NotAirGappedError, db.SchemaError, OSError) as exc:
        raise UserError(str(exc)) from None
    return 0


def _cli_gettext() -> Any:
    """The workbench catalog in the CLI's language (PELUIT_LANGUAGE, else the locale's)."""
    from peluit.ground.errors import cli_language
    from peluit.ground.i18n import translations

    return translations("workbench", "workbench", cli_language()).gettext


class ProgressBar:
    """A long import's or export's progress bar on stderr (tqdm): items done of the total
    (an import's submissions, an export's questions and messages), MB and the rate; drawn
    only on a terminal, at most ten times a second."""

    def __init__(self, stream: Any = None, label: str = ""):
        self.stream = stream or sys.stderr
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int, nbytes: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            # disable=None: no bar when stderr is not a terminal (a log, a pipe, the tests).
            self.bar = tqdm(total=total, desc=self.label, unit="", file=self.stream,
                            disable=None, mininterval=0.1, leave=True, dynamic_ncols=True)
        self.bar.set_postfix_str(f"{nbytes / 1e6:,.1f} MB", refresh=False)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def cmd_import(args: argparse.Namespace) -> int:
    from .db import SchemaError
    from .importer import READ_BUFFER, ImportRefused, import_bundle
    from .vault import VaultError
    _check_air_gap(args)
    _ = _cli_gettext()
    unlocked = unlock_from_args(args)
    bar = ProgressBar(label=_("submissions"))
    try:
        with open(args.bundle, "rb", buffering=READ_BUFFER) as src:
            result = import_bundle(unlocked, src, progress=bar)
    except OSError as exc:
        raise UserError(_("cannot read %(path)s: %(reason)s") % {
            "path": args.bundle, "reason": exc.strerror or exc.__class__.__name__}) from None
    except ImportRefused as exc:
        raise UserError(_("%(reason)s; nothing was imported") % {"reason": exc}) from None
    except (VaultError, SchemaError) as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
        unlocked.lock()
    print(_("Imported bundle %(seq)s: %(num)s new submission(s) (%(reports)s new report(s)), "
            "%(skipped)s already in the vault.") % {
        "seq": result.seq, "num": result.imported, "reports": result.reports_created,
        "skipped": result.skipped})
    if result.other_group:
        print(_("%(num)s submission(s) sealed to another recipient group (reports about the "
                "inspectorate go to the conflict group only): left for that group.")
              % {"num": result.other_group})
    if result.rotated_to and result.rotated_to != result.sender:
        print(_("The server announces a new signing key, %(key)s: the vault trusts it now (and "
                "the current one until the server switches). Export and carry a reply bundle "
                "to the gateway: it confirms the new key.") % {"key": result.rotated_to})
    if result.retired:
        print(_("The server switched keys; the vault no longer trusts %(keys)s.")
              % {"keys": ", ".join(result.retired)})
    if result.foreign_keys:
        ids = ", ".join(sorted(result.foreign_keys))
        print(_("WARNING: %(num)s submission(s) were also sealed to %(keys)s key(s) that belong "
                "to nobody in this vault (%(ids)s). Someone enrolled an auditor card on the "
                "gateway that this team does not know, and whoever holds it can read those "
                "submissions. Check the cards enrolled on the gateway now and disable any you "
                "do not recognise.") % {"num": result.foreign_submissions,
                                        "keys": len(result.foreign_keys), "ids": ids},
              file=sys.stderr)
    if result.unexpected_members:
        names = ", ".join(sorted(result.unexpected_members))
        print(_("Note: submissions are still sealed to %(names)s, who may not read content here "
                "(removed, or a compliance officer): disable their card on the gateway.")
              % {"names": names}, file=sys.stderr)
    _print_gateway_log(result)
    return 0


def _print_gateway_log(result) -> None:
    from .gatewaylog import describe

    shown = result.gateway_log_new[-SHOW_GATEWAY_LOG:]
    if shown:
        more = len(result.gateway_log_new) - len(shown)
        print("Gateway admin actions new to this vault"
              + (f" (the last {len(shown)}; {more} older ones kept too)" if more else "")
              + ":")
        for entry in shown:
            print(f"  {describe(entry)}")
    for problem in result.gateway_log_problems:
        print(f"WARNING: {problem}.", file=sys.stderr)
    if result.gateway_log_problems:
        print("WARNING: the gateway's admin log no longer matches what earlier bundles showed: "
              "someone with access to the server changed or removed entries. Nothing of it was "
              "kept this time; ask the server's admin, and compare the gateway's cards and "
              "accounts with what the team expects.", file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from .db import SchemaError
    from .exporter import ExportRefused, NothingToExport, export_replies
    from .vault import VaultError
    _check_air_gap(args)
    _ = _cli_gettext()
    unlocked = unlock_from_args(args)
    bar = ProgressBar(label=_("questions and messages"))
    try:
        result = export_replies(unlocked, args.out, resend_from=args.resend_from,
                                progress=bar)
    except NothingToExport:
        raise UserError(_("nothing to export: no new question, status or import")) from None
    except (ExportRefused, VaultError, SchemaError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(_("cannot write %(path)s: %(reason)s") % {
            "path": args.out, "reason": exc.strerror or exc.__class__.__name__}) from None
    finally:
        bar.close()
        unlocked.lock()
    print(_("Wrote reply bundle %(seq)s to %(path)s: %(replies)s question(s) or message(s), "
            "%(statuses)s status change(s), %(acks)s acknowledgment(s).") % {
        "seq": result.seq, "path": result.path, "replies": result.replies,
        "statuses": result.statuses, "acks": result.acks})
    if result.held:
        print(_("%(held)s question(s), message(s) or status change(s) wait for a later bundle: a "
                "bundle takes up to 256 KiB for a report, and nothing for a report whose "
                "reporter has not written for 400 days.") % {"held": result.held})
    print(_("Carry it to the gateway and upload it there."))
    return 0


SAFE_COPY_REASONS = {
    "too-large": "the file is too large",
    "unsupported": "not a PDF, Office/OpenDocument file, image, text file or zip archive "
                   "(judged by its content, not its name)",
    "unreadable": "the renderer could not read it (damaged, hostile, or beyond a limit)",
    "too-many-pages": "it has too many pages",
    "timeout": "rendering took too long",
    "broken": "the renderer's output broke the pixel format",
}


def _custodians(args: argparse.Namespace) -> list[Any]:
    """Each custodian's own key, opened with their passphrase (never stored in the vault)."""
    from crypto.errors import CryptoError
    from crypto.identity import CustodianIdentity

    lines = None
    if args.custodian_passphrase_file is not None:
        try:
            lines = args.custodian_passphrase_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {args.custodian_passphrase_file}: "
                            f"{exc.__class__.__name__}") from None
    out = []
    for i, path in enumerate(args.custodians):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}"
                            ) from None
        if lines is not None:
            if i >= len(lines):
                raise UserError("fewer passphrases than custodians in the passphrase file")
            passphrase = lines[i]
        else:
            import getpass
            passphrase = getpass.getpass(f"Passphrase of the custodian key {path.name}: ")
        try:
            out.append(CustodianIdentity.unseal(data, passphrase))
        except CryptoError as exc:
            raise UserError(f"{path}: not a custodian key, or a wrong passphrase "
                            f"({exc.__class__.__name__})") from None
    return out


def cmd_escrow_open(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from peluit.ground.clock import Clock

    from . import escrow
    from .cases.models import Case

    custodians = _custodians(args)
    clock = Clock()

    def work(session: Any, _by: Any) -> dict[str, str]:
        def number(report_id: str) -> str | None:
            case = session.scalar(select(Case).where(Case.report_id == report_id))
            return case.number if case else None

        at = clock.now().strftime("%Y-%m-%dT%H:%MZ")
        escrow.sync(session, number, at=at)  # answers imported since the web UI last looked
        req = session.get(escrow.EscrowRequest, args.request)
        try:
            return escrow.open_identity(
                session, args.request, custodians, approval=args.approval,
                case_number=number(req.report_id) if req else None, today=clock.today(), at=at)
        except escrow.EscrowError as exc:
            raise UserError(f"not opened: {exc}") from None

    identity = _with_session(args, work, content=True)
    print("Opened (recorded in the audit log; the reporter is told with the next reply "
          "bundle). Not stored anywhere: copy what you need by hand.")
    for name in ("name", "nip", "unit", "contact"):
        print(f"  {name}: {identity[name]}")
    return 0


def cmd_safe_copy(args: argparse.Namespace) -> int:
    from peluit.ground.files import write_atomic

    from . import safecopy
    _check_air_gap(args)
    try:
        data = args.input.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {args.input}: {exc.strerror or exc.__class__.__name__}"
                        ) from None
    try:
        copy = safecopy.make(data, ocr=args.ocr)
    except safecopy.SafeCopyError as exc:
        raise UserError(f"no safe copy of {args.input}: "
                        f"{SAFE_COPY_REASONS.get(exc.reason, exc.reason)}") from None
    except safecopy.SandboxUnavailable as exc:
        raise UserError(str(exc)) from None
    try:
        write_atomic(args.output, copy.pdf)
    except OSError as exc:
        raise UserError(f"cannot write {args.output}: {exc.strerror or exc.__class__.__name__}"
                        ) from None
    words = sum(len(t.split()) for t in copy.text)
    print(f"Wrote {args.output}: {copy.pages} page(s) of pixels only "
          f"({len(copy.pdf)} bytes, the original {len(data)} bytes)"
          + (f", a text layer of {words} word(s) read by OCR." if args.ocr else "."))
    return 0
