"""``peluit backup OUT`` / ``peluit restore IN``: a consistent copy of a server deployment.

What a backup holds, as one uncompressed tar (envelopes do not compress):

- ``config/peluit.toml``: the configuration as it is;
- ``db/peluit.sqlite`` (SQLite's online backup API: a consistent snapshot while the apps run)
  or ``db/peluit.pgdump`` (``pg_dump --format=custom``, one transaction snapshot);
- ``store/<slot>.env``: every full slot of the store, copied *after* the database snapshot, so
  every envelope the snapshot refers to is there (a slot's row commits only once its envelope
  is complete; an envelope added meanwhile is an orphan the store's sweep wipes later);
- ``secrets.sealed``: the deployment salt, the server signing key (and the next one while a
  rotation waits for a workbench to confirm it), the server secret (``server.secret``: the key
  of the login throttle's hashes and of the gateway's sealed TOTP seeds, so the database alone
  mints no second-factor code; dropbox_app/serversecret.py), and, when ``[tor] data_dir``
  is readable, both onion services' keys and the gateway's authorized clients, sealed with a
  passphrase (argon2id + XChaCha20-Poly1305, crypto.sealed). These are the only secrets on the
  server: the database and the store hold ciphertext, ids, padded sizes, days, public keys;
- ``MANIFEST.json`` last: format, deployment id, schema revision, SHA-256 of every member.
  Restore checks every member against it before anything is put in place.

The archive is written to a temporary name beside OUT, fsynced, then renamed. A backup or a
restore killed half-way (``kill -9``, a full disk) leaves hidden ``.tmp`` names beside OUT or a
staging directory beside the configuration; the next backup to the same OUT, or the next
restore into the same directory, removes them first (under an exclusive ``flock`` on the
directory, so a run still going elsewhere in it is waited for, never swept). A restore puts the
configuration in place last: until then it lies under ``.<name>.restoring``, which tells the next
restore that the half-restored database and store beside it are its own to replace
(tests/faults/test_crash.py kills both at random moments)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peluit.ground.errors import UserError
from peluit.ground.files import (
    TEMP_SUFFIX,
    atomic_writer,
    fsync_dir,
    remove_temps,
    replacing,
    write_atomic,
)

FORMAT = "peluit-backup"
VERSION = 1
SECRETS_LABEL = "peluit-backup-secrets"
ONION_FILES = ("hs_ed25519_secret_key", "hs_ed25519_public_key", "hostname")
ONION_SERVICES = ("peluit-reporter", "peluit-gateway")
_STORE_MEMBER = re.compile(r"^store/[0-9a-f]{32}\.env$")
_SECRET_NAME = re.compile(
    r"^(salt|server\.key|server\.key\.next|server\.secret|tor/peluit-(reporter|gateway)/(hs_ed25519_secret_key|"
    r"hs_ed25519_public_key|hostname|authorized_clients/[A-Za-z0-9_-]{1,40}\.auth))$")
_CHUNK = 1 << 20


class BackupError(UserError):
    """The backup or restore cannot go on; the message says why."""


# -- what a killed run leaves behind ------------------------------------------------------------

@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory`` (no file made): one backup or restore at a
    time per directory, so sweeping a killed run's leftovers never touches a live run's."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- backup -------------------------------------------------------------------------------------

def make_backup(config_path: Path, out: Path, passphrase: Callable[[], str] | None) -> dict:
    """Back up the deployment configured at ``config_path`` into ``out`` (which must not
    exist); the secrets go in sealed with the passphrase ``passphrase()`` gives (asked only
    once the configuration loaded), or are left out when it is None."""
    from .config import load

    cfg = load(config_path)
    if out.exists():
        raise BackupError(f"{out} exists; not overwriting")
    phrase = passphrase() if passphrase is not None else None
    return {**write_backup(cfg, config_path, out, phrase), "secrets": phrase is not None}


def write_backup(cfg: Any, config_path: Path, out: Path, passphrase: str | None) -> dict:
    with _directory_lock(out.parent):
        remove_temps(out.parent, f".{out.name}.")
        if out.exists():
            raise BackupError(f"{out} exists; not overwriting")
        return _write_backup(cfg, config_path, out, passphrase)


def _write_backup(cfg: Any, config_path: Path, out: Path, passphrase: str | None) -> dict:
    from .db import current_revision

    hashes: dict[str, str] = {}
    envelopes = 0
    # The database snapshot is staged beside OUT under a temp name, so a killed run's copy is
    # found and removed by the next run (in TMPDIR nothing would ever sweep it).
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", suffix=f".work{TEMP_SUFFIX}",
                                     dir=out.parent) as work, \
            atomic_writer(out) as raw, tarfile.open(fileobj=raw, mode="w|") as tar:
        _add_bytes(tar, "config/peluit.toml", config_path.read_bytes(), hashes)
        db_name, db_file = _snapshot_db(cfg.database_url, Path(work))
        _add_file(tar, f"db/{db_name}", db_file, hashes)
        db_file.unlink()
        for member in sorted(_store_members(cfg.store_dir)):
            _add_file(tar, f"store/{member}", cfg.store_dir / member, hashes)
            envelopes += 1
        if passphrase is not None:
            from crypto.sealed import seal

            _add_bytes(tar, "secrets.sealed",
                       seal(_secrets_tar(cfg), passphrase, SECRETS_LABEL), hashes)
        manifest = {"format": FORMAT, "version": VERSION,
                    "deployment_id": cfg.deployment_id,
                    "revision": current_revision(cfg.database_url),
                    "db": db_name, "members": hashes}
        _add_bytes(tar, "MANIFEST.json",
                   json.dumps(manifest, sort_keys=True, indent=1).encode(), {})
    return {"envelopes": envelopes, "db": db_name}


def _store_members(store_dir: Path) -> Iterator[str]:
    from .store import Store

    if store_dir.is_dir():
        yield from Store(store_dir).members()


def _tarinfo(name: str, size: int, mtime: int = 0) -> tarfile.TarInfo:
    # Fixed owner and mode, no time but an envelope's own (midnight of its day, as the store
    # sets it): a backup says nothing about who made it or when.
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, mtime
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, hashes: dict) -> None:
    tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))
    hashes[name] = hashlib.sha256(data).hexdigest()


class _HashingReader(io.RawIOBase):
    def __init__(self, f: Any):
        self._f, self.hash = f, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._f.read(len(b))
        self.hash.update(data)
        b[: len(data)] = data
        return len(data)


def _add_file(tar: tarfile.TarFile, name: str, path: Path, hashes: dict) -> None:
    # O_NOATIME: reading an envelope must not stamp it with the backup's moment.
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOATIME", 0)), "rb") as f:
        st = os.fstat(f.fileno())
        mtime = int(st.st_mtime) if name.startswith("store/") else 0
        reader = _HashingReader(f)
        tar.addfile(_tarinfo(name, st.st_size, mtime), reader)
    hashes[name] = reader.hash.hexdigest()


def _sqlite_path(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return Path(u.database) if u.get_backend_name() == "sqlite" and u.database else None


def _pg_env(url: str) -> dict[str, str]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    env = dict(os.environ)
    # Through the environment, not argv: a password on a command line is visible in ps.
    # libpq takes a unix socket directory as the host (``?host=/run/postgresql`` in the URL).
    host = u.host or u.query.get("host")
    for key, value in (("PGHOST", host), ("PGPORT", u.port), ("PGUSER", u.username),
                       ("PGPASSWORD", u.password), ("PGDATABASE", u.database)):
        if value is not None:
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise BackupError(f"{name} not found (Debian package postgresql-client)")
    return str(candidates[-1])


def _snapshot_db(url: str, work: Path) -> tuple[str, Path]:
    sqlite_path = _sqlite_path(url)
    if sqlite_path is not None:
        if not sqlite_path.is_file():
            raise BackupError(f"no database at {sqlite_path}")
        dest = work / "peluit.sqlite"
        # Read-only URI: the backup never takes a write lock on the live database.
        src = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
        dst = sqlite3.connect(dest)
        try:
            with dst:
                src.backup(dst)
        finally:
            src.close()
            dst.close()
        return "peluit.sqlite", dest
    dest = work / "peluit.pgdump"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(dest)],
        env=_pg_env(url), capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1:]}")
    return "peluit.pgdump", dest


def _secrets_tar(cfg: Any) -> bytes:
    from .gateway.serverkey import next_path
    from .serversecret import path_for as server_secret_path

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        from .serversecret import load as server_secret

        server_secret(cfg)  # made now if this deployment predates it
        for name, path in (("salt", cfg.salt_file), ("server.key", cfg.server_key_file),
                           ("server.secret", server_secret_path(cfg))):
            data = path.read_bytes()
            tar.addfile(_tarinfo(name, len(data)), io.BytesIO(data))
        # A rotation waiting for the workbench's confirmation: the database records the next key
        # as pending and the workbench may already trust it, so a restore without it could never
        # finish the rotation (gateway/serverkey.py).
        nxt = next_path(cfg.server_key_file)
        if nxt.exists():
            data = nxt.read_bytes()
            tar.addfile(_tarinfo("server.key.next", len(data)), io.BytesIO(data))
        if cfg.tor_data_dir is not None:
            for service in ONION_SERVICES:
                hs = cfg.tor_data_dir / service
                files = [hs / f for f in ONION_FILES]
                files += sorted((hs / "authorized_clients").glob("*.auth"))
                for path in files:
                    try:
                        data = path.read_bytes()
                    except OSError:
                        continue  # not readable or not there: tor keys are optional
                    rel = f"tor/{service}/{path.relative_to(hs)}"
                    tar.addfile(_tarinfo(rel, len(data)), io.BytesIO(data))
    return buf.getvalue()


# -- restore ------------------------------------------------------------------------------------

@dataclass
class _Staged:
    manifest: dict
    files: dict[str, Path]
    mtimes: dict[str, int]


def restore(src: Path, target: Path, passphrase: Callable[[], str], force: bool = False
            ) -> dict:
    """Restore the backup ``src`` with its configuration going to ``target``. ``passphrase``
    is asked for only when the backup holds sealed secrets. The summary says how many
    envelopes came back and whether the secrets did."""
    if not src.is_file():
        raise BackupError(f"no backup at {src}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; use --force to replace this deployment")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _directory_lock(target.parent):
        remove_temps(target.parent, ".peluit-restore-")
        # A restore that was killed before it finished left its configuration here: what it
        # put in place is this restore's to replace.
        resumed = _restoring(target).exists()
        with tempfile.TemporaryDirectory(prefix=".peluit-restore-", suffix=TEMP_SUFFIX,
                                         dir=target.parent) as work:
            staged = _stage(src, Path(work))
            phrase = passphrase() if "secrets.sealed" in staged.files else None
            summary = restore_staged(staged, target, phrase, force=force or resumed)
    return {**summary, "secrets": phrase is not None}


def _restoring(target: Path) -> Path:
    """Where a restore keeps the configuration until everything else is in place."""
    return target.with_name(f".{target.name}.restoring")


def _stage(src: Path, work: Path) -> _Staged:
    """Unpack every member into ``work`` under a name we choose, checking names and hashes;
    nothing reaches the deployment before the whole archive proved intact."""
    files: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    mtimes: dict[str, int] = {}
    manifest = None
    try:
        with tarfile.open(src, mode="r|") as tar:
            for i, info in enumerate(tar):
                name = info.name
                if not info.isfile() or name in files:
                    raise BackupError(f"unexpected member {name[:80]!r} in the backup")
                ok = (name in ("config/peluit.toml", "db/peluit.sqlite", "db/peluit.pgdump",
                               "secrets.sealed", "MANIFEST.json") or _STORE_MEMBER.match(name))
                if not ok:
                    raise BackupError(f"unexpected member {name[:80]!r} in the backup")
                f = tar.extractfile(info)
                assert f is not None
                if name == "MANIFEST.json":
                    manifest = json.loads(f.read(1 << 24))
                    continue
                dest = work / f"{i:08d}"
                h = hashlib.sha256()
                with open(dest, "xb") as out:
                    while chunk := f.read(_CHUNK):
                        h.update(chunk)
                        out.write(chunk)
                files[name], hashes[name] = dest, h.hexdigest()
                mtimes[name] = int(info.mtime)
    except (tarfile.TarError, EOFError, json.JSONDecodeError, UnicodeDecodeError,
            RecursionError):
        raise BackupError(f"{src} is not a readable Peluit backup") from None
    if (not isinstance(manifest, dict) or manifest.get("format") != FORMAT
            or manifest.get("version") != VERSION):
        raise BackupError(f"{src} is not a Peluit backup (no manifest)")
    if manifest.get("members") != hashes:
        raise BackupError(f"{src} does not match its manifest: damaged or altered")
    if "config/peluit.toml" not in files or not any(n.startswith("db/") for n in files):
        raise BackupError(f"{src} lacks the configuration or the database")
    return _Staged(manifest, files, mtimes)


def restore_staged(staged: _Staged, target: Path, passphrase: str | None,
                   force: bool = False) -> dict:
    from crypto.sealed import open_sealed

    from .config import load
    from .db import upgrade

    secrets_tar = None
    if passphrase is not None:
        try:
            secrets_tar = open_sealed(staged.files["secrets.sealed"].read_bytes(), passphrase,
                                      SECRETS_LABEL)
        except Exception:  # noqa: BLE001 - any failure here means: wrong passphrase or damage
            raise BackupError("cannot open the sealed secrets: wrong passphrase?") from None

    # The configuration goes in place last (a deployment without it is not one): until then it
    # lies beside the target under a name that marks an unfinished restore, and relative paths
    # resolve the same from there.
    pending = _restoring(target)
    _clear_temps_of(pending)
    write_atomic(pending, staged.files["config/peluit.toml"].read_bytes(), mode=0o640)
    cfg = load(pending)
    if cfg.deployment_id != staged.manifest.get("deployment_id"):
        raise BackupError("the configuration does not belong to this backup")

    if secrets_tar is not None:
        _restore_secrets(cfg, secrets_tar)

    if "db/peluit.sqlite" in staged.files:
        db_path = _sqlite_path(cfg.database_url)
        if db_path is None:
            raise BackupError("the backup holds a SQLite database but the configuration "
                              "names another engine")
        if db_path.exists() and not force:
            raise BackupError(f"{db_path} exists; use --force to replace it")
        db_path.parent.mkdir(parents=True, exist_ok=True)
        _clear_temps_of(db_path)
        with replacing(db_path) as tmp:
            shutil.copyfile(staged.files["db/peluit.sqlite"], tmp)
            # The old database's journal must not be replayed into the restored one.
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    else:
        result = subprocess.run(  # noqa: S603
            [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--exit-on-error",
             "--dbname", _pg_env(cfg.database_url).get("PGDATABASE", ""),
             str(staged.files["db/peluit.pgdump"])],
            env=_pg_env(cfg.database_url), capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip().splitlines()[-1:]}")

    cfg.store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    envelopes = 0
    for name, path in staged.files.items():
        if name.startswith("store/"):
            dest = cfg.store_dir / name.removeprefix("store/")
            os.chmod(path, 0o600)
            mtime = staged.mtimes.get(name, 0)
            os.utime(path, (mtime, mtime))
            os.replace(path, dest)  # same filesystem: the staging dir is beside the config
            envelopes += 1
    fsync_dir(cfg.store_dir)
    upgrade(cfg.database_url, config=cfg)  # a backup from an older release: the newer schema
    os.replace(pending, target)
    fsync_dir(target.parent)
    return {"envelopes": envelopes}


def _clear_temps_of(path: Path) -> None:
    """Remove what an earlier restore, killed while writing ``path``, left beside it (its temp
    file: a half-copied database, a secret). A restore runs under the directory lock, and
    writing these files is its own business, so nothing else is writing under these names."""
    if path.parent.is_dir():
        remove_temps(path.parent, f".{path.name}.")


def _restore_secrets(cfg: Any, data: bytes) -> None:
    from .gateway.serverkey import next_path
    from .serversecret import path_for as server_secret_path

    restored_next = False
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for info in tar:
            if not info.isfile() or not _SECRET_NAME.match(info.name):
                raise BackupError(f"unexpected secret {info.name[:80]!r} in the backup")
            f = tar.extractfile(info)
            assert f is not None
            content = f.read()
            if info.name == "salt":
                dest = cfg.salt_file
            elif info.name == "server.key":
                dest = cfg.server_key_file
            elif info.name == "server.key.next":
                dest = next_path(cfg.server_key_file)
                restored_next = True
            elif info.name == "server.secret":
                dest = server_secret_path(cfg)
            elif cfg.tor_data_dir is not None:
                dest = cfg.tor_data_dir / info.name.removeprefix("tor/")
            else:
                continue
            dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _clear_temps_of(dest)
            write_atomic(dest, content)
            if info.name.startswith("tor/"):
                # Tor (user debian-tor) must own its keys and refuses group-readable ones.
                st = cfg.tor_data_dir.stat()
                for path in (dest, dest.parent, dest.parent.parent):
                    if path != cfg.tor_data_dir and path.is_relative_to(cfg.tor_data_dir):
                        os.chown(path, st.st_uid, st.st_gid)
    if not restored_next:
        # A next key left by the server being replaced belongs to another database's history.
        next_path(cfg.server_key_file).unlink(missing_ok=True)
