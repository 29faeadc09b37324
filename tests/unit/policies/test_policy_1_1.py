"""Protection policy 1.1: the corrected legal text, its figures filled from the signed header,
and the rule that a new version never promises less than the one before it."""

import dataclasses
import shutil

import pytest

from crypto.identity import AuditorIdentity
from policies import clocks, documents
from policies.calendar import DeadlinePolicy
from policies.documents import DEFAULT_DIR, PolicyError


def _text(lang: str) -> str:
    return " ".join(documents.load_version(DEFAULT_DIR / "1.1").filled(lang).split())


def test_header_gives_every_service_target_and_the_case_retention():
    h = documents.load_version(DEFAULT_DIR / "1.1").header
    assert set(h.deadlines) == {t.stat for t in clocks.SERVICE_TARGETS}
    assert h.case_retention_years == 5
    # The shipped figures are the defaults every page falls back to (one source of truth).
    assert h.calendar_settings() == {
        k: v for k, v in DeadlinePolicy().__dict__.items()}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_text_names_every_figure_by_placeholder_never_by_number(lang):
    v = documents.load_version(DEFAULT_DIR / "1.1")
    raw = v.text(lang)
    for t in clocks.SERVICE_TARGETS:
        assert "{{deadline." + t.stat + "}}" in raw, t.stat
    assert "{{case_retention_years}}" in raw and "{{retention_max_days}}" in raw
    unit = "working days" if lang == "en" else "hari kerja"
    # A service target written as a bare number would not follow the header.
    for days in (2, 75):
        assert f"**{days} {unit}" not in raw and f"| {days} {unit}" not in raw
    filled = v.filled(lang)
    assert "{{" not in filled and f"75 {unit}" in filled


def test_english_text_carries_the_corrections():
    t = _text("en")
    for fact in (
            "*crime* to *law enforcement* (Article 1 number 4)", "postponed until",
            "not clearly covered", "cannot act as your lawyer", "official channel",
            "not by the inspectorate", "final court judgment", "state treasury",
            "2 per mille", "Rp 200 million", "Rp 10 million", "anonymous report generally",
            "prove that you wrote your report",
            "follow-up page within **2 working days**", "compliance officer monitors",
            "(Article 29)", "decides within 7 days", "needs to know who you are", "148",
            "0857-7001-0048", "110", "112",
            "statute or a court order", "tell you first", "Article 17",
            "Government Regulation No. 94 of 2021", "does not replace that duty",
            "**30 working days**", "Article 12C", "UPG",
            "Controller", "data protection officer", "Article 20(2)", "Purposes", "Recipients",
            "**5 years after the case is closed**", "archive retention schedule",
            "Article 15", "reveal the reporter", "Breach", "presumed innocent",
            "examines and recommends", "official authorised to punish", "referred",
            "Ombudsman", "Presidential Regulation No. 76 of 2013", "every **1 working day(s)**",
            "before a report is archived", "service targets are never lengthened"):
        assert fact in t, fact
    assert "2019/1937" not in t  # the EU yardsticks are not for reporters


def test_indonesian_text_carries_the_corrections():
    t = _text("id")
    for fact in (
            "*tindak pidana* kepada *penegak hukum* (Pasal 1 angka 4)", "ditunda sampai",
            "tidak jelas tercakup", "tidak dapat bertindak sebagai kuasa hukum", "saluran resmi",
            "bukan oleh inspektorat", "berkekuatan hukum tetap", "kas negara", "2 permil",
            "Rp200 juta", "Rp10 juta", "laporan anonim pada umumnya", "membuktikan bahwa Anda",
            "dalam **2 hari kerja**", "(Pasal 29)", "dalam 7 hari", "148", "0857-7001-0048",
            "perintah pengadilan", "memberi tahu Anda lebih dahulu", "Pasal 17",
            "Peraturan Pemerintah Nomor 94 Tahun 2021", "tidak menggantikan",
            "**30 hari kerja**", "Pasal 12C", "UPG", "Pengendali data",
            "Pejabat pelindungan data pribadinya", "Pasal 20 ayat (2)",
            "**5 tahun setelah perkara ditutup**", "jadwal retensi arsip", "Pasal 15",
            "mengungkap pelapor", "dianggap tidak bersalah", "memeriksa dan memberi rekomendasi",
            "pejabat yang berwenang menghukum", "dilimpahkan", "Ombudsman",
            "setiap **1 hari kerja**", "sebelum laporan diarsipkan", "tidak pernah diperpanjang"):
        assert fact in t, fact
    assert "2019/1937" not in t


