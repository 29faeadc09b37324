"""`peluit demo` as `make run` starts it: set up on first run, then the reporter app, the gateway
and the workbench UI answer on their loopback ports, the workbench says it is not air-gapped, the
printed gateway credentials sign in, and SIGTERM stops everything."""

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pyotp
import pytest

from tests.fixtures.gateway import HttpClient


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(tmp_path, ports):
    return subprocess.Popen(
        [sys.executable, "-m", "peluit", "demo", "--data-dir", str(tmp_path / "demo"),
         "--reporter-port", str(ports[0]), "--gateway-port", str(ports[1]),
         "--workbench-port", str(ports[2]), "--language", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    proc.stdout.close()
    proc.stderr.close()


def _ready(proc) -> str:
    out = []
    for line in proc.stdout:
        out.append(line)
        if "Ctrl-C stops everything" in line:
            break
    return "".join(out)


@pytest.mark.usefixtures("english_cli")  # the next steps are read in English
def test_demo_sets_up_and_serves_everything(tmp_path):
    ports = [_free_port() for _ in range(3)]
    proc = _start(tmp_path, ports)
    try:
        out = []
        for line in proc.stdout:
            out.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(out)
        assert "NOT AIR-GAPPED" in text, text + proc.stderr.read()
        demo_file = tmp_path / "demo" / "demo.json"
        assert demo_file.stat().st_mode & 0o077 == 0
        demo = json.loads(demo_file.read_text())
        assert demo["urls"]["gateway"] == f"http://127.0.0.1:{ports[1]}/"
        secret, passphrase = demo["gateway"]["totp_secret"], demo["gateway"]["passphrase"]
        assert secret in text and passphrase in text
        deadline = time.monotonic() + 30
        while True:  # the workbench thread may take a moment to listen
            try:
                pages = [urllib.request.urlopen(f"http://127.0.0.1:{p}/", timeout=10).read()
                         for p in ports]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert b"NOT AIR-GAPPED" in pages[2]

        # The next steps, printed: a TOTP code from a peluit command (not the system python3,
        # which has no pyotp), where the vault is, the import and export commands, the flag a
        # networked machine needs, and where the credentials are kept.
        data = tmp_path / "demo"
        assert f"demo totp --data-dir {data}" in text
        assert f"vault:       {data / 'workbench'}" in text
        assert f"workbench import BUNDLE --vault {data / 'workbench'} --demo-not-air-gapped" in text
        assert "workbench export-replies replies.bundle --vault" in text
        # ... and the conflict group's vault, for a report about the inspectorate itself
        assert f"workbench import BUNDLE --vault {data / 'workbench-conflict'}" in text
        assert demo["conflict"]["passphrase"] in text
        assert str(data / "demo-state.json") in text and "import pyotp" not in text
        totp = subprocess.run([sys.executable, "-m", "peluit", "demo", "totp", "--data-dir",
                               str(data)], capture_output=True, text=True, check=True)
        code = totp.stdout.split()[0]
        assert code.isdigit() and len(code) == 6
        assert pyotp.TOTP(secret).verify(code, valid_window=1)

        # The gateway over real HTTP, with the credentials the demo printed.
        gw = HttpClient(ports[1])
        resp, _ = gw.post_form("/login", {"csrf_token": gw.token("/login"), "username": "admin",
                                          "passphrase": passphrase, "code": code})
        assert resp.status == 303
        assert b"pending-count" in gw.request("GET", "/")[1]
    finally:
        _stop(proc)
    assert not demo_file.exists()  # present only while the demo serves
    proc = _start(tmp_path, ports)  # a second start: same installation, same credentials
    try:
        out = _ready(proc)
        assert passphrase in out, out + proc.stderr.read()
    finally:
        _stop(proc)


def test_demo_help_describes_every_option():
    run = subprocess.run([sys.executable, "-m", "peluit", "demo", "--help"], capture_output=True,
                         text=True, check=True)
    # Each option's line (or the line after it) carries words beyond the option itself.
    lines = run.stdout.splitlines()
    for option in ("--data-dir", "--reporter-port", "--gateway-port", "--workbench-port",
                   "--language", "totp"):
        i = next(i for i, ln in enumerate(lines) if ln.strip().startswith(option))
        words = lines[i].split() + (lines[i + 1].split() if len(lines[i].split()) < 3 else [])
        assert len(words) >= 5, (option, run.stdout)
    assert "demo-state.json" in run.stdout and "help message" in run.stdout


def test_demo_totp_without_a_demo_is_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "peluit", "demo", "totp", "--data-dir",
                          str(tmp_path / "none")], capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "demo-state.json" in run.stderr and "Traceback" not in run.stderr


def test_demo_refuses_a_bad_workbench_port_in_one_line(tmp_path):
    res = subprocess.run([sys.executable, "-m", "peluit", "demo", "--data-dir",
                          str(tmp_path / "d"), "--workbench-port", "99999"],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip() == "peluit: --workbench-port: port out of range"
    assert not (tmp_path / "d").exists()  # refused before anything was created


def test_demo_json_appears_only_when_everything_listens(tmp_path):
    ports = [_free_port() for _ in range(3)]
    with socket.socket() as taken:  # another program holds the gateway's port
        taken.bind(("127.0.0.1", ports[1]))
        taken.listen()
        res = subprocess.run(
            [sys.executable, "-m", "peluit", "demo", "--data-dir", str(tmp_path / "demo"),
             "--reporter-port", str(ports[0]), "--gateway-port", str(ports[1]),
             "--workbench-port", str(ports[2])], capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.startswith("peluit: cannot listen")
    assert not (tmp_path / "demo" / "demo.json").exists()  # a script waiting for it keeps waiting


def test_demo_report_about_the_inspectorate_reaches_the_conflict_group_only(tmp_path):
    """The demo enrolls a conflict group with its own vault (issue 19): a demo report that
    concerns the inspectorate is opened by that vault and by no key of the inspectorate's demo
    vault, and an ordinary one the other way round. The real set-up, the real reporter app
    and gateway on it, the inbox bundle imported into both demo vaults, and every stored
    envelope tried with both demo keys."""
    import io

    import webtest
    from sqlalchemy import select

    from crypto.envelope import open_bytes
    from crypto.errors import NotARecipientError
    from crypto.kdf import TEST_PARAMS
    from dropbox_app.app import make_gateway_app, make_reporter_app
    from dropbox_app.config import load
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.models import AuditorCard, Submission
    from peluit import demo as demo_mod
    from workbench import vault
    from workbench.importer import import_bundle

    data = tmp_path / "demo"
    state = demo_mod.setup(data, _free_port(), _free_port(), "en")
    cfg = load(data / "server" / "peluit.toml")
    engine = make_engine(cfg.database_url)
    try:
        with session_factory(engine)() as db:
            groups = {c.name: c.recipient_group for c in db.scalars(select(AuditorCard))}
        assert groups == {"Demo Lead": "inspectorate", "Demo Conflict Officer": "conflict"}

        reporter_app = webtest.TestApp(make_reporter_app(cfg, engine=engine,
                                                         argon2=TEST_PARAMS))
        assert 'name="concerns"' in _filed(reporter_app, "inspectorate",
                                           "Kepala inspektorat meminta setoran.")
        _filed(webtest.TestApp(make_reporter_app(cfg, engine=engine, argon2=TEST_PARAMS)),
               "no", "Kepala bagian pengadaan meminta sepuluh persen.")

        # Both vaults, unlocked with the passphrases the demo printed and kept.
        lead = vault.unlock(data / "workbench", state["workbench"]["key_id"],
                            state["workbench"]["passphrase"])
        officer = vault.unlock(data / state["conflict"]["vault"], state["conflict"]["key_id"],
                               state["conflict"]["passphrase"])
        opened = {"inspectorate": [], "conflict": []}
        with session_factory(engine)() as db:
            subs = db.scalars(select(Submission)).all()
        assert len(subs) == 2
        for sub in subs:
            blob = (cfg.store_dir / sub.member).read_bytes()
            for group, who in (("inspectorate", lead), ("conflict", officer)):
                try:
                    _, body = open_bytes(blob, [who.identity.box])
                except NotARecipientError:
                    continue
                opened[group].append(json.loads(body)["what"])
        assert opened == {"inspectorate": ["Kepala bagian pengadaan meminta sepuluh persen."],
                          "conflict": ["Kepala inspektorat meminta setoran."]}

        # The same through the gateway's inbox bundle and each vault's importer.
        gw = webtest.TestApp(make_gateway_app(cfg, engine=engine))
        token = gw.get("/login").html.find("input", {"name": "csrf_token"})["value"]
        code = pyotp.TOTP(state["gateway"]["totp_secret"]).now()
        gw.post("/login", {"csrf_token": token, "username": "admin",
                           "passphrase": state["gateway"]["passphrase"], "code": code},
                status=303)
        token = gw.get("/").html.find("input", {"name": "csrf_token"})["value"]
        bundle = gw.post("/inbox", {"csrf_token": token}).body
        ours = import_bundle(lead, io.BytesIO(bundle))
        theirs = import_bundle(officer, io.BytesIO(bundle))
        assert (ours.imported, ours.other_group) == (1, 1)
        assert (theirs.imported, theirs.other_group) == (1, 1)
        lead.lock()
        officer.lock()
    finally:
        engine.dispose()

    # The next steps say how, in English and in Indonesian, with the same commands.
    conflict_vault = data / "workbench-conflict"
    urls = {"reporter": "R/", "gateway": "G/", "workbench": "W/"}
    for lang, words in (("en", "sealed to the conflict group only"),
                        ("id", "disegel hanya untuk kelompok\n     konflik kepentingan")):
        text = demo_mod.describe({**state, "urls": urls}, data, language=lang)
        assert words in text
        assert state["conflict"]["passphrase"] in text and "Demo Conflict Officer" in text
        assert (f"workbench import BUNDLE --vault {conflict_vault} --demo-not-air-gapped"
                in text)
        assert f"workbench serve {conflict_vault} --port 8083 --demo-not-air-gapped" in text
    assert "Langkah berikutnya:" in text and "Next steps" not in text
    # A demo set up before it had a conflict group still starts, and says how to get one.
    older = {k: v for k, v in state.items() if k != "conflict"}
    text = demo_mod.describe({**older, "urls": urls}, data, language="en")
    assert f"This demo has no conflict group: an older version set it up. Remove {data}" in text


def _filed(app, concerns: str, what: str) -> str:
    from tests.fixtures.reporter_client import Reporter

    client = Reporter(app)
    client.get_codename()
    client.confirm()
    form = app.get("/report/new").text
    client.report(what=what, concerns=concerns)
    return form
