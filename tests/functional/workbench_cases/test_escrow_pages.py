"""The case page's identity-in-escrow section (workbench/cases/templates/_escrow.jinja2): what
auditors, leads and the compliance officer see and may do, through the real workbench app."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from crypto import escrow as escrow_crypto
from tests.fixtures import escrow as esc
from tests.fixtures.cases_web import post
from tests.fixtures.workbench_vault import Item, build_inbox, report_item
from workbench import db, escrow, importer
from workbench.cases.models import Case


def _with_deposit(tv):
    people = esc.custodians(2)
    report = report_item("Kepala dinas meminta uang pelicin", day="2026-03-16")
    dep = Item("deposit", b"", report=report.report, reporter=report.reporter, day="2026-03-16")
    dep.body = escrow_crypto.seal_deposit(
        esc.IDENTITY, deposit_id=dep.id, report_id=report.report,
        reporter_secret=report.reporter, custodians=[p.card() for p in people],
        rule=escrow_crypto.Rule(1, 2))
    importer.import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [report, dep], 1)))
    return report, dep


def test_lead_asks_auditor_sees_compliance_counts(tv, lead, auditor, compliance, store):
    report, dep = _with_deposit(tv)
    lead.get("/cases")  # opens the case for the imported report
    cid = store.query(lambda s: s.scalar(select(Case.id).where(Case.report_id == report.report)))

    page = auditor.get(f"/cases/{cid}")
    assert 'id="escrow"' in page.text and dep.id[:8] in page.text
    assert "action='escrow'" not in page.text and f"/cases/{cid}/escrow" not in page.text
    for value in esc.IDENTITY.values():
        assert value not in page.text  # nobody here can read it
    post(auditor, f"/cases/{cid}/escrow", {"deposit": dep.id, "reason": "x" * 20}, status=403)

    page = lead.get(f"/cases/{cid}")
    assert f"/cases/{cid}/escrow" in page.text
    post(lead, f"/cases/{cid}/escrow", {"deposit": dep.id, "reason": "pendek"}, status=400)
    post(lead, f"/cases/{cid}/escrow", {"deposit": "0" * 32,
                                        "reason": "Untuk permohonan ke LPSK."}, status=400)
    post(lead, f"/cases/{cid}/escrow", {"deposit": dep.id,
                                        "reason": "Untuk permohonan perlindungan ke LPSK."})
    [req] = store.query(lambda s: s.scalars(select(escrow.EscrowRequest)).all())
    assert req.deposit_id == dep.id and req.answer is None
    reply = store.query(lambda s: s.get(db.Reply, req.id))
    assert reply.text == "Untuk permohonan perlindungan ke LPSK." and reply.kind == "message"
    page = lead.get(f"/cases/{cid}")
    assert req.id in page.text

    compliance.get(f"/cases/{cid}", status=403)
    export = json.loads(compliance.get("/cases/export.json").body)
    [rec] = export["cases"]
    assert rec["identity_deposited"] is True and rec["identity_opened"] is False
