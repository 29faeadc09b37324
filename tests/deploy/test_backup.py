"""`peluit backup` / `peluit restore` on a deployment a real reporter filed into: the restored
server lets the reporter back in with the same codename, the auditor opens the same envelopes,
and a damaged backup or a wrong passphrase restores nothing."""

from __future__ import annotations

import re
import tarfile

import pytest
import webtest

from crypto.envelope import open_bytes
from crypto.identity import AuditorIdentity
from crypto.kdf import TEST_PARAMS
from dropbox_app.config import load
from peluit.cli import main
from tor import services

PASSPHRASE = "correct horse battery staple"


def _cli(*argv):
    """In a child process, as an admin runs it (and so that the command's own database
    connections end with it)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "peluit", *argv], capture_output=True, text=True,
                       timeout=300)
    return r.returncode, r.stdout, r.stderr


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


class _Reporter:
    def __init__(self, cfg):
        from dropbox_app.app import make_reporter_app
        from dropbox_app.db import make_engine

        self.engine = make_engine(cfg.database_url)
        self.app = webtest.TestApp(make_reporter_app(cfg, engine=self.engine,
                                                     argon2=TEST_PARAMS, kdf_slots=1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.engine.dispose()

    def csrf(self):
        if "csrf" not in self.app.cookies:
            self.app.get("/")
        return self.app.cookies["csrf"]

    def file_report(self, what, files):
        page = self.app.post("/codename", {"csrf_token": self.csrf(), "words": "en",
                                           "website": ""})
        codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page.text))
        self.app.post("/codename/confirm", {"csrf_token": self.csrf(), "written_down": "yes"})
        form = self.app.get("/report/new")
        token = re.search(r'name="form_token" value="([0-9a-f]+)"', form.text).group(1)
        self.app.post("/report/new/send",
                      params=[("csrf_token", self.csrf()), ("form_token", token), ("what", what)],
                      upload_files=[("files", n, d) for n, d in files],
                      content_type="multipart/form-data", status=200)
        return codename

    def login(self, codename):
        return self.app.post("/login", {"csrf_token": self.csrf(), "codename": codename,
                                         "website": ""}, expect_errors=True)


@pytest.fixture
def deployment(tmp_path, capsys):
    data = tmp_path / "server"
    assert _run(capsys, "init", "--data-dir", str(data))[0] == 0
    config = data / "peluit.toml"
    # Onion services beside it, so their keys go into the sealed secrets too.
    tor_dir = data / "tor"
    tor_dir.mkdir(mode=0o700)
    services.setup(services.Layout(tor_dir))
    (tor_dir / "peluit-reporter" / "hs_ed25519_secret_key").write_bytes(b"onion-secret" * 8)
    (tor_dir / "peluit-reporter" / "hostname").write_text("r" * 56 + ".onion\n")
    with config.open("a") as f:
        f.write('\n[tor]\ndata_dir = "tor"\n')
    auditor = AuditorIdentity.generate("Auditor Satu")
    card = tmp_path / "auditor.card"
    card.write_bytes(auditor.card().to_bytes())
    assert _run(capsys, "auditor", "enroll", str(card), "--config", str(config))[0] == 0
    cfg = load(config)
    with _Reporter(cfg) as r:
        codename = r.file_report("Pungli di loket layanan.", [("bukti.txt", b"kuitansi " * 500)])
    passfile = tmp_path / "passphrase"
    passfile.write_text(PASSPHRASE + "\n")
    return config, auditor, codename, passfile


def _open_all(cfg, auditor):
    from dropbox_app.store import Store

    store = Store(cfg.store_dir)
    return sorted(open_bytes(store.read(m), [auditor.box])[1] for m in store.members())


def test_backup_then_restore_gives_back_a_working_server(deployment, tmp_path, capsys):
    config, auditor, codename, passfile = deployment
    src = load(config)
    out = tmp_path / "peluit.backup"
    code, msg, err = _run(capsys, "backup", str(out), "--config", str(config),
                          "--passphrase-file", str(passfile))
    assert code == 0, err
    assert "2 envelopes" in msg
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    raw = out.read_bytes()
    # Secrets are sealed: neither the salt nor the server key nor an onion key is readable.
    assert src.salt() not in raw and src.server_key_file.read_bytes() not in raw
    assert b"onion-secret" not in raw
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert names[-1] == "MANIFEST.json" and "db/peluit.sqlite" in names
    assert sum(n.startswith("store/") for n in names) == 2

    target = tmp_path / "restored" / "peluit.toml"
    code, _, err = _run(capsys, "restore", str(out), "--config", str(target),
                        "--passphrase-file", str(passfile))
    assert code == 0, err
    cfg = load(target)
    assert cfg.deployment_id == src.deployment_id and cfg.salt() == src.salt()
    assert cfg.server_key_file.read_bytes() == src.server_key_file.read_bytes()
    assert _open_all(cfg, auditor) == _open_all(src, auditor)
    # Envelopes keep their day-granular times (midnight), not the time of the restore.
    full = [p for p in src.store_dir.glob("*.env") if p.stat().st_size]
    assert sorted(p.stat().st_mtime for p in cfg.store_dir.glob("*.env")) == sorted(
        p.stat().st_mtime for p in full)
    hs = cfg.tor_data_dir / "peluit-reporter"
    assert (hs / "hs_ed25519_secret_key").read_bytes() == b"onion-secret" * 8
    assert (cfg.tor_data_dir / "peluit-gateway" / "authorized_clients" / "_sealed.auth").exists()
    # The reporter comes back with the same codename to the restored server.
    with _Reporter(cfg) as r:
        assert r.login(codename).status_int == 303
    with _Reporter(cfg) as r:
        assert r.login("salah " * 7).status_int != 303


def test_damaged_backup_restores_nothing(deployment, tmp_path, capsys):
    config, _, _, passfile = deployment
    out = tmp_path / "b"
    assert _run(capsys, "backup", str(out), "--config", str(config),
                "--passphrase-file", str(passfile))[0] == 0
    data = bytearray(out.read_bytes())
    with tarfile.open(out) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("store/"))
    data[member.offset_data + 100] ^= 1
    out.write_bytes(bytes(data))
    target = tmp_path / "restored" / "peluit.toml"
    code, _, err = _run(capsys, "restore", str(out), "--config", str(target),
                        "--passphrase-file", str(passfile))
    assert code == 1 and "does not match its manifest" in err and err.count("\n") == 1
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_wrong_passphrase_and_existing_targets_are_refused(deployment, tmp_path, capsys):
    config, _, _, passfile = deployment
    out = tmp_path / "b"
    assert _run(capsys, "backup", str(out), "--config", str(config),
                "--passphrase-file", str(passfile))[0] == 0
    code, _, err = _run(capsys, "backup", str(out), "--config", str(config),
                        "--passphrase-file", str(passfile))
    assert code == 1 and "exists" in err
    wrong = tmp_path / "wrong"
    wrong.write_text("not the passphrase at all\n")
    target = tmp_path / "restored" / "peluit.toml"
    code, _, err = _run(capsys, "restore", str(out), "--config", str(target),
                        "--passphrase-file", str(wrong))
    assert code == 1 and "wrong passphrase" in err
    assert not target.exists()
    code, _, err = _run(capsys, "restore", str(out), "--config", str(config),
                        "--passphrase-file", str(passfile))
    assert code == 1 and "--force" in err


def test_a_key_rotation_waiting_for_its_bundle_survives_backup_and_restore(
        deployment, tmp_path, capsys):
    from dropbox_app.gateway.serverkey import next_path

    config, _, _, passfile = deployment
    src = load(config)
    assert _run(capsys, "server-key", "rotate", "--config", str(config))[0] == 0
    pending = next_path(src.server_key_file).read_bytes()
    with_next, without_next = tmp_path / "with-next", tmp_path / "without-next"
    assert _run(capsys, "backup", str(with_next), "--config", str(config),
                "--passphrase-file", str(passfile))[0] == 0
    assert pending not in with_next.read_bytes()  # sealed like the other secrets

    target = tmp_path / "restored" / "peluit.toml"
    code, _, err = _run(capsys, "restore", str(with_next), "--config", str(target),
                        "--passphrase-file", str(passfile))
    assert code == 0, err
    restored = next_path(load(target).server_key_file)
    assert restored.read_bytes() == pending and oct(restored.stat().st_mode & 0o777) == "0o600"

    # A backup from before the rotation, restored over this server: the next key belongs to a
    # history the restored database does not have, so it goes.
    next_path(src.server_key_file).unlink()
    assert _run(capsys, "backup", str(without_next), "--config", str(config),
                "--passphrase-file", str(passfile))[0] == 0
    code, _, err = _run(capsys, "restore", str(without_next), "--config", str(target),
                        "--passphrase-file", str(passfile), "--force")
    assert code == 0, err
    assert not restored.exists()


def test_not_a_backup_is_one_clear_line(tmp_path, capsys):
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00" * 2048 + b"hello")
    code, _, err = _run(capsys, "restore", str(junk), "--config", str(tmp_path / "c.toml"))
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.postgres
def test_postgresql_backup_and_restore(tmp_path, capsys, postgres_server):  # noqa: F811
    server = postgres_server
    name = server.create_database()
    data = tmp_path / "server"
    assert _cli("init", "--data-dir", str(data), "--database-url", server.url(name))[0] == 0
    config = data / "peluit.toml"
    auditor = AuditorIdentity.generate("Auditor Dua")
    card = tmp_path / "auditor.card"
    card.write_bytes(auditor.card().to_bytes())
    assert _cli("auditor", "enroll", str(card), "--config", str(config))[0] == 0
    with _Reporter(load(config)) as r:
        codename = r.file_report("Gratifikasi atas izin usaha di dinas.", [("a.txt", b"a" * 100)])
    passfile = tmp_path / "passphrase"
    passfile.write_text(PASSPHRASE + "\n")
    out = tmp_path / "pg.backup"
    code, _, err = _cli("backup", str(out), "--config", str(config),
                        "--passphrase-file", str(passfile))
    assert code == 0, err
    with tarfile.open(out) as tar:
        assert "db/peluit.pgdump" in tar.getnames()
    # The database is lost; an empty one of the same name takes its place.
    server.drop_database(name)
    server.admin(f'CREATE DATABASE "{name}"')
    code, _, err = _cli("restore", str(out), "--config", str(config),
                        "--passphrase-file", str(passfile), "--force")
    assert code == 0, err
    cfg = load(config)
    with _Reporter(cfg) as r:
        assert r.login(codename).status_int == 303
    assert len(_open_all(cfg, auditor)) == 2
    server.drop_database(name)


def test_a_restore_run_again_after_a_kill_leaves_no_temp_file(deployment, tmp_path, capsys):
    """A restore killed while copying the database leaves its half-copied temp file beside the
    database and its configuration under the unfinished-restore name; the operator runs the
    same restore again. Found by the crash sweep (tests/faults), here at the exact moment."""
    from dropbox_app.backup import _restoring, _sqlite_path
    from peluit.ground.files import is_temp_name

    config, auditor, _codename, passfile = deployment
    out = tmp_path / "peluit.backup"
    code, _, err = _run(capsys, "backup", str(out), "--config", str(config),
                        "--passphrase-file", str(passfile))
    assert code == 0, err
    target = tmp_path / "restored" / "peluit.toml"
    target.parent.mkdir()
    with tarfile.open(out) as tar:
        _restoring(target).write_bytes(tar.extractfile("config/peluit.toml").read())
    db = _sqlite_path(load(_restoring(target)).database_url)
    db.parent.mkdir(parents=True, exist_ok=True)
    (db.parent / f".{db.name}.0123456789abcdef.tmp").write_bytes(b"half a database")

    code, _, err = _run(capsys, "restore", str(out), "--config", str(target),
                        "--passphrase-file", str(passfile))
    assert code == 0, err
    assert not [p for p in tmp_path.joinpath("restored").rglob("*") if is_temp_name(p.name)]
    assert _open_all(load(target), auditor) == _open_all(load(config), auditor)
