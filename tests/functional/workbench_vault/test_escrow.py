"""Identity in escrow on the workbench (workbench/escrow.py) with a real vault and real inbox
bundles: what import accepts, who can open a deposit and when, and the audit log of each step."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import select

from crypto import escrow as escrow_crypto
from crypto.encoding import b64encode, canonical_json, parse_canonical_json
from crypto.errors import CryptoError
from crypto.identity import CustodianIdentity
from policies import auditlog
from tests.fixtures import escrow as esc
from tests.fixtures.workbench_vault import (
    Item,
    add_person,
    build_inbox,
    in_vault,
    make_vault,
    report_item,
)
from workbench import db, escrow, importer, vault

TODAY = dt.date(2026, 11, 23)
AT = "2026-11-23T10:00Z"


def _deposit_item(report, people, rule=None, **kw) -> Item:
    item = Item("deposit", b"", report=report.report, reporter=report.reporter, **kw)
    item.body = escrow_crypto.seal_deposit(
        esc.IDENTITY, deposit_id=item.id, report_id=item.report, reporter_secret=item.reporter,
        custodians=[p.card() for p in people], rule=rule or escrow_crypto.Rule())
    return item


def _consent_item(report, request_id, deposit_id, decision="consent", release=None) -> Item:
    if decision == "consent" and release is None:
        release = escrow_crypto.release_key(report.reporter, deposit_id)
    body = {"request": request_id, "deposit": deposit_id, "decision": decision,
            "release": b64encode(release) if release is not None else None}
    return Item("consent", json.dumps(body).encode(), report=report.report,
                reporter=report.reporter)


def _import(tv, items, seq):
    return importer.import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq)))


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


@pytest.fixture
def people():
    return esc.custodians(3)


def _actions(tv) -> list[str]:
    return in_vault(tv, lambda s: [auditlog.parse_line(r.entry, "x").action for r in s.scalars(
        select(db.AuditLogRow).order_by(db.AuditLogRow.seq))])


def _request(tv, report, deposit_id) -> str:
    return in_vault(tv, lambda s: escrow.request_opening(
        s, tv.lead.key_id, "2026-0001", report.report, deposit_id,
        "Untuk permohonan perlindungan ke LPSK.", TODAY, AT).id)


def _open(tv, request_id, who, approval=False):
    return in_vault(tv, lambda s: escrow.open_identity(
        s, request_id, who, approval=approval, case_number="2026-0001", today=TODAY, at=AT))


def _sync(tv):
    return in_vault(tv, lambda s: escrow.sync(s, lambda rid: "2026-0001", at=AT))


def test_consent_flow(tv, people):
    report = report_item()
    dep = _deposit_item(report, people)
    _import(tv, [report, dep], 1)
    # What the vault keeps: that a deposit exists, and the document no one here can open.
    found = in_vault(tv, lambda s: escrow.deposits(s, report.report))
    assert [(d["id"], d["custodians"], d["consent_k"]) for d in found] == [(dep.id, 3, 1)]

    req = _request(tv, report, dep.id)
    # The request goes to the reporter with the next reply bundle, sealed to their key.
    marker = in_vault(tv, lambda s: escrow.reply_marker(s, req))
    assert marker == {"request": req, "deposit": dep.id}

    # Before an answer the custodian is refused, before any key is tried.
    with pytest.raises(escrow.EscrowError, match="not answered"):
        _open(tv, req, people[:1])

    _import(tv, [_consent_item(report, req, dep.id)], 2)
    assert _sync(tv) == 1
    assert _open(tv, req, people[2:]) == esc.IDENTITY
    actions = _actions(tv)
    assert actions.index("escrow.deposit.import") < actions.index("escrow.request") \
        < actions.index("escrow.consent.import") < actions.index("escrow.consent") \
        < actions.index("escrow.open")
    # The reporter is told: a message queued to them naming the custodian.
    texts = in_vault(tv, lambda s: [r.text for r in s.scalars(
        select(db.Reply).where(db.Reply.report_id == report.report))])
    assert any(people[2].name in t and "opened" in t for t in texts)
    # ESC-1 reads the vault's own audit log: the opening had a consent before it.
    from policies import controls

    entries, _ = auditlog.load_source(tv.path)
    assert controls.escrow_findings(entries) == (1, [])


def test_refusal_and_invalid_consent_keep_it_closed(tv, people):
    report = report_item()
    dep = _deposit_item(report, people)
    _import(tv, [report, dep], 1)
    refused, forged = _request(tv, report, dep.id), _request(tv, report, dep.id)
    _import(tv, [_consent_item(report, refused, dep.id, "refuse"),
                 _consent_item(report, forged, dep.id, release=bytes(32))], 2)
    _sync(tv)
    with pytest.raises(escrow.EscrowError, match="refused"):
        _open(tv, refused, people)
    with pytest.raises(escrow.EscrowError, match="did not match"):
        _open(tv, forged, people)
    assert "escrow.refuse" in _actions(tv) and "escrow.invalid" in _actions(tv)
    assert "escrow.open" not in _actions(tv)


def test_vault_members_cannot_open(tv, people):
    """The lead and an auditor of the vault, with their real keys and the vault unlocked, try
    every share of the stored deposit, with and without the reporter's release."""
    add_person(tv, "Auditor Budi", "auditor")
    report = report_item()
    dep = _deposit_item(report, people, escrow_crypto.Rule(1, 1))
    _import(tv, [report, dep], 1)
    document = in_vault(tv, lambda s: canonical_json(s.get(db.Submission, dep.id).content))
    assert document == dep.body
    keys = in_vault(tv, lambda s: vault.box_keys(s, tv.lead.vault_key))
    assert len(keys) == 2
    from nacl.exceptions import CryptoError as NaclError
    from nacl.public import SealedBox

    from crypto.encoding import b64decode

    doc = parse_canonical_json(document)
    for key in keys:
        for part in ("consent", "approval"):
            for _, sealed in doc[part]["shares"]:
                with pytest.raises(NaclError):
                    SealedBox(key).decrypt(b64decode(sealed))
    release = escrow_crypto.release_key(report.reporter, dep.id)
    for key in keys:
        as_custodian = CustodianIdentity("x", key, people[0].signing)
        with pytest.raises(CryptoError):
            escrow_crypto.open_deposit(document, report_id=report.report,
                                       reporter_key=bytes(report.reporter.public_key),
                                       custodians=[as_custodian], release=release)


