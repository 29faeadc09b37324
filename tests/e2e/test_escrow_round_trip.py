"""Identity in escrow, the whole loop with the real programs: a deployment from ``peluit init``
whose signed policy names two custodians (``peluit policy new-custodian``), the reporter app and
the gateway (WebTest), a vault from ``peluit workbench init``, bundles carried as files.

deposit with the report → inbox bundle → import (the lead sees that a deposit exists) → the lead's
written request on the case page → ``escrow-open`` refused (no consent) → reply bundle → the
reporter sees the request and consents → inbox bundle → import → ``escrow-open`` by a custodian
prints the identity → the audit log has each step, ESC-1 passes → the reporter is told."""

from __future__ import annotations

import re

import pytest

from tests.fixtures import escrow as esc
from tests.fixtures.roundtrip import RoundTrip

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english_cli")]  # reads the CLI's English

CUSTODIAN_PASS = "kustodian kepatuhan yang panjang"
REASON = "Untuk permohonan perlindungan saksi pelapor ke LPSK."


def test_escrow_round_trip(tmp_path, capsys, monkeypatch):
    from policies import documents

    rt = RoundTrip(tmp_path, capsys)
    cfg = rt.cfg

    # Two custodians make their keys; the officer puts their cards in the signed policy.
    cards = []
    for i in (1, 2):
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO(CUSTODIAN_PASS + "\n"))
        out = rt.cli("policy", "new-custodian", f"Kustodian {i}", "--out",
                     str(tmp_path / f"c{i}.sealed"), "--card", str(tmp_path / f"c{i}.card"))
        assert f"custodian Kustodian {i}: fingerprint" in out
        cards.append((tmp_path / f"c{i}.card").read_text().strip())
    from crypto.identity import AuditorIdentity

    officer = AuditorIdentity.generate("Petugas Kepatuhan")
    policy_dir = cfg.base_dir / "policy"
    documents.install(policy_dir)
    for version in documents.version_dirs(policy_dir):
        header = version / documents.HEADER_FILE
        header.write_text(header.read_text() + "\n[escrow]\ncustodians = [\n"
                          + ",\n".join(f"  '{c}'" for c in cards) + "\n]\nconsent_threshold = 1\n")
        documents.sign_version(version, officer)

    rt.install()
    (tmp_path / "custodian.pass").write_text(CUSTODIAN_PASS + "\n")
    open_args = ("workbench", "escrow-open", "--custodian", str(tmp_path / "c2.sealed"),
                 "--custodian-passphrase-file", str(tmp_path / "custodian.pass"), *rt.wb_args)
    reporter, workbench = rt.reporter, rt.workbench

    # --- the reporter files a report and deposits their identity -------------------------------
    codename, _ = rt.file_report(
        ("what", "Kepala bagian pengadaan meminta 10% dari setiap kontrak."), *esc.FORM.items())

    def inbox(n: int) -> str:
        body = rt.fetch_inbox(n)
        for v in esc.IDENTITY.values():
            assert v.encode() not in body
        return rt.import_inbox(n)

    rt.login_gateway()
    assert "2 new submission(s)" in inbox(1)

    # --- the lead sees that a deposit exists, and asks with a reason ---------------------------
    rt.login_workbench()
    listing = workbench.get("/cases")
    cid = re.search(r'/cases/(\d+)"', listing.text).group(1)
    page = workbench.get(f"/cases/{cid}")
    assert 'id="escrow"' in page.text
    for v in esc.IDENTITY.values():
        assert v not in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/escrow"))
    form["reason"] = REASON
    form.submit(status=303)
    request_id = re.search(r"<code>([0-9a-f]{32})</code>",
                           workbench.get(f"/cases/{cid}").text).group(1)

    # --- no consent yet: the custodian is refused -----------------------------------------------
    out = rt.cli(*open_args[:2], "--request", request_id, *open_args[2:], code=1)
    assert "not opened" in out and "not answered" in out

    rt.export_replies(1)
    rt.upload_replies(1)

    # --- the reporter reads the request and consents ---------------------------------------------
    rt.login_reporter(codename)
    page = reporter.get("/followup")
    assert REASON in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/escrow"))
    form.submit("decision", index=0, status=303)  # the first button: consent
    assert "You consented" in reporter.get("/followup").text \
        or "Anda menyetujui" in reporter.get("/followup").text
    rt.logout_reporter()

    assert "1 new submission(s)" in inbox(2)

    # --- the custodian opens it ------------------------------------------------------------------
    out = rt.cli(*open_args[:2], "--request", request_id, *open_args[2:])
    for name, v in esc.IDENTITY.items():
        assert f"{name}: {v}" in out
    page = workbench.get(f"/cases/{cid}")
    assert "with consent" in page.text or "dengan persetujuan pelapor" in page.text

    # The audit log has each step, and ESC-1 passes on it.
    from policies import auditlog, controls

    entries, _ = auditlog.load_source(rt.vault)
    actions = [e.action for e in entries]
    for step in ("escrow.request", "escrow.consent", "escrow.open"):
        assert step in actions
    assert controls.escrow_findings(entries) == (1, [])

    # The reporter is told, with the next reply bundle.
    rt.export_replies(2)
    rt.upload_replies(2)
    rt.login_reporter(codename)
    assert "Kustodian 2" in reporter.get("/followup").text
