"""Disk full: the store, the server database and the workbench vault each on a small file system
of its own (a size-limited tmpfs mounted by the test; root is needed, the test is skipped with
the reason otherwise), filled up during an operation. Each operation must end with a clear page
or CLI message (never a traceback, never the generic "something went wrong"), leave nothing
half-visible and no plaintext, and work again, without a manual step, once space returns."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest
import webtest

from crypto.kdf import TEST_PARAMS

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
