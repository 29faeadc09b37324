"""A server-key rotation seen from both ends, with the workbench's acknowledgment.

The gateway's inbox bundles, signed by the old key, announce the new one until a reply bundle
signed by a workbench member names the new key as trusted; only then does the gateway switch.
The real workbench importer pins the announced key and keeps the old one until a bundle signed
by the new key arrives; then a bundle signed by the retired key is refused. A lost announcing
bundle costs nothing: the next one announces again, and no one re-pins by hand."""

import io

from crypto.bundle import make_manifest, write_bundle
from dropbox_app.auditors import enroll
from dropbox_app.gateway.adminlog import SHELL
from tests.fixtures.gateway import add_submission, create_account, login, page_csrf
from tests.fixtures.workbench_vault import make_vault
from workbench.exporter import export_replies
from workbench.importer import ImportRefused, import_bundle


def _download(dep) -> bytes:
    return dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}).body


def _upload_replies(dep, tv, tmp_path, name) -> None:
    out = tmp_path / name
    export_replies(tv.lead, out)
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)},
                        upload_files=[("bundle", name, out.read_bytes())])
    assert page.html.find(id="accepted") is not None, page.text[:2000]


def _setup(dep, tmp_path):
    old_key = dep.server_key()
    tv = make_vault(tmp_path, server=old_key, deployment=dep.cfg.deployment_id)
    with dep.db() as db, db.begin():
        enroll(db, tv.lead.identity.card().to_bytes(), dep.clock.day(), actor=SHELL)
    dep.auditor = tv.lead.identity  # submissions are sealed to the vault's lead
    login(dep, create_account(dep, "root", "admin"))
    add_submission(dep, b"satu")
    assert import_bundle(tv.lead, io.BytesIO(_download(dep))).imported == 1
    dep.app.post("/admin/server-key/rotate", {"csrf_token": page_csrf(dep, "/admin"),
                                             "confirm": "yes"},
                 status=303)
    return tv, old_key


def _signed_by_retired(dep, old_key) -> bytes:
    forged = make_manifest("inbox", dep.cfg.deployment_id, old_key.signing, 99, [],
                           {"submissions": []})
    out = io.BytesIO()
    write_bundle(out, forged, old_key.signing, lambda n: io.BytesIO())
    return out.getvalue()


def _assert_retired_key_refused(dep, tv, old_key) -> None:
    try:
        import_bundle(tv.lead, io.BytesIO(_signed_by_retired(dep, old_key)))
    except ImportRefused as exc:
        assert "pinned server" in str(exc) or "not trusted" in str(exc)
    else:
        raise AssertionError("a bundle signed by the retired key was imported")


def test_rotation_waits_for_the_workbench_then_takes_over(deployment, tmp_path):
    dep = deployment
    tv, old_key = _setup(dep, tmp_path)
    add_submission(dep, b"dua")
    result = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    # The whole download went out, and still the old key signs: no one confirmed the new one.
    assert dep.server_key().key_id == old_key.key_id
    assert result.sender == old_key.key_id and result.imported == 1
    new_key = result.rotated_to
    assert new_key and new_key != old_key.key_id
    # The announcement again (the gateway repeats it until it hears back): changes nothing.
    add_submission(dep, b"tiga")
    again = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    assert again.sender == old_key.key_id and again.rotated_to == new_key and again.imported == 1

    _upload_replies(dep, tv, tmp_path, "replies-1.bundle")  # acks, and "I trust new_key"
    assert dep.server_key().key_id == new_key
    add_submission(dep, b"empat")
    result = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    assert result.sender == new_key and result.seq == 1 and result.imported == 1
    assert result.retired == [old_key.key_id]
    # Someone who kept a copy of the retired key cannot feed the workbench any more.
    _assert_retired_key_refused(dep, tv, old_key)


def test_a_lost_rotation_bundle_recovers_without_re_pinning(deployment, tmp_path):
    dep = deployment
    tv, old_key = _setup(dep, tmp_path)
    add_submission(dep, b"dua")
    lost = _download(dep)  # the announcing bundle, downloaded in full, then lost on the way
    assert lost
    add_submission(dep, b"tiga")
    result = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    assert result.sender == old_key.key_id and result.imported == 2 and result.rotated_to
    _upload_replies(dep, tv, tmp_path, "replies-1.bundle")
    assert dep.server_key().key_id == result.rotated_to
    add_submission(dep, b"empat")
    after = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    assert after.sender == result.rotated_to and after.imported == 1
    _assert_retired_key_refused(dep, tv, old_key)


def test_the_announce_command_and_a_confirmation_with_nothing_else(deployment, tmp_path,
                                                                   capsys):
    from peluit.cli import main

    dep = deployment
    tv, _old_key = _setup(dep, tmp_path)
    out = tmp_path / "announce.bundle"
    assert main(["server-key", "announce", str(out), "--config",
                 str(dep.data_dir / "peluit.toml")]) == 0
    result = import_bundle(tv.lead, io.BytesIO(out.read_bytes()))
    assert result.imported == 0 and result.rotated_to
    # Nothing to acknowledge and no question: the reply bundle still goes, to confirm the key.
    _upload_replies(dep, tv, tmp_path, "replies-1.bundle")
    assert dep.server_key().key_id == result.rotated_to
    # Without a rotation waiting there is nothing to announce: one clear line.
    assert main(["server-key", "announce", str(tmp_path / "again.bundle"), "--config",
                 str(dep.data_dir / "peluit.toml")]) != 0
    assert "nothing to announce" in capsys.readouterr().err


def test_a_reply_bundle_that_does_not_confirm_leaves_the_old_key_signing(deployment,
                                                                       tmp_path):
    from tests.fixtures.gateway import reply_bundle

    dep = deployment
    _tv, old_key = _setup(dep, tmp_path)
    # A reply bundle of another member that names no server key (a workbench before this
    # change): accepted, and the rotation keeps waiting.
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)}, upload_files=[
        ("bundle", "r.bundle", reply_bundle(dep))])
    assert page.html.find(id="accepted") is not None
    assert dep.server_key().key_id == old_key.key_id
