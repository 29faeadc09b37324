"""The protection policy's ``[conflict]`` section: the conflict group's members, who alone read
reports about the inspectorate itself (policies/documents, docs/policies.md). Their cards reach
the reporter app only signed by the compliance officer, as the escrow custodians' do."""

from __future__ import annotations

import pytest

from crypto.identity import AuditorIdentity
from policies import documents
from tests.fixtures import escrow as esc
from tests.fixtures.conflict_policy import pin_conflict


def test_signed_policy_names_the_members(tmp_path):
    people = [AuditorIdentity.generate(n) for n in ("Pejabat Menteri", "Unit Independen")]
    officer = pin_conflict(tmp_path / "policy", people)
    landing = documents.LandingPolicy(tmp_path / "policy", [officer.signing.verify_key])
    assert landing.conflict() == {p.key_id for p in people}
    header = landing.verified().version.header
    assert [c.name for c in header.conflict_members()] == ["Pejabat Menteri", "Unit Independen"]


def test_no_section_no_members(tmp_path):
    documents.install(tmp_path / "policy", AuditorIdentity.generate("Petugas"))
    assert documents.LandingPolicy(tmp_path / "policy").conflict() is None


def test_install_names_the_members_before_signing(tmp_path):
    """How the demo signs its policy (peluit/demo.py)."""
    member = AuditorIdentity.generate("Pejabat Menteri")
    documents.install(tmp_path / "policy", AuditorIdentity.generate("Petugas"),
                      conflict=[member.card()])
    assert documents.LandingPolicy(tmp_path / "policy").conflict() == {member.key_id}


def test_a_member_slipped_in_after_signing_is_not_used(tmp_path):
    """The gateway's admin edits the signed header to add their own card: the signature breaks,
    no policy is in force, and nobody is pinned (the form stops asking the question)."""
    officer = AuditorIdentity.generate("Pejabat Menteri")
    pin_conflict(tmp_path / "policy", [officer])
    intruder = AuditorIdentity.generate("Auditor Kawan")
    for version in documents.version_dirs(tmp_path / "policy"):
        header = version / documents.HEADER_FILE
        header.write_text(header.read_text().replace(
            "members = [\n", "members = [\n  '" + intruder.card().to_bytes().decode() + "',\n"))
    assert documents.LandingPolicy(tmp_path / "policy").conflict() is None


def test_dropping_the_section_is_a_reduction(tmp_path):
    """A newer version without [conflict] would stop routing reports about the inspectorate
    away from it: control POL-3 names it like a longer deadline."""
    officer = AuditorIdentity.generate("Pejabat Menteri")
    pin_conflict(tmp_path / "policy", [officer])
    [_older, newer] = documents.version_dirs(tmp_path / "policy")
    header = newer / documents.HEADER_FILE
    header.write_text(header.read_text().split("\n[conflict]\n")[0])
    found = documents.chain_reductions(tmp_path / "policy")
    assert len(found) == 1 and "[conflict]: dropped" in found[0]
    # changing who the members are is not a reduction (an officer replaced)
    pin_conflict(tmp_path / "policy", [AuditorIdentity.generate("Pejabat Baru")])
    assert documents.chain_reductions(tmp_path / "policy") == []


def _member(name: str = "Ani") -> str:
    return "'" + AuditorIdentity.generate(name).card().to_bytes().decode() + "'"


@pytest.mark.parametrize("section", [
    "\n[conflict]\nmembers = []\n",
    "\n[conflict]\nmembers = [{card}, {card}]\n",
    "\n[conflict]\nmembers = [{custodian}]\n",
    "\n[conflict]\nmembers = ['not a card']\n",
    "\n[conflict]\nmembers = [{card}]\nextra = 1\n",
    "\n[conflict]\nmembers = '{card}'\n",
    "\n[conflict]\nmembers = [{seventeen}]\n",
])
def test_bad_sections_refused(tmp_path, section):
    documents.install(tmp_path / "policy")
    card = _member()
    custodian = "'" + esc.custodians(1)[0].card().to_bytes().decode() + "'"
    [version, *_] = documents.version_dirs(tmp_path / "policy")
    header = version / documents.HEADER_FILE
    seventeen = ", ".join(_member(f"A {i}") for i in range(17))
    header.write_text(header.read_text() + section.format(card=card, custodian=custodian,
                                                          seventeen=seventeen))
    with pytest.raises(documents.PolicyError):
        documents.load_version(version)


def test_sixteen_members_fit(tmp_path):
    people = [AuditorIdentity.generate(f"A {i}") for i in range(documents.MAX_CONFLICT_MEMBERS)]
    pin_conflict(tmp_path / "policy", people)
    assert len(documents.LandingPolicy(tmp_path / "policy").conflict()) == 16
