"""Disk full: the store, the server database and the workbench vault each on a small file system
of its own (a size-limited tmpfs mounted by the test; root is needed, the test is skipped with
the reason otherwise), filled up during an operation. Each operation must end with a clear page
or CLI message (never a traceback, never the generic "something went wrong"), leave nothing
half-visible and no plaintext, and work again, without a manual step, once space returns."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest
import webtest

from crypto.kdf import TEST_PARAMS
from tests.faults import ops

pytestmark = [pytest.mark.faults]

BIG = b"%PDF-1.4 bukti transfer " * 90_000  # 2.1 MB: more than the small file system holds


class SmallFs:
    """A size-limited tmpfs mounted on ``path`` (its contents moved onto it), unmounted (and the
    contents moved back) when done."""

    def __init__(self, path: Path, size_kib: int):
        self.path = path
        self.size_kib = size_kib

    def __enter__(self) -> SmallFs:
        keep = self.path.with_name(self.path.name + ".before")
        self.path.rename(keep)
        self.path.mkdir(mode=0o700)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o",
                                 f"size={self.size_kib}k,mode=0700", "tmpfs", str(self.path)],
                                capture_output=True, text=True)
        if result.returncode:
            self.path.rmdir()
            keep.rename(self.path)
            pytest.skip(f"cannot mount a small tmpfs here ({result.stderr.strip()}): "
                        "the disk-full tests need root (CAP_SYS_ADMIN)")
        for entry in keep.iterdir():
            _move(entry, self.path)
        keep.rmdir()
        return self

    def fill(self) -> None:
        """Take what is left (a filler file), as another writer on the same disk would."""
        with contextlib.suppress(OSError), open(self.path / ".filler", "wb") as f:
            while True:
                f.write(bytes(65536))
                f.flush()

    def free(self, size_kib: int = 64 * 1024) -> None:
        """Space returns: the filler goes and the file system grows."""
        (self.path / ".filler").unlink(missing_ok=True)
        subprocess.run(["mount", "-o", f"remount,size={size_kib}k", str(self.path)], check=True)

    def __exit__(self, *exc: object) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


def _move(entry: Path, dest: Path) -> None:
    import shutil

    shutil.move(str(entry), str(dest / entry.name))


def _empty_wal(engine) -> None:
    """Checkpoint and truncate SQLite's write-ahead log, so the next write needs new blocks
    (pages already allocated in the log would take a small write even on a full disk)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _no_plaintext(root: Path, *canaries: bytes) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.name != ".filler":
            data = path.read_bytes()
            for canary in canaries:
                assert canary not in data, f"plaintext in {path}"


# --- the server ---------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path):
    from tests.fixtures.gateway import make_deployment

    dep = make_deployment(tmp_path, app=False)
    yield dep
    dep.engine.dispose()


def _reporter(dep) -> webtest.TestApp:
    from dropbox_app.app import make_reporter_app

    return webtest.TestApp(make_reporter_app(dep.cfg, engine=dep.engine, clock=dep.clock,
                                             argon2=TEST_PARAMS, kdf_slots=1))


def _server_state(dep) -> tuple[int, int, set[str]]:
    from sqlalchemy import func, select

    from dropbox_app.models import Report, Submission

    with dep.db() as db:
        reports = db.scalar(select(func.count(Report.id)))
        subs = db.scalar(select(func.count(Submission.id)))
        members = set(db.scalars(select(Submission.member)))
    return reports, subs, members


def _full_slots(dep) -> set[str]:
    return {p.name for p in dep.store_dir.iterdir() if p.suffix == ".env" and p.stat().st_size}


def _disk_full_page(res) -> None:
    assert res.status_int == 507, res.status
    assert "Traceback" not in res.text
    assert "out of storage space" in res.text  # the page says what happened, not "went wrong"


def test_upload_when_the_store_fills_up(server):
    from dropbox_app.cli.server import sweep_store
    from tests.fixtures.reporter_client import Reporter

    dep = server
    with SmallFs(dep.store_dir, 1024) as fs:
        sweep_store(dep.cfg)  # the pool of free slots on the small file system
        reporter = Reporter(_reporter(dep))
        reporter.get_codename()
        reporter.confirm()
        res = reporter.report(files=[("bukti.pdf", BIG)], status="*")
        _disk_full_page(res)
        assert _server_state(dep)[:2] == (0, 0), "half of a report is visible"
        assert not _full_slots(dep), "an envelope of the refused upload stayed in the store"
        _no_plaintext(dep.store_dir, b"bukti transfer")

        fs.free()
        res = reporter.report(files=[("bukti.pdf", BIG)])
        reports, subs, members = _server_state(dep)
        assert (reports, subs) == (1, 2)
        assert members == _full_slots(dep)


