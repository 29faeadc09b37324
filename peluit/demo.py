"""``peluit demo``: the whole system on one machine, on the embedded default (SQLite, a local
store), on loopback only: the reporter app, the auditor gateway and the workbench UI.

The first run sets everything up in ``--data-dir`` the way an installation would: a server
deployment (``peluit init``), its protection policy signed by a demo compliance officer (its
``[conflict]`` section naming the conflict group's card, below), a
workbench vault whose lead's card is enrolled on the server and which pins the server's key, a
second vault for the conflict group (its lead's card enrolled with ``--group conflict``: it alone
opens a report about the inspectorate itself, dropbox_app/routing.py), and a gateway admin
account. The credentials are printed and kept in ``demo-state.json`` in the
data directory (mode 0600; read again at the next start, and by ``peluit demo totp`` for the
admin's current code), and, with the local addresses, in ``demo.json`` while the demo serves:
acceptable for a demo on one's own machine, never for a deployment.
The workbench runs with its demo switch, so every page says it is NOT AIR-GAPPED.

This module is the only one (with peluit/cli.py) allowed to import both sides."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

DEMO_FILE = "demo.json"  # present only while the demo is serving: scripts wait for it
STATE_FILE = "demo-state.json"  # the credentials made at set-up, kept for the next start
CONFLICT_VAULT = "workbench-conflict"  # the conflict group's vault, beside the inspectorate's
CONFLICT_OFFICER = "Demo Conflict Officer"
CONFLICT_PORT = 8083  # suggested for its workbench UI (served on request, not by the demo)


DESCRIPTION = """\
The whole of Peluit on this machine, on loopback only: the reporter app, the auditor gateway
and the workbench UI (which says NOT AIR-GAPPED on every page: a demo, never a deployment).
The first run sets up a server, a workbench vault, a second vault for the conflict group (who
alone read reports about the inspectorate itself) and a gateway admin in --data-dir and keeps
their credentials in DATA-DIR/demo-state.json; later runs start the same installation again.
While it serves, DATA-DIR/demo.json holds the credentials and the local addresses. On start it
prints the next steps: where to sign in, how to get a TOTP code (peluit demo totp), where the
vault is and the commands that import and export bundles."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the reporter app, gateway and workbench locally",
                              description=DESCRIPTION,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    _data_dir_arg(p)
    p.add_argument("--reporter-port", type=int, default=8080, metavar="PORT",
                   help="the reporter app's port on 127.0.0.1 (default: 8080)")
    p.add_argument("--gateway-port", type=int, default=8081, metavar="PORT",
                   help="the auditor gateway's port on 127.0.0.1 (default: 8081)")
    p.add_argument("--workbench-port", type=int, default=8082, metavar="PORT",
                   help="the workbench UI's port on 127.0.0.1 (default: 8082)")
    p.add_argument("--language", choices=("id", "en"), default="id",
                   help="the deployment's default language, set at the first run: Indonesian "
                        "(id, default) or English (en)")
    p.set_defaults(func=run)
    sub = p.add_subparsers(dest="demo_command", metavar="COMMAND", title="commands",
                           description="without a command, the demo starts")
    t = sub.add_parser("totp", help="print the demo gateway admin's current TOTP code",
                       description="Print the current 6-digit TOTP code of the demo's gateway "
                                   "admin (from DATA-DIR/demo-state.json) and how many seconds "
                                   "it stays valid. A code works once: wait for the next one "
                                   "to sign in again.")
    # Either place works: peluit demo --data-dir X totp, or peluit demo totp --data-dir X.
    _data_dir_arg(t, argparse.SUPPRESS)
    t.set_defaults(func=totp)


def _data_dir_arg(p: argparse.ArgumentParser, default: Any = None) -> None:
    p.add_argument("--data-dir", default=default or Path(".demo"), type=Path, metavar="DIR",
                   help="where the demo keeps everything: server/, workbench/ (the vault), "
                        "workbench-conflict/ (the conflict group's vault), demo-state.json "
                        "(default: .demo)")


