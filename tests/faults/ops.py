"""The operations the crash tests kill, each run in a forked child of tests/faults/zygote.py on a
copy of a prepared directory ``wd``:

* ``upload``    a reporter takes a codename and files a report with two files, then a follow-up
                message with a file (the reporter app under WebTest: the real views, store and
                database, no HTTP server);
* ``retention`` ``peluit retention run`` over acknowledged submissions past their days;
* ``backup``    ``peluit backup`` with the sealed secrets;
* ``restore``   ``peluit restore`` of a backup into a new deployment directory;
* ``import``    ``peluit workbench import`` of an inbox bundle into a vault;
* ``export``    ``peluit workbench export-replies``: the signed reply bundle of the open replies;
* ``reply-upload`` the gateway's upload of a reply bundle (the gateway app under WebTest).

Every operation goes through the same entry point a user's command or request does."""

from __future__ import annotations

from pathlib import Path

FILE_A = b"%PDF-1.4 bukti transfer " * 1500
FILE_B = b"rekaman rapat " * 3000
PASSPHRASE = "kata sandi cadangan yang panjang"


def preload() -> None:
    """Import, once in the zygote, every module of ours and what they load lazily (a child
    that imported them itself would spend most of its life importing)."""
    import importlib
    import pkgutil

    import webtest  # noqa: F401

    for package in ("crypto", "policies", "dropbox_app", "workbench", "peluit"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if ".migrations." in info.name or info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)
    from tests.fixtures import reporter_client  # noqa: F401


def _tmp(wd: str) -> None:
    """The child's temporary files go inside its copy, where the test can look for leftovers."""
    import tempfile

    tmp = Path(wd) / "tmp"
    tmp.mkdir(exist_ok=True)
    tempfile.tempdir = str(tmp)


def config(wd: str | Path) -> Path:
    return Path(wd) / "server" / "peluit.toml"


def upload(wd: str) -> None:
    _tmp(wd)
    import webtest

    from crypto.kdf import TEST_PARAMS
    from dropbox_app.app import make_reporter_app
    from dropbox_app.config import load
    from tests.fixtures.reporter_client import Reporter

    cfg = load(config(wd))
    app = make_reporter_app(cfg, argon2=TEST_PARAMS, kdf_slots=1)
    reporter = Reporter(webtest.TestApp(app))
    reporter.new_report(files=[("bukti.pdf", FILE_A), ("rapat.txt", FILE_B)])
    reporter.message("Ada tambahan bukti.", files=[("lagi.pdf", FILE_A)])


def _cli(*argv: str) -> None:
    from peluit.cli import main

    code = main(list(argv))
    if code != 0:
        raise SystemExit(code)


def retention(wd: str) -> None:
    _tmp(wd)
    _cli("retention", "run", "--config", str(config(wd)))


def backup(wd: str) -> None:
    _tmp(wd)
    _cli("backup", str(Path(wd) / "backups" / "server.tar"), "--config", str(config(wd)),
         "--passphrase-file", str(Path(wd) / "passphrase"))


def restore(wd: str) -> None:
    _tmp(wd)
    _cli("restore", str(Path(wd) / "backups" / "server.tar"), "--config",
         str(Path(wd) / "restored" / "peluit.toml"), "--passphrase-file",
         str(Path(wd) / "passphrase"))


OPS = {"upload": upload, "retention": retention, "backup": backup, "restore": restore}


# --- the workbench ----------------------------------------------------------------------------

def _workbench(wd: str, *argv: str) -> None:
    _tmp(wd)
    vault = str(Path(wd) / "vault")
    _cli("workbench", argv[0], *argv[1:], "--vault", vault, "--passphrase-file",
         str(Path(wd) / "vault.pass"), "--demo-not-air-gapped")


def import_(wd: str) -> None:
    _workbench(wd, "import", str(Path(wd) / "inbox.bundle"))


def export(wd: str) -> None:
    _workbench(wd, "export-replies", str(Path(wd) / "out" / "reply.bundle"))


# --- the gateway's reply upload ---------------------------------------------------------------

def reply_upload(wd: str) -> None:
    """Sign in to the gateway and upload the reply bundle, as an auditor's browser does."""
    import json

    import webtest

    from dropbox_app.config import load
    from dropbox_app.gateway import make_gateway_app, totp
    from dropbox_app.gateway.passphrase import TEST_COST, PassphraseHasher
    from peluit.ground.clock import FixedClock

    _tmp(wd)
    account = json.loads((Path(wd) / "account.json").read_text())
    # A sign-in uses up its TOTP step (replays are refused): each run of the operation on one
    # copy signs in one step later than the last.
    runs = Path(wd) / "runs"
    n = int(runs.read_text()) + 1 if runs.exists() else 0
    runs.write_text(str(n))
    clock = FixedClock(account["now"] + 30 * n)
    app = webtest.TestApp(make_gateway_app(load(config(wd)), clock=clock,
                                           hasher=PassphraseHasher(TEST_COST)))
    page = app.get("/login")
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    app.post("/login", {"csrf_token": token, "username": account["username"],
                        "passphrase": account["passphrase"],
                        "code": totp.code_at(account["totp"], clock.timestamp())}, status=303)
    page = app.get("/")
    token = page.html.find("input", {"name": "csrf_token"})["value"]
    app.post("/replies", {"csrf_token": token},
             upload_files=[("bundle", "reply.bundle", (Path(wd) / "reply.bundle").read_bytes())],
             status=200)


OPS.update({"import": import_, "export": export, "reply-upload": reply_upload})