def test_unknown_placeholder_is_refused(tmp_path):
    d = tmp_path / "1.1"
    shutil.copytree(DEFAULT_DIR / "1.1", d)
    (d / "en.md").write_text((d / "en.md").read_text() + "\n{{deadline.appeal}}\n")
    with pytest.raises(PolicyError, match=r"deadline\.appeal"):
        documents.load_version(d)


def test_rendered_page_shows_the_signed_figures(tmp_path):
    d = tmp_path / "p"
    shutil.copytree(DEFAULT_DIR / "1.1", d / "1.1")
    (d / "1.1" / "signature.json").unlink(missing_ok=True)
    documents.sign_version(d / "1.1", AuditorIdentity.generate("Kepatuhan"))
    r = documents.signed_policy(d, "en", today=documents.load_version(d / "1.1").header.effective)
    assert r.version == "1.1" and "{{" not in r.html and "75 working days" in r.html


def test_shipped_versions_never_reduce_protection():
    assert documents.chain_reductions(DEFAULT_DIR) == []
    old = documents.load_version(DEFAULT_DIR / "1.0").header
    new = documents.load_version(DEFAULT_DIR / "1.1").header
    assert documents.reductions(old, new) == []


def test_a_version_that_lengthens_a_target_or_retention_is_caught(tmp_path):
    d = tmp_path / "p"
    shutil.copytree(DEFAULT_DIR / "1.0", d / "1.0")
    shutil.copytree(DEFAULT_DIR / "1.1", d / "1.1")
    toml = d / "1.1" / "policy.toml"
    toml.write_text(toml.read_text().replace("completion = 75", "completion = 90")
                    .replace("retention_max_days = 30", "retention_max_days = 60"))
    found = documents.chain_reductions(d)
    assert any("completion: 75 -> 90" in r for r in found)
    assert any("retention_max_days: 30 -> 60" in r for r in found)
    assert "REDUCES PROTECTION" in documents.diff(d / "1.0", d / "1.1")
    h = documents.load_version(DEFAULT_DIR / "1.1").header
    assert documents.reductions(h, dataclasses.replace(h, case_retention_years=None)) == [
        "case_retention_years: 5 -> None"]
    fewer = dataclasses.replace(h, deadlines={k: v for k, v in h.deadlines.items()
                                              if k != "carrying"})
    assert documents.reductions(h, fewer) == ["deadlines.carrying: dropped (was 1 working days)"]


def test_pol2_compares_every_service_target_and_the_retention(tmp_path):
    """POL-2 against policy 1.1: the carrying schedule and the case retention are promises too;
    a workbench that disposes after 10 years or expects a bundle every 5 days fails."""
    import json

    from policies.controls import (
        DeploymentFacts,
        check_workbench_deadlines,
        load_workbench_deadlines,
    )

    header = documents.load_version(DEFAULT_DIR / "1.1").header
    f = tmp_path / "wb.json"
    f.write_text(json.dumps({}))  # every field the workbench's default
    facts = DeploymentFacts("x", workbench_deadlines=load_workbench_deadlines(f))
    assert check_workbench_deadlines(facts, header).status == "pass"
    for change in ({"case_retention_years": 10}, {"carry_days": 5}, {"verify_days": 4}):
        f.write_text(json.dumps(change))
        facts = DeploymentFacts("x", workbench_deadlines=load_workbench_deadlines(f))
        result = check_workbench_deadlines(facts, header)
        assert result.status == "fail", change
        assert next(iter(change)) in " ".join(result.evidence)
    toml = tmp_path / "cases.toml"
    toml.write_text("[calendar]\ncarry_days = 1\n[cases]\nretention_years = 7\n")
    facts = DeploymentFacts("x", workbench_deadlines=load_workbench_deadlines(toml))
    assert "case_retention_years: workbench 7, policy 5" in check_workbench_deadlines(
        facts, header).evidence
