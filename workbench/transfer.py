"""Bundle import and reply export started from the workbench UI (workbench/web/views/transfer.py).

An import of a large bundle takes minutes, longer than a browser waits for one response, so it
runs in a background thread of the workbench process and the page that follows it refreshes
itself (``<meta http-equiv="refresh">``: no JavaScript) until the thread is done. The thread
calls the same ``import_bundle`` as ``peluit workbench import`` (all or nothing, audited there);
what it reports is kept in memory only, with the job, and goes with the process.

The bundle is chosen by its path on this machine, not uploaded: the workbench UI parses every
request body in memory under a 1 MiB cap (web/forms.py), and a bundle is often far larger. The
page lists the bundles it finds where a browser download or a USB stick puts them."""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import vault
from .importer import READ_BUFFER, ImportRefused, ImportResult, import_bundle

#: How a bundle's file name ends (the gateway's downloads, our own exports).
SUFFIX = ".bundle"
#: Bundles listed on the page, newest first.
LISTED = 20


@dataclass
class ImportJob:
    id: str
    path: Path
    by: str  # the auditor's key id: only they see the job
    size: int
    done: int = 0
    total: int = 0
    nbytes: int = 0
    state: str = "running"  # running, done, refused
    result: ImportResult | None = None
    error: str | None = None
    started: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def percent(self) -> int:
        if self.total:
            return min(100, 100 * self.done // self.total)
        return min(100, 100 * self.nbytes // self.size) if self.size else 0

    def progress(self, done: int, total: int, nbytes: int) -> None:
        self.done, self.total, self.nbytes = done, total, nbytes


class Jobs:
    """The imports of this workbench process; one at a time (a second bundle waits its turn
    in the vault's write lock anyway, and two progress bars would only confuse)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, ImportJob] = {}

    def running(self) -> ImportJob | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.state == "running"), None)

    def get(self, job_id: str, key_id: str) -> ImportJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.by == key_id else None

    def start(self, unlocked: vault.Unlocked, path: Path) -> ImportJob:
        """Start importing ``path``; raise ImportRefused (one clear line) before any thread
        starts if the file cannot be read or another import is running."""
        unlocked.require_content()
        try:
            if not path.is_file():
                raise ImportRefused("not-a-file")
            size = path.stat().st_size
            with open(path, "rb"):
                pass
        except OSError:
            raise ImportRefused("unreadable") from None
        with self._lock:
            if any(j.state == "running" for j in self._jobs.values()):
                raise ImportRefused("busy")
            job = ImportJob(secrets.token_urlsafe(12), path, unlocked.key_id, size)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, unlocked), daemon=True,
                         name=f"import-{job.id}").start()
        return job

    @staticmethod
    def _run(job: ImportJob, unlocked: vault.Unlocked) -> None:
        try:
            with open(job.path, "rb", buffering=READ_BUFFER) as src:
                job.result = import_bundle(unlocked, src, progress=job.progress)
            job.state = "done"
        except ImportRefused as exc:
            job.error, job.state = str(exc), "refused"
        except OSError as exc:
            job.error, job.state = f"cannot read the file: {exc.strerror or 'error'}", "refused"
        except Exception as exc:  # noqa: BLE001 - the page must say it failed, not spin forever
            job.error, job.state = exc.__class__.__name__, "refused"


def folders(vault_path: Path, configured: str | None = None) -> list[Path]:
    """Where bundles are looked for: the configured folders (``workbench.transfer_dirs``,
    separated by the OS path separator), else the user's Downloads, their removable media
    (/media/USER/*, /run/media/USER/*) and the folder that holds the vault."""
    if configured:
        return [Path(p).expanduser() for p in configured.split(os.pathsep) if p]
    user = getpass.getuser()
    out = [Path.home() / "Downloads"]
    for media in (Path("/media") / user, Path("/run/media") / user):
        with contextlib.suppress(OSError):
            out += sorted(p for p in media.iterdir() if p.is_dir())
    out.append(Path(vault_path).resolve().parent)
    return [p for p in out if p.is_dir()]


def bundles(dirs: list[Path]) -> list[tuple[Path, int, dt.datetime]]:
    """Bundle files in ``dirs`` (not their subfolders), newest first: (path, size, modified)."""
    found: dict[Path, tuple[Path, int, dt.datetime]] = {}
    for d in dirs:
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            if e.name.endswith(SUFFIX) and not e.name.startswith(".") and e.is_file():
                st = e.stat()
                found[Path(e.path)] = (Path(e.path), st.st_size,
                                       dt.datetime.fromtimestamp(st.st_mtime, dt.UTC))
    return sorted(found.values(), key=lambda b: b[2], reverse=True)[:LISTED]


def export_path(folder: Path, key_id: str, now: dt.datetime | None = None) -> Path:
    """A new file name in ``folder`` for a reply bundle (the exporter never overwrites one)."""
    stem = f"peluit-replies-{key_id[:8]}-{(now or dt.datetime.now(dt.UTC)):%Y%m%d-%H%M%S}"
    out, n = folder / f"{stem}{SUFFIX}", 1
    while out.exists():
        n += 1
        out = folder / f"{stem}-{n}{SUFFIX}"
    return out


class Exported:
    """Reply bundles this process wrote from the UI, by file name: the download link serves
    only these (never a path from the request)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, Path] = {}

    def add(self, path: Path) -> None:
        with self._lock:
            self._paths[path.name] = path

    def get(self, name: str) -> Path | None:
        with self._lock:
            return self._paths.get(name)


def includeme(config: Any) -> None:
    # Services found by class (request.find_service), as the workbench's other capabilities.
    config.register_service(Jobs(), Jobs)
    config.register_service(Exported(), Exported)
