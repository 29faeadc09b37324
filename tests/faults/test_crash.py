"""Crash anywhere: ``kill -9`` at seeded random moments during each operation that writes (at
least 50 kills per operation that land before it finished; ``make crash-sweep`` runs more), then
the next start, then the invariants:

* every submission is complete and visible, or absent (no row without its whole envelope, no
  report without its first submission);
* no orphan left after the next start's sweep (no full store slot no row names, no temp file);
* no plaintext anywhere on disk;
* the admin log's chain is intact; bundle sequences agree on both sides; the vault unlocks;
* the operation, run again, completes.

Each kill is one forked child of a pre-imported process (tests/faults/zygote.py) on a fresh copy
of a prepared directory, so a kill costs a few tens of milliseconds plus the operation. The
figures (kills, time for the sweep) are printed: ``pytest -m faults -s tests/faults``."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from crypto.envelope import open_bytes
from tests.faults import ops
from tests.faults.crashkit import Zygote, sweep

pytestmark = [pytest.mark.faults, pytest.mark.slow]

CANARIES = (b"bukti transfer", b"rekaman rapat", b"Ada tambahan bukti")


@pytest.fixture(scope="module")
def shm():
    """The sweep's copies live in memory (/dev/shm): a kill -9 ends a process, not the machine,
    so the page cache survives it exactly as on a disk, and a copy or an fsync costs nothing
    (on this machine's disk the copies alone took longer than the operations). Power loss is
    not what these tests simulate."""
    import tempfile

    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    root = Path(tempfile.mkdtemp(prefix="peluit-crash-", dir=base))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def work(shm, request):
    path = shm / request.node.name
    path.mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


@pytest.fixture(scope="module")
def server_template(shm):
    """A deployment (tests/fixtures/gateway.py) with an enrolled auditor, as files only."""
    from tests.fixtures.gateway import make_deployment

    root = shm / "template"
    root.mkdir()
    dep = make_deployment(root, app=False)
    _settle(dep)
    (root / "passphrase").write_text(ops.PASSPHRASE + "\n")
    (root / "backups").mkdir()
    (root / "tmp").mkdir()
    dep.root = root
    yield dep
    dep.engine.dispose()


class Every:
    """True on every ``n``-th call: a full restart of the operation (which doubles a kill's cost)
    after every ``n``-th kill; the others run the next start's sweep alone."""

    def __init__(self, n: int = 5):
        self.n, self.calls, self.hits = n, 0, 0

    def __call__(self) -> bool:
        self.calls += 1
        self.hits += self.calls % self.n == 0
        return self.calls % self.n == 0


def _settle(dep) -> None:
    """What a first start does (the store's pool filled), so a copy starts like a running
    deployment; and no open connection while the directory is copied."""
    from dropbox_app.cli.server import sweep_store

    dep.engine.dispose()
    sweep_store(dep.cfg)


def _no_plaintext(wd: Path) -> None:
    for path in wd.rglob("*"):
        if path.is_file() and path.name != "child.log":
            data = path.read_bytes()
            for canary in CANARIES:
                assert canary not in data, f"plaintext in {path.relative_to(wd)}"


def _no_temp_files(wd: Path) -> None:
    from peluit.ground.files import is_temp_name

    left = [p.relative_to(wd) for p in wd.rglob("*") if is_temp_name(p.name)]
    left += [p.relative_to(wd) for p in (wd / "tmp").iterdir()] if (wd / "tmp").is_dir() else []
    assert not left, f"left behind: {left}"


def check_server(wd: Path, auditor, config: Path | None = None, *,
                 retained: bool = False) -> dict:
    """The next start (``peluit serve``'s sweep of the store), then the server's invariants."""
    from sqlalchemy import select

    from dropbox_app.cli.server import sweep_store
    from dropbox_app.config import load
    from dropbox_app.cover import known_members
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.gateway import adminlog
    from dropbox_app.models import Report, Submission
    from policies import auditlog

    cfg = load(config or ops.config(wd))
    sweep_store(cfg)
    engine = make_engine(cfg.database_url)
    try:
        with session_factory(engine)() as db:
            subs = db.execute(select(Submission.id, Submission.report_id, Submission.member,
                                     Submission.padded_size, Submission.sha256)).all()
            reports = set(db.scalars(select(Report.id)))
            known = known_members(db)
            log = adminlog.newest(db)
    finally:
        engine.dispose()
    for sid, report_id, member, size, sha in subs:
        data = (cfg.store_dir / member).read_bytes()
        assert len(data) == size, f"submission {sid}: envelope of {len(data)} bytes, not {size}"
        assert hashlib.sha256(data).hexdigest() == sha, f"submission {sid}: envelope changed"
        meta, _body = open_bytes(data, [auditor.box])
        assert (meta["report"], meta["submission"]) == (report_id, sid)
    with_subs = {report_id for _sid, report_id, *_ in subs}
    if not retained:  # retention deletes a report's submissions and keeps the report
        assert reports <= with_subs, "a report is visible without its first submission"
    full = {p.name for p in cfg.store_dir.iterdir() if p.stat().st_size}
    assert full <= known, f"orphaned envelopes after the sweep: {sorted(full - known)[:3]}"
    assert not auditlog.verify(log), "the admin log's chain is broken"
    return {"submissions": {s[0] for s in subs}, "log": len(log)}


# --- upload ------------------------------------------------------------------------------------

def test_kill_during_upload(zygote, server_template, work):
    auditor = server_template.auditor

    def check(wd: Path, status: str) -> None:
        seen = check_server(wd, auditor)
        if status == "ok":
            assert len(seen["submissions"]) >= 4  # report, two files, message and its file
        _no_plaintext(wd)

    result = sweep(zygote, "upload", server_template.root, work, check)
    print(result.line())
    assert not result.failures, result.failures


# --- retention ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def retention_template(shm):
    from sqlalchemy import update

    from dropbox_app.models import Submission
    from tests.fixtures.gateway import add_submission, make_deployment

    root = shm / "retention-template"
    root.mkdir()
    dep = make_deployment(root, app=False)
    for i in range(12):
        add_submission(dep, data=b"ciphertext only %d" % i)
    with dep.db() as db, db.begin():
        db.execute(update(Submission).values(acked_day="2020-01-02"))
    _settle(dep)
    dep.root = root
    yield dep
    dep.engine.dispose()


def test_kill_during_retention(zygote, retention_template, work):
    auditor = retention_template.auditor

    def check(wd: Path, status: str) -> None:
        seen = check_server(wd, auditor, retained=True)
        if status == "ok":
            assert not seen["submissions"]

    result = sweep(zygote, "retention", retention_template.root, work, check)
    print(result.line())
    assert not result.failures, result.failures


# --- backup and restore ------------------------------------------------------------------------

def _backup_complete(out: Path, work: Path) -> None:
    from dropbox_app.backup import _stage

    work.mkdir()
    try:
        staged = _stage(out, work)
        assert "secrets.sealed" in staged.files
    finally:
        shutil.rmtree(work)


def test_kill_during_backup(zygote, server_template, work):
    from peluit.ground.files import remove_temps
    from tests.fixtures.gateway import add_submission

    for _ in range(3):
        add_submission(server_template, data=b"ciphertext for the backup")
    _settle(server_template)
    auditor = server_template.auditor
    restart = Every(10)

    def check(wd: Path, status: str) -> None:
        out = wd / "backups" / "server.tar"
        if status == "ok":
            assert out.is_file()
        if out.exists():  # a backup is there complete, or not at all
            _backup_complete(out, wd / "staged")
        if status == "killed":
            if not out.exists() and restart():
                # The next backup is the restart: it completes where the killed one stopped.
                again, _ = zygote.run("backup", wd)
                assert again == "ok", (wd / "child.log").read_text()
                _backup_complete(out, wd / "staged")
            else:  # what the next backup does first
                remove_temps(out.parent, f".{out.name}.")
        _no_temp_files(wd)
        check_server(wd, auditor)

    result = sweep(zygote, "backup", server_template.root, work, check, restart_every=10**9)
    result.restarts += restart.hits
    print(result.line())
    assert not result.failures, result.failures


def test_kill_during_restore(zygote, server_template, work):
    from tests.fixtures.gateway import add_submission

    for _ in range(3):
        add_submission(server_template, data=b"ciphertext for the backup")
    _settle(server_template)
    template = work / "template"
    shutil.copytree(server_template.root, template)
    status, _ = zygote.run("backup", template)
    assert status == "ok", (template / "child.log").read_text()
    expected = check_server(template, server_template.auditor)["submissions"]
    auditor = server_template.auditor
    restart = Every(5)

    def check(wd: Path, status: str) -> None:
        target = wd / "restored" / "peluit.toml"
        if status == "killed" and restart():
            # The operator runs the same restore again: it completes without a manual step.
            again, _ = zygote.run("restore", wd)
            assert again == "ok", (wd / "child.log").read_text()
            status = "ok"
        if status == "ok" or target.exists():  # a deployment is there complete, or not at all
            assert check_server(wd, auditor, target)["submissions"] == expected
        if status == "ok":
            _no_temp_files(wd)
            assert not [p.name for p in target.parent.iterdir() if p.name.startswith(".")]

    result = sweep(zygote, "restore", template, work / "sweep", check, restart_every=10**9)
    result.restarts += restart.hits
    print(result.line())
    assert not result.failures, result.failures


# --- the workbench: import and reply export ----------------------------------------------------

@pytest.fixture(scope="module")
def vault_template(shm):
    """A vault (cheap argon2), an inbox bundle of three reports with a file each, as files."""
    from tests.fixtures.workbench_vault import PASS, Item, build_inbox, make_vault, report_item

    root = shm / "vault-template"
    root.mkdir()
    tv = make_vault(root)
    items = []
    for i in range(3):
        report = report_item(f"Pungli di loket {i}")
        items += [report, Item("file", ops.FILE_A, report=report.report, reporter=report.reporter,
                               name=f"bukti{i}.pdf")]
    (root / "inbox.bundle").write_bytes(build_inbox(tv, items, seq=1))
    (root / "vault.pass").write_text(PASS + "\n")
    (root / "out").mkdir()
    (root / "tmp").mkdir()
    tv.root, tv.items = root, items
    return tv


def _vault_state(wd: Path, tv) -> dict:
    """Unlock the vault as its lead, verify the audit log, and read what it holds."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from policies import auditlog
    from workbench import db, filestore, vault
    from workbench.vault import vault_box_key

    unlocked = vault.unlock(wd / "vault", tv.lead.key_id, _pass(wd))
    assert not auditlog.verify(auditlog.load_vault(wd / "vault")), "audit log chain broken"
    engine = db.make_engine(wd / "vault")
    try:
        with db.unlocked(unlocked.vault_key), Session(engine) as session:
            seqs = {(r.direction, r.key_id): r.seq
                    for r in session.scalars(select(db.BundleSequence))}
            subs = list(session.scalars(select(db.Submission)))
            files = {}
            key = vault_box_key(unlocked.vault_key)
            for sub in subs:
                if sub.file_path:
                    files[sub.id] = b"".join(filestore.iter_plaintext(wd / "vault", sub, key))
            replies = {r.id: r.exported_seq for r in session.scalars(select(db.Reply))}
            packs = {s.file_path for s in subs if s.file_path}
    finally:
        engine.dispose()
    return {"seqs": seqs, "subs": {s.id for s in subs}, "files": files, "replies": replies,
            "packs": packs}


def _pass(wd: Path) -> str:
    return (wd / "vault.pass").read_text().strip()


def _vault_orphans(wd: Path, state: dict) -> None:
    files = wd / "vault" / "files"
    on_disk = {f"files/{p.name}" for p in files.iterdir()} if files.is_dir() else set()
    assert on_disk <= state["packs"], f"orphans in the vault: {sorted(on_disk - state['packs'])}"


def test_kill_during_import(zygote, vault_template, work):
    tv = vault_template
    every = {it.id for it in tv.items}

    restart = Every()

    def check(wd: Path, status: str) -> None:
        from workbench import filestore
        from workbench.importer import _pack_paths

        if status == "killed" and restart():
            # The next start: opening the vault again and importing the same bundle. A kill that
            # landed after the commit (the import done, the process not yet gone) leaves the
            # bundle imported: the second import then rightly refuses it as already imported.
            committed = _vault_state(wd, tv)["seqs"].get(("inbox", tv.server.key_id)) == 1
            again, _ = zygote.run("import", wd)
            log = (wd / "child.log").read_text()
            if committed:
                assert again == "error" and "already imported" in log, log
            else:
                assert again == "ok", log
            status = "ok"
        elif status == "killed":  # what the next import does first
            from workbench import db

            engine = db.make_engine(wd / "vault")
            filestore.sweep(wd / "vault", lambda: _pack_paths(engine))
            engine.dispose()
        state = _vault_state(wd, tv)
        imported = state["seqs"].get(("inbox", tv.server.key_id))
        if status == "ok" or imported is not None:  # the bundle imported whole, or not at all
            assert imported == 1
            assert state["subs"] == every
            assert all(data == ops.FILE_A for data in state["files"].values())
            assert len(state["files"]) == 3
        else:
            assert not state["subs"], "submissions of a bundle the vault did not record"
        _vault_orphans(wd, state)
        _no_temp_files(wd)
        _no_plaintext(wd)

    result = sweep(zygote, "import", tv.root, work, check, restart_every=10**9)
    result.restarts += restart.hits
    print(result.line())
    for failure in result.failures:  # whole: the assertion's repr cuts a child's log short
        print(failure)
    assert not result.failures, result.failures


@pytest.fixture(scope="module")
def export_template(shm, vault_template):
    """The vault after importing the inbox bundle, with a question and a status per report
    waiting for the next reply bundle."""
    import io

    from sqlalchemy.orm import Session

    from workbench import db, outbox
    from workbench.importer import import_bundle
    from workbench.vault import unlock

    root = shm / "export-template"
    shutil.copytree(vault_template.root, root)
    unlocked = unlock(root / "vault", vault_template.lead.key_id, _pass(root))
    import_bundle(unlocked, io.BytesIO((root / "inbox.bundle").read_bytes()))
    engine = db.make_engine(root / "vault")
    try:
        with db.unlocked(unlocked.vault_key), Session(engine) as session, session.begin():
            for report in {it.report for it in vault_template.items}:
                outbox.queue_reply(session, report, unlocked.key_id, "Kapan kejadiannya?")
                outbox.queue_status(session, report, "verification", unlocked.key_id)
    finally:
        engine.dispose()
    return root


def _reply_bundle(out: Path, tv):
    from crypto.bundle import BundleReader

    with out.open("rb") as f:
        reader = BundleReader(f, {tv.lead.key_id: tv.lead.identity.signing.verify_key}, "reply",
                              lambda _s: None, tv.deployment)
        for member in reader.members():
            member.drain()
    return reader.manifest


def test_kill_during_reply_export(zygote, vault_template, export_template, work):
    from peluit.ground.files import remove_temps

    tv = vault_template
    out_of = lambda wd: wd / "out" / "reply.bundle"  # noqa: E731
    restart = Every()

    def check(wd: Path, status: str) -> None:
        out = out_of(wd)
        state = _vault_state(wd, tv)
        recorded = state["seqs"].get(("reply", tv.lead.key_id))
        if out.exists() and recorded is None and status == "killed":
            # Killed between the bundle's rename and the vault's commit: the next export
            # recognises its own unrecorded bundle and makes it again under the same number
            # (exporter._unrecorded_export).
            again, _ = zygote.run("export", wd)
            assert again == "ok", (wd / "child.log").read_text()
            state = _vault_state(wd, tv)
            recorded = state["seqs"].get(("reply", tv.lead.key_id))
        if out.exists():  # a bundle on the media is one the vault recorded, whole
            manifest = _reply_bundle(out, tv)
            assert recorded == manifest.seq == 1
            assert set(state["replies"].values()) == {1}
            assert len(manifest.body["replies"]) == 3
        else:  # or none, and nothing marked as carried
            assert recorded is None, f"the vault recorded bundle {recorded}, which is not there"
            assert set(state["replies"].values()) == {None}
            if status == "killed" and restart():  # the next export writes it
                again, _ = zygote.run("export", wd)
                assert again == "ok", (wd / "child.log").read_text()
                assert _reply_bundle(out, tv).seq == 1
            elif status == "killed":  # what the next export does first
                remove_temps(out.parent, f".{out.name}.")
        _no_temp_files(wd)
        _no_plaintext(wd)

    result = sweep(zygote, "export", export_template, work, check, restart_every=10**9)
    result.restarts += restart.hits
    print(result.line())
    assert not result.failures, result.failures


# --- the gateway: a reply bundle's upload -------------------------------------------------------

@pytest.fixture(scope="module")
def gateway_template(shm):
    """A deployment with three reports, a gateway account, and a reply bundle answering them
    (a question each, their statuses, and acknowledgments of their submissions)."""
    import json

    from tests.fixtures.gateway import (
        DAY0,
        add_submission,
        create_account,
        make_deployment,
        reply_bundle,
    )

    root = shm / "gateway-template"
    root.mkdir()
    dep = make_deployment(root, app=False)
    subs = [add_submission(dep, data=b"ciphertext") for _ in range(3)]
    account = create_account(dep, "auditor1")
    (root / "account.json").write_text(json.dumps({
        "username": account.username, "passphrase": account.passphrase,
        "totp": account.totp_secret, "now": DAY0}))
    (root / "reply.bundle").write_bytes(reply_bundle(
        dep, replies=[(s.report_id, s.reporter_key, "Kapan kejadiannya?") for s in subs],
        acks=[s.submission_id for s in subs],
        statuses=[(s.report_id, "verification") for s in subs]))
    _settle(dep)
    dep.root, dep.subs = root, subs
    yield dep
    dep.engine.dispose()


def _gateway_replies(wd: Path, dep) -> dict:
    from sqlalchemy import select

    from dropbox_app.config import load
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.models import BundleSequence, Reply, Submission

    cfg = load(ops.config(wd))
    engine = make_engine(cfg.database_url)
    try:
        with session_factory(engine)() as db:
            return {"replies": len(db.scalars(select(Reply.id)).all()),
                    "acked": len([a for a in db.scalars(select(Submission.acked_day)) if a]),
                    # Whole entries in their slots (statuses travel sealed in them).
                    "stored": sum(1 for m, size in db.execute(select(Reply.member,
                                                                      Reply.padded_size))
                                  if (cfg.store_dir / m).stat().st_size == size),
                    "seq": db.scalar(select(BundleSequence.last_seq)
                                     .where(BundleSequence.direction == "reply"))}
    finally:
        engine.dispose()


def test_kill_during_reply_upload(zygote, gateway_template, work):
    dep = gateway_template
    done = {"replies": 3, "acked": 3, "stored": 3, "seq": 1}
    before = {"replies": 0, "acked": 0, "stored": 0, "seq": None}
    restart = Every()

    def check(wd: Path, status: str) -> None:
        check_server(wd, dep.auditor)
        state = _gateway_replies(wd, dep)
        # The bundle applied whole (sequence recorded with it) or not at all.
        assert state in (done, before), state
        if state == before and status == "killed" and restart():  # uploaded again
            again, _ = zygote.run("reply-upload", wd)
            assert again == "ok", (wd / "child.log").read_text()
            assert _gateway_replies(wd, dep) == done
            check_server(wd, dep.auditor)

    result = sweep(zygote, "reply-upload", dep.root, work, check, restart_every=10**9)
    result.restarts += restart.hits
    print(result.line())
    assert not result.failures, result.failures