def totp(args: argparse.Namespace) -> int:
    """``peluit demo totp``: the admin's code now, with the venv's own pyotp."""
    import json

    import pyotp

    from dropbox_app.gateway.totp import DIGITS, STEP
    from peluit.ground.errors import UserError

    state = args.data_dir / STATE_FILE
    try:
        secret = json.loads(state.read_text("utf-8"))["gateway"]["totp_secret"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UserError(f"{state} is missing or damaged: start the demo first "
                        f"(peluit demo --data-dir {args.data_dir})") from None
    gen = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    import time

    now = time.time()
    left = STEP - int(now) % STEP
    print(f"{gen.at(now)}  (valid for {left} more seconds)")
    return 0


def _write_private(path: Path, text: str) -> None:
    from peluit.ground.files import write_atomic

    write_atomic(path, text.encode("utf-8"))


def setup(data_dir: Path, reporter_port: int, gateway_port: int, language: str = "id"
          ) -> dict[str, Any]:
    """Create the demo installation in ``data_dir``; returns its credentials."""
    from crypto.identity import AuditorIdentity
    from dropbox_app import auditors
    from dropbox_app.config import initialise, load
    from dropbox_app.db import make_engine, session_factory, upgrade
    from dropbox_app.gateway import accounts
    from dropbox_app.gateway.adminlog import SHELL
    from dropbox_app.gateway.passphrase import PassphraseHasher, generate
    from dropbox_app.gateway.serverkey import load as load_server_key
    from dropbox_app.routing import CONFLICT
    from policies import documents
    from workbench import vault

    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = load(initialise(data_dir / "server", reporter_listen=f"127.0.0.1:{reporter_port}",
                          gateway_listen=f"127.0.0.1:{gateway_port}", language=language))
    upgrade(cfg.database_url, config=cfg)
    officer = AuditorIdentity.generate("Demo compliance officer")
    server_card = load_server_key(cfg.server_key_file).card()
    wb_pass, cf_pass = generate(language), generate(language)
    unlocked, lead_card = vault.init(data_dir / "workbench", "Demo Lead", wb_pass,
                                     server_card.to_bytes(), cfg.deployment_id)
    unlocked.lock()
    # The conflict group (dropbox_app/routing.py): its own vault and card, as the minister's
    # designated officer would have, so that a demo report about the inspectorate itself is
    # sealed to it alone and the inspectorate's vault cannot open it.
    unlocked, conflict_card = vault.init(data_dir / CONFLICT_VAULT, CONFLICT_OFFICER, cf_pass,
                                         server_card.to_bytes(), cfg.deployment_id)
    unlocked.lock()
    # The demo officer signs a policy whose [conflict] section names that card: the reporter
    # app seals to a conflict-group card only if the signed policy names it (issue 19).
    for policy_dir in (cfg.base_dir / "policy", data_dir / "workbench" / "policy",
                       data_dir / CONFLICT_VAULT / "policy"):  # the vaults' policy pages
        documents.install(policy_dir, signer=officer, conflict=[conflict_card])
    engine = make_engine(cfg.database_url)
    try:
        with session_factory(engine)() as db, db.begin():
            auditors.enroll(db, lead_card.to_bytes(), cfg.clock().day(), actor=SHELL)
            auditors.enroll(db, conflict_card.to_bytes(), cfg.clock().day(), actor=SHELL,
                            group=CONFLICT)
            from dropbox_app.gateway.totpseal import key_for

            admin = accounts.create(db, PassphraseHasher(), "admin", "admin", cfg.clock().day(),
                                    language, actor=SHELL, totp_key=key_for(cfg))
    finally:
        engine.dispose()
    return {
        "warning": "demo credentials: for a demo on your own machine only, never a deployment",
        "gateway": {"user": "admin", "passphrase": admin.passphrase,
                    "totp_secret": admin.totp_secret, "totp_uri": admin.totp_uri},
        "workbench": {"auditor": "Demo Lead", "key_id": lead_card.key_id,
                      "passphrase": wb_pass},
        "conflict": {"auditor": CONFLICT_OFFICER, "key_id": conflict_card.key_id,
                     "passphrase": cf_pass, "vault": CONFLICT_VAULT},
        "server": {"deployment_id": cfg.deployment_id,
                   "card_fingerprint": server_card.fingerprint},
    }


def describe(demo: dict[str, Any], data_dir: Path = Path(".demo"),
             peluit: str = "peluit", language: str | None = None) -> str:
    """What ``peluit demo`` prints once everything listens: addresses, credentials and the next
    steps of the whole loop (report, gateway, import, question, export, upload, and a report
    about the inspectorate itself), in the CLI's language (``PELUIT_LANGUAGE``, else the
    locale, else Indonesian: peluit.ground.errors.cli_language) unless ``language`` is given.
    Commands, paths, URLs and the NOT AIR-GAPPED marker are the same in every language."""
    from peluit.ground.errors import cli_language
    from peluit.ground.i18n import translations

    _ = translations("peluit", "peluit", language or cli_language()).gettext
    gw, wb, urls = demo["gateway"], demo["workbench"], demo["urls"]
    vault_dir = data_dir / "workbench"
    flags = f"--vault {vault_dir} --demo-not-air-gapped"
    lines = [
        _("PELUIT DEMO - on your own machine only, never a deployment."), "",
        _("reporter app:  %(url)s") % {"url": urls["reporter"]},
        _("gateway:       %(url)s") % {"url": urls["gateway"]},
        _("  user admin, passphrase: %(passphrase)s") % {"passphrase": gw["passphrase"]},
        _("  TOTP code:   %(command)s") % {"command": f"{peluit} demo totp --data-dir {data_dir}"},
        _("               (or an authenticator app with the secret %(secret)s)")
        % {"secret": gw["totp_secret"]},
        _("workbench UI:  %(url)s  (NOT AIR-GAPPED: demo only)") % {"url": urls["workbench"]},
        _('  auditor "%(name)s", passphrase: %(passphrase)s')
        % {"name": wb["auditor"], "passphrase": wb["passphrase"]},
        _("  vault:       %(path)s") % {"path": vault_dir},
        _("server key fingerprint: %(fingerprint)s")
        % {"fingerprint": demo["server"]["card_fingerprint"]},
        _("credentials kept in %(state)s (and, while running, %(running)s)")
        % {"state": data_dir / STATE_FILE, "running": data_dir / DEMO_FILE}, "",
        _("Next steps:"),
        _("  1. Send a report at %(url)s") % {"url": urls["reporter"]},
        _('  2. Sign in to the gateway, press "Prepare the inbox bundle" and download it'),
        _("  3. Import it into the vault: on the workbench's Transfers page (%(url)s),\n"
          "     or (this machine is networked, hence --demo-not-air-gapped):")
        % {"url": f"{urls['workbench']}transfers"},
        f"       {peluit} workbench import BUNDLE {flags}",
        _("  4. Read the case and ask the reporter a question at %(url)s")
        % {"url": urls["workbench"]},
        _("  5. Export the replies (the Transfers page again, or the command below) and upload\n"
          "     the file on the gateway's Transfers page:"),
        f"       {peluit} workbench export-replies replies.bundle {flags}",
        *_conflict_steps(_, demo, data_dir, peluit),
        _("  The whole loop, step by step: %(doc)s") % {"doc": "docs/first-loop.md"}, "", ""]
    return "\n".join(lines)


def _conflict_steps(_: Any, demo: dict[str, Any], data_dir: Path, peluit: str) -> list[str]:
    """How to see a report about the inspectorate itself reach the conflict group only."""
    cf = demo.get("conflict")
    if cf is None:  # a demo set up before it had a conflict group
        return [_("  (This demo has no conflict group: an older version set it up. Remove "
                  "%(dir)s to get one.)") % {"dir": data_dir}]
    cf_dir = data_dir / cf["vault"]
    return [
        _("  6. A report about the inspectorate itself: on the report form answer that it\n"
          "     concerns the Inspectorate General. It is sealed to the conflict group only:\n"
          "     the inspectorate's vault leaves it in the inbox bundle (\"sealed to another\n"
          "     recipient group\"); the conflict group's own vault opens it:"),
        _('       auditor "%(name)s", passphrase: %(passphrase)s')
        % {"name": cf["auditor"], "passphrase": cf["passphrase"]},
        f"       {peluit} workbench import BUNDLE --vault {cf_dir} --demo-not-air-gapped",
        f"       {peluit} workbench serve {cf_dir} --port {CONFLICT_PORT} --demo-not-air-gapped",
        _("     (its own workbench UI; export and upload its replies too, as in step 5: the\n"
          "     server deletes a submission only once both groups have acknowledged it)")]


def _serve_apps(data_dir: Path, workbench_port: int) -> tuple[list[Any], list[str]]:
    from dropbox_app.app import make_gateway_app, make_http_server, make_reporter_app
    from dropbox_app.config import load

    cfg = load(data_dir / "server" / "peluit.toml")
    servers = [make_http_server(cfg, "reporter", make_reporter_app(cfg, cover=True)),
               make_http_server(cfg, "gateway", make_gateway_app(cfg, cover=True))]
    urls = []
    try:
        for srv in servers:
            srv.prepare()
            urls.append(f"http://{srv.bind_addr[0]}:{srv.bind_addr[1]}/")
    except OSError:
        for srv in servers:
            srv.stop()
        raise
    for srv in servers:
        threading.Thread(target=srv.serve, daemon=True).start()

    from workbench.serve import HOST
    from workbench.serve import serve as serve_workbench

    # waitress would fail inside its thread; find out here, while an error can still be shown.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            probe.bind((HOST, workbench_port))
        except OSError:
            for srv in servers:
                srv.stop()
            raise

    threading.Thread(target=serve_workbench, args=(data_dir / "workbench", workbench_port),
                     kwargs={"demo_not_air_gapped": True}, daemon=True).start()
    urls.append(f"http://127.0.0.1:{workbench_port}/")
    return servers, urls


def _stop_hint() -> str:
    from peluit.ground.errors import cli_language
    from peluit.ground.i18n import translations

    return translations("peluit", "peluit", cli_language()).gettext("Ctrl-C stops everything.")


def _peluit_command() -> str:
    """How to call this same ``peluit`` (``make run`` uses the venv's, which the system's
    python3 and PATH may not know)."""
    argv0 = Path(sys.argv[0])
    return str(argv0) if argv0.name == "peluit" else "peluit"


def run(args: argparse.Namespace) -> int:
    import json

    from peluit.ground.errors import UserError

    data_dir: Path = args.data_dir
    demo_file = data_dir / DEMO_FILE
    state_file = data_dir / STATE_FILE
    for name in ("reporter_port", "gateway_port", "workbench_port"):
        if not 1 <= getattr(args, name) <= 65535:
            raise UserError(f"--{name.replace('_', '-')}: port out of range")
    if not (data_dir / "server" / "peluit.toml").exists():
        if data_dir.exists() and any(data_dir.iterdir()):
            raise UserError(f"{data_dir} exists but holds no demo; use another --data-dir")
        from dropbox_app.config import ConfigError

        try:
            demo = setup(data_dir, args.reporter_port, args.gateway_port, args.language)
        except ConfigError as exc:
            raise UserError(str(exc)) from None
        _write_private(state_file, json.dumps(demo, indent=2) + "\n")
    else:
        try:
            demo = json.loads(state_file.read_text("utf-8"))
        except (OSError, ValueError):
            raise UserError(f"{state_file} is missing or damaged; remove {data_dir} to start "
                               "the demo afresh") from None
    demo_file.unlink(missing_ok=True)  # left by a demo that was killed
    stop = threading.Event()
    old = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        servers, urls = _serve_apps(data_dir, args.workbench_port)
    except OSError as exc:
        raise UserError(f"cannot listen: {exc.strerror or exc}") from None
    demo["urls"] = dict(zip(("reporter", "gateway", "workbench"), urls, strict=True))
    # Written once everything listens, atomically, and removed when the demo stops, so a script
    # that waits for demo.json never reads addresses that do not answer.
    _write_private(demo_file, json.dumps(demo, indent=2) + "\n")
    print(describe(demo, data_dir, _peluit_command()) + _stop_hint(), flush=True)
    try:
        # Wake up now and then: the kernel may deliver SIGTERM to any of the servers' threads,
        # and Python runs the handler only when the main thread runs again (a bare wait() could
        # then sleep forever; it did once the servers had 64 threads each).
        while not stop.wait(0.5):
            pass
    finally:
        demo_file.unlink(missing_ok=True)
        for srv in servers:
            srv.stop()
        for s, h in old.items():
            signal.signal(s, h)
    print("stopped", file=sys.stderr)
    return 0
