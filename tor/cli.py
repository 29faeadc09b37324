"""`peluit tor ...`: the onion services' torrc and the gateway's per-auditor client keys.

Every command works on a tor data directory (``--tor-dir``, else ``[tor] data_dir`` of
``--config``, else /etc/peluit/peluit.toml, else /var/lib/tor), so the tests run them against
their private Tor network exactly as an admin runs them on the server."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from peluit.ground.errors import UserError

RELOAD_HINT = "Reload tor to apply: systemctl reload tor@default"


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tor", help="onion services and per-auditor Tor client keys")
    sub = p.add_subparsers(dest="tor_command", metavar="TOR_COMMAND", required=True)

    def common(q: argparse.ArgumentParser) -> argparse.ArgumentParser:
        q.add_argument("--config", type=Path, help="peluit.toml (default /etc/peluit/peluit.toml)")
        q.add_argument("--tor-dir", type=Path, help="tor data directory (default /var/lib/tor)")
        return q

    q = common(sub.add_parser("torrc", help="print the torrc of both onion services"))
    q.add_argument("--frontend", metavar="ADDRESS.onion",
                   help="the reporter service is a backend of this Onionbalance frontend")
    q.add_argument("--no-gateway", action="store_true",
                   help="reporter service only (an extra backend; the gateway is one instance)")
    q.set_defaults(func=_torrc)
    q = common(sub.add_parser("setup", help="create the onion service directories"))
    q.add_argument("--owner", default=None,
                   help="system user tor runs as (default: owner of the tor directory)")
    q.add_argument("--frontend", metavar="ADDRESS.onion",
                   help="write the reporter service's ob_config for this Onionbalance frontend")
    q.set_defaults(func=_setup)
    q = sub.add_parser("frontend-config",
                       help="print Onionbalance's config.yaml: frontend key and backends")
    q.add_argument("--key", type=Path, required=True,
                   help="the frontend key written by onionbalance-config")
    q.add_argument("--backend", action="append", required=True, metavar="ADDRESS.onion",
                   help="a backend's reporter onion address (repeat for each backend)")
    q.set_defaults(func=_frontend_config)
    q = sub.add_parser("frontend-watch",
                       help="probe each backend's onion address; take a dead one out of "
                            "Onionbalance's config.yaml (and put it back) with a reload")
    q.add_argument("--key", type=Path, required=True,
                   help="the frontend key written by onionbalance-config")
    q.add_argument("--backend", action="append", required=True, metavar="ADDRESS.onion",
                   help="a backend's reporter onion address (repeat for each backend)")
    q.add_argument("--config-file", type=Path, default=Path("/etc/onionbalance/config.yaml"),
                   help="Onionbalance's config.yaml, rewritten on a change "
                        "(default %(default)s)")
    q.add_argument("--socks", default="127.0.0.1:9050", metavar="HOST:PORT",
                   help="this host's Tor SOCKS port (default %(default)s)")
    q.add_argument("--reload", default="systemctl reload peluit-onionbalance",
                   metavar="COMMAND", help="run after config.yaml changed: makes Onionbalance "
                                           "reread it (default: %(default)s)")
    q.add_argument("--interval", type=float, default=20.0,
                   help="seconds between probe rounds (default %(default)s)")
    q.add_argument("--timeout", type=float, default=30.0,
                   help="seconds one probe may take (default %(default)s)")
    q.add_argument("--failures", type=int, default=3,
                   help="failed probes in a row that take a backend out (default %(default)s)")
    q.add_argument("--recoveries", type=int, default=2,
                   help="answered probes in a row that put it back (default %(default)s)")
    q.set_defaults(func=_frontend_watch)
    q = common(sub.add_parser("add-client", help="create an auditor's gateway key"))
    q.add_argument("name", help="auditor's client name: a-z, 0-9, '-', '_'")
    q.add_argument("--out", type=Path,
                   help="write NAME.auth_private here (for ClientOnionAuthDir) instead of "
                        "printing the private key")
    q.set_defaults(func=_add_client)
    q = common(sub.add_parser("remove-client", help="revoke an auditor's gateway key"))
    q.add_argument("name")
    q.set_defaults(func=_remove_client)
    q = common(sub.add_parser("status", help="onion addresses and gateway clients"))
    q.set_defaults(func=_status)


def _layout(args: argparse.Namespace):
    from tor import services

    return services.layout_from_config(args.config, args.tor_dir)


def _torrc(args: argparse.Namespace) -> int:
    from tor import onionbalance, services

    try:
        frontend = args.frontend and onionbalance.check_onion(args.frontend)
        sys.stdout.write(services.render_torrc(_layout(args), frontend=frontend,
                                               gateway=not args.no_gateway))
    except (services.ServiceError, onionbalance.BalanceError) as exc:
        raise UserError(str(exc)) from None
    return 0


def _frontend_config(args: argparse.Namespace) -> int:
    from tor import onionbalance

    try:
        address = onionbalance.frontend_address(args.key)
        sys.stdout.write(onionbalance.render_config(args.key, args.backend))
    except onionbalance.BalanceError as exc:
        raise UserError(str(exc)) from None
    print(f"# frontend: {address}", file=sys.stderr)
    return 0


def _frontend_watch(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from tor import frontend_watch, onionbalance

    host, _, port = args.socks.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--socks {args.socks!r}: give HOST:PORT")
    if args.failures < 1 or args.recoveries < 1 or args.interval <= 0 or args.timeout <= 0:
        raise UserError("--failures and --recoveries must be at least 1, --interval and "
                        "--timeout above 0")
    try:
        onionbalance.frontend_address(args.key)
        watcher = frontend_watch.Watcher(args.key, args.backend, args.config_file,
                                         frontend_watch.run_command(args.reload),
                                         failures=args.failures, recoveries=args.recoveries)
        # Start from every backend listed: what the admin configured.
        watcher.write(watcher.listed)
    except onionbalance.BalanceError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write {args.config_file}: {exc.strerror}") from None
    watcher.reload()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"watching {len(watcher.backends)} backends through {args.socks}", file=sys.stderr,
          flush=True)
    frontend_watch.watch(watcher, (host, int(port)), args.interval, args.timeout, stop)
    return 0


def _setup(args: argparse.Namespace) -> int:
    from tor import services

    try:
        layout = _layout(args)
        owner = None
        if args.owner:
            import pwd

            try:
                pw = pwd.getpwnam(args.owner)
            except KeyError:
                raise UserError(f"no system user {args.owner!r}") from None
            owner = (pw.pw_uid, pw.pw_gid)
        if not layout.tor_dir.is_dir():
            raise UserError(f"{layout.tor_dir} does not exist: is tor installed?")
        services.setup(layout, owner)
        if args.frontend:
            from tor import onionbalance

            onionbalance.write_ob_config(layout.reporter_dir, args.frontend)
    except (services.ServiceError, OSError, ValueError) as exc:
        raise UserError(str(exc)) from None
    print(f"Onion service directories ready in {layout.tor_dir}. {RELOAD_HINT}")
    return 0


def _add_client(args: argparse.Namespace) -> int:
    from tor import clientauth, services

    try:
        layout = _layout(args)
        services.require_setup(layout)
        clientauth.check_name(args.name)
        if args.out is not None and args.out.exists():
            raise UserError(f"{args.out} exists; not overwriting")
        key = clientauth.add_client(layout.auth_dir, args.name)
    except (services.ServiceError, clientauth.ClientAuthError, OSError) as exc:
        raise UserError(str(exc)) from None
    address = services.onion_address(layout.gateway_dir)
    print(f"Added gateway client {args.name!r} (public key {clientauth.b32(key.public)}).")
    if address is None:
        print("The gateway onion has no address yet (tor has not started it): run "
              "`peluit tor status` after reloading tor to get the address for the auditor.")
    if args.out is not None:
        if address is None:
            raise UserError("cannot write a ClientOnionAuthDir file before the address exists")
        try:
            clientauth.write_atomically(args.out, (key.client_line(address) + "\n").encode())
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror}") from None
        print(f"Wrote {args.out} (mode 0600): put it in the auditor's ClientOnionAuthDir.")
    else:
        # Shown once: the server keeps the public half only, so a seized server cannot be used
        # to reach the gateway as this auditor.
        print("Give the auditor, over a safe channel, and do not keep a copy:")
        if address is not None:
            print(f"  Gateway address:         http://{address}/")
        print(f"  Tor Browser key:         {key.tor_browser_key()}")
        if address is not None:
            print(f"  ClientOnionAuthDir line: {key.client_line(address)}")
            print(f"    (in a file named {args.name}.auth_private)")
    print(RELOAD_HINT)
    return 0


def _remove_client(args: argparse.Namespace) -> int:
    from tor import clientauth, services

    try:
        layout = _layout(args)
        services.require_setup(layout)
        clientauth.remove_client(layout.auth_dir, args.name)
    except (services.ServiceError, clientauth.ClientAuthError, OSError) as exc:
        raise UserError(str(exc)) from None
    print(f"Removed gateway client {args.name!r}.")
    print("Restart tor so that it also drops the introduction points this client may have "
          "cached: systemctl restart tor@default")
    return 0


def _status(args: argparse.Namespace) -> int:
    from tor import clientauth, services

    try:
        layout = _layout(args)
        st = services.status(layout)
    except (services.ServiceError, clientauth.ClientAuthError, OSError) as exc:
        raise UserError(str(exc)) from None
    print(f"tor directory:   {layout.tor_dir}")
    print(f"reporter onion:  {st.reporter_address or '(not created yet)'}"
          f"  -> 127.0.0.1:{layout.reporter_port}")
    print(f"gateway onion:   {st.gateway_address or '(not created yet)'}"
          f"  -> 127.0.0.1:{layout.gateway_port}")
    if not st.sealed:
        print("WARNING: the gateway's sealed client is missing: with no auditor enrolled the "
              "gateway onion is public. Run `peluit tor setup`.")
    print(f"gateway clients: {len(st.clients)}")
    for client in st.clients:
        print(f"  {client.name:<32} {client.public_b32}")
    return 0