def test_upload_when_the_database_fills_up(tmp_path):
    from tests.fixtures.gateway import make_deployment
    from tests.fixtures.reporter_client import Reporter

    dbdir = tmp_path / "db"
    dbdir.mkdir()
    with SmallFs(dbdir, 2048) as fs:
        dep = make_deployment(tmp_path, app=False, database_url=f"sqlite:///{dbdir}/peluit.sqlite")
        try:
            reporter = Reporter(_reporter(dep))
            reporter.get_codename()
            reporter.confirm()
            _empty_wal(dep.engine)
            fs.fill()
            # Whichever write comes first (the session's, the report's) meets the full disk.
            res = reporter.app.get("/report/new", status="*")
            if res.status_int == 200:
                res = reporter.report(files=[("bukti.pdf", b"%PDF-1.4 bukti transfer")],
                                      status="*")
            _disk_full_page(res)
            fs.free()
            assert _server_state(dep)[:2] == (0, 0), "half of a report is visible"
            assert not _full_slots(dep), "an envelope of the refused upload stayed in the store"
            reporter.report(files=[("bukti.pdf", b"%PDF-1.4 bukti transfer")])
            assert _server_state(dep)[:2] == (1, 2)
            _no_plaintext(dbdir, b"bukti transfer")
        finally:
            dep.engine.dispose()


# --- the CLI: one clear line, in the user's language ---------------------------------------------

def _cli(capsys, monkeypatch, language: str, *argv: str) -> tuple[int, str]:
    from peluit.cli import main

    monkeypatch.setenv("PELUIT_LANGUAGE", language)
    capsys.readouterr()
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, err


DISK_FULL = {"en": "the disk is full", "id": "disk penuh"}


def _says_disk_full(code: int, err: str, language: str) -> None:
    assert code == 1, err
    # The workbench's demo switch announces itself first; the error is the one line after it.
    err = "".join(line for line in err.splitlines(keepends=True) if not line.startswith("***"))
    assert err.startswith("peluit: ") and err.count("\n") == 1, err  # one line, no traceback
    assert DISK_FULL[language] in err, err


# --- the workbench: import and reply export -----------------------------------------------------

@pytest.fixture
def vault(tmp_path):
    from tests.fixtures.workbench_vault import PASS, Item, build_inbox, make_vault, report_item

    tv = make_vault(tmp_path)
    report = report_item("Pungli di loket")
    items = [report, Item("file", BIG, report=report.report, reporter=report.reporter)]
    (tmp_path / "inbox.bundle").write_bytes(build_inbox(tv, items, seq=1))
    (tmp_path / "vault.pass").write_text(PASS + "\n")
    tv.root, tv.items = tmp_path, items
    return tv


def _workbench(tv, capsys, monkeypatch, language, *argv):
    return _cli(capsys, monkeypatch, language, "workbench", *argv, "--vault", tv.path,
                "--passphrase-file", tv.root / "vault.pass", "--demo-not-air-gapped")


def _vault_holds(tv) -> tuple[set[str], int | None]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from policies import auditlog
    from workbench import db
    from workbench.vault import unlock

    unlocked = unlock(tv.path, tv.lead.key_id, (tv.root / "vault.pass").read_text().strip())
    assert not auditlog.verify(auditlog.load_vault(tv.path))
    engine = db.make_engine(tv.path)
    try:
        with db.unlocked(unlocked.vault_key), Session(engine) as session:
            subs = set(session.scalars(select(db.Submission.id)))
            seq = session.scalar(select(db.BundleSequence.seq)
                                 .where(db.BundleSequence.direction == "inbox"))
    finally:
        engine.dispose()
    return subs, seq


def test_import_when_the_vault_fills_up(vault, capsys, monkeypatch):
    tv = vault
    with SmallFs(tv.path, 1536) as fs:
        for language in ("id", "en"):
            code, err = _workbench(tv, capsys, monkeypatch, language, "import",
                                   tv.root / "inbox.bundle")
            _says_disk_full(code, err, language)
        assert _vault_holds(tv) == (set(), None), "half of the bundle is in the vault"
        assert not [p for p in (tv.path / "files").iterdir()], "a pack of the refused import"
        _no_plaintext(tv.path, b"bukti transfer", b"Pungli di loket")

        fs.free()
        code, err = _workbench(tv, capsys, monkeypatch, "en", "import", tv.root / "inbox.bundle")
        assert code == 0, err
        assert _vault_holds(tv) == ({it.id for it in tv.items}, 1)


