"""``peluit verify-authorship STATEMENT --card CARD``: check a reporter's proof of authorship
offline, with nothing but the statement and the deployment's published authorship card (the
format is crypto/authorship.py, docs/crypto.md §13). No server, no codename, no network."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peluit.ground.errors import UserError
from peluit.ground.i18n import N_

# What each failed check means, in the reader's language (crypto.authorship.AuthorshipRefused).
REASONS = {
    "other_deployment": N_("the statement is from another deployment than this card"),
    "other_key": N_("the attestation was not signed with this card's key"),
    "attestation_signature": N_("the deployment's signature does not match: the report, day, "
                                "category or key was changed, or the attestation is forged"),
    "reporter_signature": N_("the reporter's signature does not match: the purpose line or "
                             "another part was changed, or it was signed with another "
                             "codename's key"),
    "receipt_signature": N_("the receipt's signature does not match"),
}


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify-authorship",
        help="check a reporter's proof of authorship offline with the deployment's card")
    p.add_argument("statement", metavar="STATEMENT",
                   help="the statement as text, or the workbench's receipt for one (a file, "
                        "or - for standard input)")
    p.add_argument("--card", type=Path, required=True,
                   help="the deployment's published authorship card")
    p.add_argument("--language", choices=("id", "en"), default="id",
                   help="language of the result (default: id)")
    p.set_defaults(func=cmd_verify_authorship)


def _read_statement(arg: str) -> str:
    if arg == "-":
        return sys.stdin.read(64 * 1024)
    try:
        with open(arg, encoding="utf-8", errors="replace") as f:
            return f.read(64 * 1024)
    except OSError as exc:
        raise UserError(f"{arg}: {exc.strerror}") from None


def cmd_verify_authorship(args: argparse.Namespace) -> int:
    from crypto.authorship import AuthorshipCard, AuthorshipRefused, Receipt, Statement
    from crypto.errors import CryptoError
    from peluit.ground.i18n import translations

    _ = translations("policies", "policies", args.language).gettext
    try:
        card_bytes = args.card.read_bytes()[:64 * 1024]
    except OSError as exc:
        raise UserError(f"{args.card}: {exc.strerror}") from None
    try:
        card = AuthorshipCard.from_bytes(card_bytes)
    except CryptoError as exc:
        raise UserError(_("%(path)s is not a valid authorship card (%(why)s)")
                        % {"path": args.card, "why": exc}) from None
    text = _read_statement(args.statement)
    receipt = None
    try:
        if text.lstrip().startswith("{"):  # the workbench's receipt (JSON) around a statement
            receipt = Receipt.from_bytes(text.encode("utf-8"))
            statement = receipt.statement
        else:
            statement = Statement.from_armor(text)
    except CryptoError as exc:
        raise UserError(_("NOT GENUINE: not a well-formed authorship statement (%(why)s)")
                        % {"why": exc}) from None
    try:
        if receipt is not None:
            receipt.verify(card)
        else:
            statement.verify(card)
    except AuthorshipRefused as exc:
        reason = _(REASONS[exc.code]) if exc.code in REASONS else str(exc)
        raise UserError(_("NOT GENUINE: %(reason)s") % {"reason": reason}) from None
    att = statement.attestation
    print(_("GENUINE: a proof of authorship signed by the deployment and by the reporter."))
    rows = [
        (_("Report"), att.report),
        (_("Received on"), att.day),
        (_("Category"), att.category),
        (_("Purpose"), statement.purpose or "—"),
        (_("Attested on"), att.issued),
        (_("Deployment"), f"{card.name} ({card.deployment})"),
        (_("Card fingerprint"), card.fingerprint),
    ]
    if receipt is not None:
        rows.append((_("Counter-signed for"), f"{receipt.recipient} ({receipt.issued})"))
    width = max(len(k) for k, _v in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
    print(_("Whoever presents this statement holds the codename that filed the report, or got "
            "the statement from its holder. It says nothing about any other report."))
    return 0
