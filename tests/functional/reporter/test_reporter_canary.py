"""No plaintext at rest, proven on the real server process.

A large file full of a canary string (and the canary in the text fields and the file name) is
uploaded through ``peluit serve reporter`` running under ``strace -f``. Then:
* while the upload is paused half-way, every regular file the process has open, deleted ones
  included, is read through /proc/PID/fd: none holds the canary;
* every path the process opened for writing, created or renamed to is read afterwards;
* the data directory, the server's TMPDIR and its output are read;
and the canary appears nowhere, while the stored envelope, opened with the auditor's key,
does hold it (so the scan looked where the data went).

A second test kills the server in the middle of an upload: nothing becomes visible, and the
next start removes the leftover."""

from __future__ import annotations

import os
import re
import secrets
import signal
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from crypto.envelope import open_stream
from crypto.identity import AuditorIdentity
from dropbox_app.store import Store
from tests.fixtures.liveserver import (
    Client,
    Server,
    deployment,
    free_port,
    multipart,
    send_multipart,
)

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
_OPEN = re.compile(r'\b(?:open|openat|openat2|creat)\((?:AT_FDCWD|\d+)?(?:, )?"([^"]+)", ([^,)]+)')
_RENAME = re.compile(r'\brename(?:at2?)?\((?:[^,"]+, )?"[^"]+", (?:[^,"]+, )?"([^"]+)"')
_WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TMPFILE")


def _written_paths(trace: Path, cwd: Path) -> set[Path]:
    paths = set()
    for line in trace.read_text(errors="replace").splitlines():
        for m in _OPEN.finditer(line):
            if any(f in m.group(2) for f in _WRITE_FLAGS) or "creat(" in line:
                paths.add(cwd / m.group(1))
        for m in _RENAME.finditer(line):
            paths.add(cwd / m.group(1))
        if "memfd_create(" in line:
            paths.add(Path("/memfd"))
    return paths


def _open_files(pid: int) -> dict[str, bytes]:
    """Every regular file the process holds open, read through /proc (works when deleted)."""
    out = {}
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
            if not stat.S_ISREG(os.stat(fd_dir / fd).st_mode):
                continue
            with open(fd_dir / fd, "rb") as f:
                out[target] = f.read(256 * MiB)
        except (FileNotFoundError, PermissionError):
            continue
    return out


def _all_files(*roots: Path):
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                yield Path(dirpath) / name


def test_no_plaintext_in_any_file_the_server_touches(tmp_path):
    canary = b"PELUIT-CANARY-" + secrets.token_hex(8).encode()
    port = free_port()
    auditor = AuditorIdentity.generate("Auditor Canary")
    cfg = deployment(tmp_path / "d", port, auditor)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    trace = tmp_path / "strace.log"
    server = Server(cfg, port, env={"TMPDIR": str(tmpdir)}, log=tmp_path / "server.log",
                    wrapper=["strace", "-f", "-qq", "--seccomp-bpf", "-s", "4096",
                             "-e", "trace=%file,memfd_create", "-o", str(trace)])
    during: dict[str, bytes] = {}
    try:
        client = Client(port)
        _codename, token = client.start_report()
        block = (canary * (MiB // len(canary) + 1))[:MiB]
        size = 8 * MiB
        pieces, length, ctype = multipart(
            [("csrf_token", client.csrf), ("form_token", token),
             ("what", "Bukti: " + canary.decode() * 3), ("who_name", canary.decode())],
            [(canary.decode() + ".pdf", size, (block for _ in range(size // MiB)))])

        def inspect():
            time.sleep(0.5)  # the server has read what was sent and waits for more
            during.update(_open_files(server.server_pid()))

        status, page = send_multipart(client, "/report/new/send", pieces, length, ctype,
                                      pause_at=length // 2, on_pause=inspect)
        assert status == 200, page[:300]
    finally:
        server.stop()

    # While paused, the envelope being written was open, and held ciphertext only.
    assert any(re.search(r"/store/[0-9a-f]{32}\.env$", name) for name in during), sorted(during)
    for name, data in during.items():
        assert canary not in data, f"canary in open file {name}"

    written = _written_paths(trace, cfg.parent)
    envelopes = [p for p in written if p.suffix == ".env"]
    assert envelopes, "strace saw no envelope written: the trace is not working"
    for path in written:
        if path.is_file():
            assert canary not in path.read_bytes(), f"canary in {path}"
    for path in _all_files(tmp_path / "d", tmpdir):
        assert canary not in path.read_bytes(), f"canary in {path}"
    assert canary not in (tmp_path / "server.log").read_bytes()

    # The control: the data did go into the store, readable with the auditor's key only.
    found = 0
    store = Store(tmp_path / "d" / "store")
    for member in store.members():
        sink = _Search(canary)
        with store.open(member) as f:
            open_stream(f, sink, [auditor.box])
        found += sink.hits
    assert found >= 2  # the report body and the file


class _Search:
    def __init__(self, needle: bytes):
        self.needle, self.tail, self.hits = needle, b"", 0

    def write(self, data: bytes) -> None:
        data = bytes(data)
        if self.needle in self.tail + data:
            self.hits += 1
        self.tail = data[-len(self.needle):]


def test_a_killed_upload_leaves_nothing_visible(tmp_path):
    port = free_port()
    cfg = deployment(tmp_path / "d", port, AuditorIdentity.generate("A"))
    server = Server(cfg, port)
    store = tmp_path / "d" / "store"
    try:
        client = Client(port)
        _codename, token = client.start_report()
        pieces, length, ctype = multipart(
            [("csrf_token", client.csrf), ("form_token", token), ("what", "w" * 50)],
            [("a.bin", 8 * MiB, (b"\0" * MiB for _ in range(8)))])

        def kill():
            deadline = time.monotonic() + 10  # a loaded machine may take a while to get there
            # Killed once the upload's slot is held and some of it is on disk: just after the
            # slot is claimed, the first blocks may still be in the writer's queue and buffer.
            def writing():
                return Store(store).busy() == 1 and len(list(Store(store).members())) == 1

            while not writing() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert writing()  # one slot being written
            server.stop(signal.SIGKILL)

        with pytest.raises(OSError):
            send_multipart(client, "/report/new/send", pieces, length, ctype,
                           pause_at=length // 2, on_pause=kill)
    finally:
        server.stop()
    db = sqlite3.connect(tmp_path / "d" / "peluit.sqlite")
    for table in ("reports", "submissions"):  # the reporter row exists from issue on
        assert db.execute(f"select count(*) from {table}").fetchone() == (0,)  # noqa: S608
    db.close()
    # The dead upload's slot is full, but no row names it: nothing reads it.
    assert len(list(Store(store).members())) == 1
    # The next start sweeps it: wiped in place, the slot free again.
    again = Server(cfg, port, log=tmp_path / "again.log")
    again.stop()
    assert list(Store(store).members()) == []
    assert b"removed 1 file" in (tmp_path / "again.log").read_bytes()
