"""The protection policy's ``[escrow]`` section: who the custodians are and what opening needs
(policies/documents, docs/policies.md). Custodians' keys reach the reporter app only signed."""

from __future__ import annotations

import pytest

from crypto.identity import AuditorIdentity
from policies import documents
from tests.fixtures import escrow as esc


def test_signed_policy_names_the_custodians(tmp_path):
    people = esc.custodians(3)
    officer = esc.install_policy(tmp_path / "policy", people, consent_k=2, approval_k=3)
    landing = documents.LandingPolicy(tmp_path / "policy", [officer.signing.verify_key])
    cards, rule = landing.escrow()
    assert sorted(c.key_id for c in cards) == sorted(p.key_id for p in people)
    assert (rule.consent_k, rule.approval_k) == (2, 3)


def test_no_section_no_escrow(tmp_path):
    documents.install(tmp_path / "policy", AuditorIdentity.generate("Petugas"))
    assert documents.LandingPolicy(tmp_path / "policy").escrow() is None


def test_custodians_edited_after_signing_are_not_used(tmp_path):
    """A custodian card slipped into the signed header (a seized server's admin adding their
    own key) breaks the signature: no policy, so no escrow at all."""
    people = esc.custodians(1)
    esc.install_policy(tmp_path / "policy", people)
    for version in documents.version_dirs(tmp_path / "policy"):
        header = version / documents.HEADER_FILE
        header.write_text(header.read_text().replace(
            people[0].card().to_bytes().decode(),
            esc.custodians(1)[0].card().to_bytes().decode()))
    assert documents.LandingPolicy(tmp_path / "policy").escrow() is None


@pytest.mark.parametrize("section", [
    "\n[escrow]\ncustodians = []\nconsent_threshold = 1\n",
    "\n[escrow]\ncustodians = [{card}]\nconsent_threshold = 2\n",
    "\n[escrow]\ncustodians = [{card}]\nconsent_threshold = 1\napproval_threshold = 0\n",
    "\n[escrow]\ncustodians = [{card}, {card}]\nconsent_threshold = 1\n",
    "\n[escrow]\ncustodians = [{auditor}]\nconsent_threshold = 1\n",
    "\n[escrow]\ncustodians = ['not a card']\nconsent_threshold = 1\n",
    "\n[escrow]\ncustodians = [{card}]\nconsent_threshold = 1\nextra = 1\n",
])
def test_bad_sections_refused(tmp_path, section):
    documents.install(tmp_path / "policy")
    card = "'" + esc.custodians(1)[0].card().to_bytes().decode() + "'"
    auditor = "'" + AuditorIdentity.generate("Ani").card().to_bytes().decode() + "'"
    [version, *_] = documents.version_dirs(tmp_path / "policy")
    header = version / documents.HEADER_FILE
    header.write_text(header.read_text() + section.format(card=card, auditor=auditor))
    with pytest.raises(documents.PolicyError):
        documents.load_version(version)