def test_approval_only_where_the_deposit_allows_it(tv, people):
    report = report_item()
    consent_only = _deposit_item(report, people)
    approvable = _deposit_item(report, people, escrow_crypto.Rule(1, 2))
    _import(tv, [report, consent_only, approvable], 1)
    r1, r2 = _request(tv, report, consent_only.id), _request(tv, report, approvable.id)
    with pytest.raises(escrow.EscrowError, match="requires the reporter's consent"):
        _open(tv, r1, people, approval=True)
    with pytest.raises(escrow.EscrowError, match="did not open"):
        _open(tv, r2, people[:1], approval=True)  # one of the two approvals needed
    assert _open(tv, r2, people[:2], approval=True) == esc.IDENTITY
    actions = _actions(tv)
    assert actions.count("escrow.approve") == 2 and "escrow.open" in actions
    opened = in_vault(tv, lambda s: (lambda r: (r.opened_mode, r.opened_day))(
        s.get(escrow.EscrowRequest, r2)))
    assert opened == ("approval", TODAY.isoformat())
    assert in_vault(tv, escrow.opened_without_grounds) == []


def test_transplanted_deposits_refused_at_import(tv, people):
    """A deposit made for one report (or reporter key) carried as a submission of another."""
    from nacl.public import PrivateKey

    report, other = report_item(), report_item()
    _import(tv, [report, other], 1)
    moved = _deposit_item(report, people)  # made for ``report``, sent in ``other``'s name
    moved.report, moved.reporter, moved.reporter_key = (other.report, other.reporter,
                                                        other.reporter.public_key)
    with pytest.raises(importer.ImportRefused, match="moved"):
        _import(tv, [moved], 2)
    # Made for this report id but with another codename's key (another reporter's deposit).
    foreign = _deposit_item(report, people)
    foreign.body = escrow_crypto.seal_deposit(
        esc.IDENTITY, deposit_id=foreign.id, report_id=report.report,
        reporter_secret=PrivateKey.generate(), custodians=[p.card() for p in people],
        rule=escrow_crypto.Rule())
    with pytest.raises(importer.ImportRefused, match="moved"):
        _import(tv, [foreign], 2)
    # Another submission's deposit under a new submission id.
    renamed = _deposit_item(report, people)
    renamed.id = report_item().id
    with pytest.raises(importer.ImportRefused, match="moved"):
        _import(tv, [renamed], 2)
    tampered = _deposit_item(report, people)
    tampered.body = tampered.body.replace(b'"version":1', b'"version":2')
    with pytest.raises(importer.ImportRefused):
        _import(tv, [tampered], 2)


def test_replayed_deposit_and_consent(tv, people):
    """The same deposit again is one deposit; a consent for a request of another report is
    not taken; the first answer to a request stands."""
    report, other = report_item(), report_item()
    dep = _deposit_item(report, people)
    _import(tv, [report, other, dep], 1)
    result = _import(tv, [dep], 2)
    assert result.skipped == 1 and result.imported == 0
    req = _request(tv, report, dep.id)
    stolen = _consent_item(other, req, dep.id)  # another reporter answering this request
    _import(tv, [stolen], 3)
    assert _sync(tv) == 0
    _import(tv, [_consent_item(report, req, dep.id, "refuse")], 4)
    _import(tv, [_consent_item(report, req, dep.id)], 5)
    _sync(tv)
    with pytest.raises(escrow.EscrowError, match="refused"):
        _open(tv, req, people)


def test_request_needs_a_reason_and_a_deposit_of_the_case(tv, people):
    report, other = report_item(), report_item()
    dep = _deposit_item(report, people)
    _import(tv, [report, other, dep], 1)
    with pytest.raises(escrow.EscrowError):
        in_vault(tv, lambda s: escrow.request_opening(s, tv.lead.key_id, "n", report.report,
                                                  dep.id, "   ", TODAY, AT))
    with pytest.raises(escrow.EscrowError):
        in_vault(tv, lambda s: escrow.request_opening(s, tv.lead.key_id, "n", other.report,
                                                  dep.id, "Alasan yang cukup panjang", TODAY,
                                                  AT))
