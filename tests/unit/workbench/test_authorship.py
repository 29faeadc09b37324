"""The workbench's proof of authorship (workbench/authorship.py): an attestation for the key the
reporter's session sealed in, sent as an ordinary message sealed to the reporter; refused when
no key or two keys arrived; a receipt only for a genuine statement of this deployment."""

import io
import json

import pytest
from nacl.signing import SigningKey

from crypto import authorship as ca
from crypto import bundle, replyentry
from crypto.encoding import b64encode
from tests.fixtures.workbench_vault import Item, build_inbox, in_vault, make_vault, report_item
from workbench import authorship, db
from workbench.audit import last_entry
from workbench.exporter import export_replies
from workbench.importer import import_bundle


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


def _report_with_key(key_b64=None, **kw):
    item = report_item(**kw)
    body = json.loads(item.body)
    if key_b64:
        body["author_key"] = key_b64
    item.body = json.dumps(body).encode()
    return item


def _message(report: Item, key_b64: str) -> Item:
    return Item("message", json.dumps({"text": "x", "in_reply_to": None,
                                       "author_key": key_b64}).encode(),
                report=report.report, reporter=report.reporter)


def test_the_attestation_leaves_as_an_ordinary_message_only_the_reporter_opens(tv, tmp_path):
    author = SigningKey.generate()
    item = _report_with_key(b64encode(bytes(author.verify_key)))
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [item], seq=1)))
    reply = in_vault(tv, lambda s: authorship.attest(s, tv.lead.vault_key, item.report,
                                                   tv.lead.key_id).id)
    card = in_vault(tv, lambda s: authorship.card(s, tv.lead.vault_key))
    assert card.deployment == tv.deployment
    entry = in_vault(tv, lambda s: json.loads(last_entry(s).to_bytes()))
    assert entry["action"] == "authorship.attest" and entry["details"]["report"] == item.report
    export_replies(tv.lead, tmp_path / "r1.bundle")
    with open(tmp_path / "r1.bundle", "rb") as f:
        reader = bundle.BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key},
                                     "reply", lambda _k: None, tv.deployment)
        members = {m.member.name: m.read() for m in reader.members()}
    assert reader.manifest.body["replies"][0]["kind"] == "entry"
    (entry,) = reader.manifest.body["replies"]
    opened = replyentry.open_entry(members[entry["member"]], item.reporter, item.report,
                                   entry["id"])
    (sent,) = opened.items
    assert (sent["id"], sent["kind"]) == (reply, "message")
    att = ca.Attestation.from_bytes(sent["attestation"].encode())
    att.verify(card)
    assert (att.report, att.day, att.category) == (item.report, item.day, "pungli")
    assert bytes(att.author_key) == bytes(author.verify_key)
    st = ca.Statement.sign(att, author, "untuk LPSK")
    receipt = in_vault(tv, lambda s: authorship.receipt(s, tv.lead.vault_key, st.armor(), "LPSK",
                                                      tv.lead.key_id))
    receipt.verify(card)


def test_no_key_two_keys_or_a_foreign_statement_are_refused(tv):
    one, two = (b64encode(bytes(SigningKey.generate().verify_key)) for _ in range(2))
    bare = _report_with_key(None)
    keyed = _report_with_key(one)
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [bare, keyed], seq=1)))
    states = in_vault(tv, lambda s: [authorship.key_state(s.get(db.Report, r))
                                   for r in (bare.report, keyed.report)])
    assert states == ["missing", "ready"]
    with pytest.raises(authorship.AuthorshipError, match="not arrived"):
        in_vault(tv, lambda s: authorship.attest(s, tv.lead.vault_key, bare.report, "x"))
    # A later message brings the key of a report sent without one.
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [_message(bare, one)], seq=2)))
    in_vault(tv, lambda s: authorship.attest(s, tv.lead.vault_key, bare.report, "x"))
    # A second, different key for the same report: a substitution, refused.
    import_bundle(tv.lead, io.BytesIO(build_inbox(tv, [_message(keyed, two)], seq=3)))
    with pytest.raises(authorship.AuthorshipError, match="different"):
        in_vault(tv, lambda s: authorship.attest(s, tv.lead.vault_key, keyed.report, "x"))
    assert in_vault(tv, lambda s: authorship.key_state(s.get(db.Report, keyed.report))) \
        == "conflict"
    other = SigningKey.generate()
    author = SigningKey.generate()
    att = ca.Attestation.issue(other, tv.deployment, keyed.report, "2026-11-23", "pungli",
                               author.verify_key, "2026-11-23")
    with pytest.raises(authorship.AuthorshipError, match="not a genuine"):
        in_vault(tv, lambda s: authorship.receipt(s, tv.lead.vault_key,
                                                ca.Statement.sign(att, author, "").armor(),
                                                "LPSK", "x"))
