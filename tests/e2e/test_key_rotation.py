"""A server-key rotation seen from both ends: the gateway's next inbox bundle is signed by the old
key and announces the new one; the real workbench importer takes it, pins the new key and drops
the old; the bundles after it are signed by the new key and import; and a bundle signed by the
retired key is refused by the workbench."""

import io

from crypto.bundle import make_manifest, write_bundle
from dropbox_app.auditors import enroll
from dropbox_app.gateway.adminlog import SHELL
from tests.fixtures.gateway import add_submission, create_account, login, page_csrf
from tests.fixtures.workbench_vault import make_vault
from workbench.importer import ImportRefused, import_bundle


def _download(dep) -> bytes:
    return dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}).body


def test_rotation_reaches_the_workbench(deployment, tmp_path):
    dep = deployment
    old_key = dep.server_key()
    tv = make_vault(tmp_path, server=old_key, deployment=dep.cfg.deployment_id)
    with dep.db() as db, db.begin():
        enroll(db, tv.lead.identity.card().to_bytes(), dep.clock.day(), actor=SHELL)
    dep.auditor = tv.lead.identity  # submissions are sealed to the vault's lead
    login(dep, create_account(dep, "root", "admin"))

    add_submission(dep, b"satu")
    assert import_bundle(tv.lead, io.BytesIO(_download(dep))).imported == 1
    dep.app.post("/admin/server-key/rotate", {"csrf_token": page_csrf(dep, "/admin")},
                 status=303)
    add_submission(dep, b"dua")
    result = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    new_key = dep.server_key()
    assert new_key.key_id != old_key.key_id
    assert result.rotated_to == new_key.key_id and result.imported == 1

    add_submission(dep, b"tiga")
    result = import_bundle(tv.lead, io.BytesIO(_download(dep)))
    assert result.seq == 1 and result.imported == 1 and result.skipped == 2

    # Someone who kept a copy of the retired key cannot feed the workbench any more.
    forged = make_manifest("inbox", dep.cfg.deployment_id, old_key.signing, 99, [],
                           {"submissions": []})
    out = io.BytesIO()
    write_bundle(out, forged, old_key.signing, lambda n: io.BytesIO())
    try:
        import_bundle(tv.lead, io.BytesIO(out.getvalue()))
    except ImportRefused as exc:
        assert "pinned server" in str(exc) or "not trusted" in str(exc) or "refused" in str(exc)
    else:
        raise AssertionError("a bundle signed by the retired key was imported")