def test_reply_export_when_the_media_fills_up(vault, capsys, monkeypatch, tmp_path):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from workbench import db, outbox
    from workbench.importer import import_bundle
    from workbench.vault import unlock

    tv = vault
    import_bundle(tv.lead, io.BytesIO((tv.root / "inbox.bundle").read_bytes()))
    unlocked = unlock(tv.path, tv.lead.key_id, (tv.root / "vault.pass").read_text().strip())
    engine = db.make_engine(tv.path)
    with db.unlocked(unlocked.vault_key), Session(engine) as session, session.begin():
        # A long question (one entry per report per bundle): the bundle outgrows the media.
        outbox.queue_reply(session, tv.items[0].report, unlocked.key_id, "Kapan? " * 14000)
    engine.dispose()
    media = tmp_path / "media"
    media.mkdir()
    with SmallFs(media, 64) as fs:
        fs.fill()
        code, err = _workbench(tv, capsys, monkeypatch, "en", "export-replies",
                               media / "reply.bundle")
        _says_disk_full(code, err, "en")
        assert not [p for p in media.iterdir() if p.name != ".filler"], "a partial bundle"
        engine = db.make_engine(tv.path)
        with db.unlocked(unlocked.vault_key), Session(engine) as session:
            exported = set(session.scalars(select(db.Reply.exported_seq)))
            seq = session.scalar(select(db.BundleSequence.seq)
                                 .where(db.BundleSequence.direction == "reply"))
        engine.dispose()
        assert exported == {None} and seq is None, "the vault counts a bundle that is not there"

        fs.free()
        code, err = _workbench(tv, capsys, monkeypatch, "en", "export-replies",
                               media / "reply.bundle")
        assert code == 0, err
        assert (media / "reply.bundle").stat().st_size > 64 * 1024


# --- the server's commands: backup and retention --------------------------------------------------

def test_backup_when_its_disk_fills_up(server, capsys, monkeypatch, tmp_path):
    from tests.fixtures.gateway import add_submission

    dep = server
    for _ in range(4):
        add_submission(dep, data=BIG[:300_000])
    out_dir = tmp_path / "backups"
    out_dir.mkdir()
    (tmp_path / "pass").write_text(ops.PASSPHRASE + "\n")
    argv = ("backup", out_dir / "server.tar", "--config", dep.cfg.base_dir / "peluit.toml",
            "--passphrase-file", tmp_path / "pass")
    with SmallFs(out_dir, 512) as fs:
        for language in ("id", "en"):
            code, err = _cli(capsys, monkeypatch, language, *argv)
            _says_disk_full(code, err, language)
        assert not list(out_dir.iterdir()), "a partial backup is left"
        fs.free()
        code, err = _cli(capsys, monkeypatch, "en", *argv)
        assert code == 0, err
        assert (out_dir / "server.tar").is_file()


def test_retention_when_the_database_fills_up(tmp_path, capsys, monkeypatch):
    from sqlalchemy import func, select, update

    from dropbox_app.models import Submission
    from tests.fixtures.gateway import add_submission, make_deployment

    dbdir = tmp_path / "db"
    dbdir.mkdir()
    with SmallFs(dbdir, 4096) as fs:
        dep = make_deployment(tmp_path, app=False, database_url=f"sqlite:///{dbdir}/peluit.sqlite")
        try:
            for _ in range(30):
                add_submission(dep, data=b"ciphertext only")
            with dep.db() as db, db.begin():
                db.execute(update(Submission).values(acked_day="2020-01-02"))
            dep.engine.dispose()
            fs.fill()
            argv = ("retention", "run", "--config", dep.cfg.base_dir / "peluit.toml")
            code, err = _cli(capsys, monkeypatch, "en", *argv)
            if code == 0:
                pytest.skip("SQLite deleted the rows in place without needing a page: the full "
                            "disk did not stop this run")
            _says_disk_full(code, err, "en")
            fs.free()
            with dep.db() as db:
                assert db.scalar(select(func.count(Submission.id))) == 30  # all, or none
            code, err = _cli(capsys, monkeypatch, "en", *argv)
            assert code == 0, err
            with dep.db() as db:
                assert db.scalar(select(func.count(Submission.id))) == 0
            assert not {p for p in dep.store_dir.iterdir() if p.stat().st_size}
        finally:
            dep.engine.dispose()


# --- the gateway: an inbox download when the database's disk is full ------------------------------

def test_inbox_download_when_the_database_fills_up(tmp_path):
    from sqlalchemy import select

    from dropbox_app.models import BundleSequence
    from tests.fixtures.gateway import (
        add_submission,
        create_account,
        login,
        make_deployment,
        page_csrf,
    )

    dbdir = tmp_path / "db"
    dbdir.mkdir()
    with SmallFs(dbdir, 4096) as fs:
        dep = make_deployment(tmp_path, database_url=f"sqlite:///{dbdir}/peluit.sqlite")
        try:
            login(dep, create_account(dep, "ani"))
            add_submission(dep, b"ciphertext only")
            token = page_csrf(dep)
            _empty_wal(dep.engine)
            fs.fill()
            res = dep.app.post("/inbox", {"csrf_token": token}, status="*")
            assert res.status_int == 507, res.status
            assert "out of storage space" in res.text and "Traceback" not in res.text
            fs.free()
            with dep.db() as db:  # the failed download took no sequence number
                assert db.scalar(select(BundleSequence.last_seq)
                                 .where(BundleSequence.direction == "inbox")) is None
            res = dep.app.post("/inbox", {"csrf_token": page_csrf(dep)})
            assert res.status_int == 200
        finally:
            dep.engine.dispose()
