"""A whole Tor network on loopback, for tests: directory authorities, relays, onion-service hosts
and clients, with no internet.

What works on this machine kind is written up in ``shared/reference/tor-private-network.md``;
this module follows it: at least 4 relays in total (3 authorities + 2 relays by default), start
in phases (authorities and relays first, wait until every authority serves a consensus listing
all relays and their microdescriptors, then onion services and clients), wait for the onion
descriptors to be uploaded before fetching.

Every tor process gets ``__OwningControllerProcess`` set to this Python process, so a crashed
test run never leaves tor processes behind. Control connections go over a unix socket with
cookie authentication, as in production.

Authority keys take seconds to generate, so they are kept in a per-user cache directory and
copied into each network's fresh data directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

TOR = "tor"
TOR_GENCERT = "tor-gencert"
KEY_CACHE_VERSION = "v1"

# Options shared by every process of a test network; see the reference note for why each.
_COMMON = """\
TestingTorNetwork 1
RunAsDaemon 0
GeoIPFile /dev/null
GeoIPv6File /dev/null
Log notice file {data_dir}/notice.log
SafeLogging 1
__OwningControllerProcess {owner_pid}
DataDirectory {data_dir}
ControlSocket {data_dir}/control.sock
CookieAuthentication 1
"""

_RELAY = """\
Nickname {nickname}
Address 127.0.0.1
ORPort 127.0.0.1:{or_port}
SocksPort 0
AssumeReachable 1
ExitRelay 0
"""

_AUTHORITY = """\
DirPort 127.0.0.1:{dir_port}
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo peluit-test-network
TestingDirAuthVoteGuard *
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval {voting_interval}
V3AuthVoteDelay 2
V3AuthDistDelay 2
"""


class TorNetworkError(RuntimeError):
    """The test network did not come up (the message holds the tail of the tor log)."""


class SocksError(OSError):
    """A SOCKS5 request failed; ``code`` is the reply code, tor's extended ones included."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or f"SOCKS5 error 0x{code:02X}")
        self.code = code


# Tor's extended SOCKS5 replies (SocksPort flag ExtendedErrors; tor manual, "SocksPort").
ONION_DESC_NOT_FOUND = 0xF0
ONION_DESC_INVALID = 0xF1
ONION_INTRO_FAILED = 0xF2
ONION_REND_FAILED = 0xF3
ONION_MISSING_CLIENT_AUTH = 0xF4
ONION_WRONG_CLIENT_AUTH = 0xF5
ONION_BAD_ADDRESS = 0xF6
ONION_INTRO_TIMEOUT = 0xF7


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (tor binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class TorProcess:
    name: str
    data_dir: Path
    torrc: Path
    process: subprocess.Popen | None = None
    or_port: int | None = None
    dir_port: int | None = None
    socks_port: int | None = None
    _control: object = None

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "control.sock"

    def start(self) -> None:
        # What tor prints before its log file is open (a torrc it refuses, a data directory it
        # cannot use) goes to its console: kept beside the log, so a failure says why.
        with open(self.data_dir / "console.log", "ab") as console:
            self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own torrc
                [TOR, "-f", str(self.torrc), "--ignore-missing-torrc"],
                stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                start_new_session=True)

    def log_tail(self, lines: int = 15) -> str:
        for name in ("notice.log", "console.log"):
            try:
                text = (self.data_dir / name).read_text(errors="replace")
            except OSError:
                continue
            if text.strip():
                return "\n".join(text.splitlines()[-lines:])
        return "(no log)"

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise TorNetworkError(
                f"tor {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")

    def controller(self):  # -> stem.control.Controller
        """The process's authenticated stem controller, over its control socket.

        Kept open for the process's life: stem takes ownership of a tor whose
        ``__OwningControllerProcess`` is this process (TAKEOWNERSHIP), after which tor exits
        when that connection closes. So one connection per process, closed by ``stop()``."""
        if self._control is not None:
            return self._control
        from stem.control import Controller

        deadline = time.monotonic() + 30
        while not self.control_socket.exists():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TorNetworkError(f"tor {self.name}: no control socket\n{self.log_tail()}")
            time.sleep(0.05)
        with warnings.catch_warnings():
            # stem 1.8 starts its threads with the deprecated Thread.setDaemon().
            warnings.filterwarnings("ignore", "setDaemon", DeprecationWarning)
            ctl = Controller.from_socket_file(str(self.control_socket))
            ctl.authenticate()
        self._control = ctl
        return ctl

    def reload(self) -> None:
        """Re-read the torrc, the onion services' authorized_clients and the client's
        ClientOnionAuthDir. Through the control connection: tor has done it when the call
        returns (a SIGHUP would race the next request)."""
        from stem import Signal

        self.controller().signal(Signal.RELOAD)

    def restart(self) -> None:
        """Stop and start again with the same torrc and data directory (same onion keys, new
        introduction points and circuits)."""
        self.stop()
        self.control_socket.unlink(missing_ok=True)
        self.start()
        self.controller()

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class OnionService:
    """One onion service on a host process; ``address`` ends in ``.onion``."""
    name: str
    hs_dir: Path
    target_port: int
    virtual_port: int = 80
    client_auth: bool = False

    @property
    def address(self) -> str:
        return (self.hs_dir / "hostname").read_text().strip()

    @property
    def authorized_clients_dir(self) -> Path:
        return self.hs_dir / "authorized_clients"


@dataclass
class TorClient:
    process: TorProcess
    auth_dir: Path

    @property
    def socks_port(self) -> int:
        assert self.process.socks_port is not None
        return self.process.socks_port

    def forget_onion_descriptors(self) -> None:
        """NEWNYM: new circuits and, in tor, a purged onion-service descriptor cache. Tor
        delays a NEWNYM that comes within 10 s of the previous one; wait that out first so
        the purge has happened when this returns."""
        from stem import Signal

        ctl = self.process.controller()
        time.sleep(ctl.get_newnym_wait())
        ctl.signal(Signal.NEWNYM)

    def reload(self) -> None:
        self.process.reload()

    def client_auth_keys(self, onion_address: str) -> list[str]:
        """The x25519 private keys (base64) tor holds for ``onion_address``."""
        bare = _bare(onion_address)
        reply = self.process.controller().msg(f"ONION_CLIENT_AUTH_VIEW {bare}")
        return [part.removeprefix("x25519:") for line in str(reply).splitlines()
                for part in line.split() if line.startswith("CLIENT ") and
                part.startswith("x25519:")]


@dataclass
class TorNetwork:
    """A private Tor network rooted at ``base_dir``. Use as a context manager or call
    ``start()`` / ``stop()``."""

    base_dir: Path
    authorities: int = 3
    relays: int = 2
    key_cache: Path | None = None
    timeout: float = 90.0
    # Seconds between votes once the first consensus is out. Tor derives an onion service's
    # time period from it on a test network (24 votes, offset by 12): 10 s gives 4-minute
    # periods; Onionbalance's --is-testnet assumes chutney's 20 s (8-minute periods).
    voting_interval: int = 10
    # Relays cache directories and are voted HSDir, so the network has authorities + relays
    # HSDirs: Onionbalance's walk of the responsible HSDirs never ends with 4 or fewer.
    hsdir_relays: bool = False
    processes: list[TorProcess] = field(default_factory=list)
    startup_seconds: dict[str, float] = field(default_factory=dict)
    # Upload rounds redone per onion host because an HSDir refused a descriptor (diagnostics).
    republished: dict[str, int] = field(default_factory=dict)
    _dir_authority_lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.authorities + self.relays < 4:
            raise ValueError("onion-service circuits need at least 4 relays in total")
        self.base_dir = Path(self.base_dir)
        if self.key_cache is None:
            self.key_cache = default_key_cache()

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> TorNetwork:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Phases 1 and 2: authorities and relays up, consensus complete at every authority."""
        t0 = time.monotonic()
        try:
            auths = [self._prepare_authority(i) for i in range(self.authorities)]
            self.startup_seconds["keys"] = time.monotonic() - t0
            relays = [self._prepare_relay(i) for i in range(self.relays)]
            for proc in auths + relays:
                self._write_torrc(proc, self._relay_torrc(proc))
                proc.start()
            self._wait_for_consensus(auths, self.authorities + self.relays)
            if self.voting_interval != 10 or self.hsdir_relays:
                self._wait_for_settled_consensus(auths)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds["consensus"] = time.monotonic() - t0

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()

    # -- onion services and clients -------------------------------------------------------

    def start_onion_host(self, name: str, services: Iterable[OnionService],
                         extra_torrc: str = "") -> TorProcess:
        """A tor process hosting ``services``. ``extra_torrc`` is appended (the production
        template's onion-service lines, for instance); when given, it must carry the
        HiddenService* lines itself and ``services`` only tell where to find them."""
        services = list(services)
        proc = self._new_process(name)
        lines = ["SocksPort 0"]
        if not extra_torrc:
            for svc in services:
                lines += [f"HiddenServiceDir {svc.hs_dir}",
                          f"HiddenServicePort {svc.virtual_port} 127.0.0.1:{svc.target_port}"]
        for svc in services:
            svc.hs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if svc.client_auth:
                svc.authorized_clients_dir.mkdir(mode=0o700, exist_ok=True)
        self._write_torrc(proc, self._common(proc) + "\n".join(lines) + "\n" + extra_torrc)
        proc.start()
        proc.controller()
        return proc

    def start_client(self, name: str) -> TorClient:
        proc = self._new_process(name)
        proc.socks_port = free_port()
        auth_dir = proc.data_dir / "onion-auth"
        auth_dir.mkdir(mode=0o700)
        # ExtendedErrors: tor answers with its own SOCKS codes, so a test can tell "refused
        # for lack of client authorization" from "not reachable at all".
        self._write_torrc(proc, self._common(proc)
                          + f"SocksPort 127.0.0.1:{proc.socks_port} ExtendedErrors\n"
                          + f"ClientOnionAuthDir {auth_dir}\n")
        proc.start()
        proc.controller()
        return TorClient(proc, auth_dir)

    def wait_for_descriptors(self, host: TorProcess, services: Iterable[OnionService],
                             trigger=None, budget: float = 300.0) -> None:
        """Block until every service's descriptors were stored by every HSDir they were sent to.
        With ``trigger`` (e.g. ``host.reload``), only uploads after calling it count.

        An HSDir keeps a descriptor only if its revision counter is higher than the one it
        holds, and tor derives the counter from the clock, in whole seconds counted from the
        start of a shared-random period (4 minutes on this network, whose votes are 10 s
        apart). A rebuild in the same second as an earlier upload (a reload right after
        start-up, or right after tor's own re-upload when introduction points rotate, every
        10-30 s here) is refused, and refusals were also seen for several seconds in a row.
        The HSDirs then keep serving the older descriptor: after a client-auth change, a
        client is turned away with "wrong client auth" for good. So every upload's outcome is
        awaited, and while any is refused the host reloads again, further apart each time,
        for up to ``budget`` seconds (the clock catches up within one period)."""
        services = list(services)
        t0 = time.monotonic()
        pause = 1.1
        rounds = 0
        while True:
            refused = self._upload_round(host, services, trigger)
            rounds += 1
            if not refused:
                break
            if time.monotonic() - t0 > budget:
                raise TorNetworkError(
                    f"onion descriptors still refused by HSDirs after {rounds} rounds in "
                    f"{time.monotonic() - t0:.0f} s ({refused})\n{host.log_tail()}")
            time.sleep(pause)
            pause = min(pause * 2, 20.0)
            trigger = host.reload
        self.startup_seconds[f"descriptors:{host.name}"] = time.monotonic() - t0
        self.republished[host.name] = self.republished.get(host.name, 0) + rounds - 1

    def _upload_round(self, host: TorProcess, services: list[OnionService], trigger,
                      quiet: float = 0.5) -> dict:
        """Call ``trigger`` and wait until every upload seen for the services has an outcome
        (at least one each), then ``quiet`` seconds without news; return the refusals per
        service and their reasons (empty when every HSDir took every descriptor)."""
        wanted = {_bare(s.address) for s in services}
        sent: dict[str, int] = {}
        stored: dict[str, int] = {}
        refused: dict[str, int] = {}
        reasons: dict[str, int] = {}
        last_event = [time.monotonic()]
        lock = threading.Lock()

        # Uploads of this round still waiting for their outcome, per (service, HSDir). An outcome
        # counts only against an upload seen here: on a slow machine an earlier reload's
        # upload can answer after this round began, and counting its "stored" would settle
        # the round before this round's own refusal arrives.
        pending: dict[tuple[str, str], int] = {}

        def on_event(event) -> None:
            if event.address not in wanted:
                return
            tally = {"UPLOAD": sent, "UPLOADED": stored, "FAILED": refused}.get(event.action)
            if tally is None:
                return
            key = (event.address, str(event.directory_fingerprint or event.directory))
            with lock:
                if event.action == "UPLOAD":
                    pending[key] = pending.get(key, 0) + 1
                else:
                    if event.directory_fingerprint is None:  # no HSDir named: any of the service's
                        key = next((k for k, n in pending.items()
                                    if k[0] == event.address and n > 0), key)
                    if pending.get(key, 0) <= 0:
                        return  # the outcome of an upload from before this round
                    pending[key] -= 1
                tally[event.address] = tally.get(event.address, 0) + 1
                last_event[0] = time.monotonic()
                if event.action == "FAILED":  # why, for the error message
                    reasons[str(event.reason)] = reasons.get(str(event.reason), 0) + 1

        def settled() -> bool:
            with lock:
                return (time.monotonic() - last_event[0] >= quiet and all(
                    stored.get(a, 0) + refused.get(a, 0) >= max(sent.get(a, 0), 1)
                    for a in wanted))

        from stem.control import EventType

        ctl = host.controller()
        ctl.add_event_listener(on_event, EventType.HS_DESC)
        try:
            if trigger is not None:
                trigger()
            deadline = time.monotonic() + self.timeout
            while not settled():
                host.check_alive()
                if time.monotonic() > deadline:
                    raise TorNetworkError(
                        f"onion descriptors not uploaded in {self.timeout:.0f} s "
                        f"(sent {sent}, stored {stored}, refused {refused} {reasons})\n"
                        f"{host.log_tail()}")
                time.sleep(0.1)
        finally:
            ctl.remove_event_listener(on_event)
        return {**refused, "reasons": reasons} if refused else {}

    def wait_for_bootstrap(self, proc: TorProcess) -> None:
        t0 = time.monotonic()
        ctl = proc.controller()
        deadline = t0 + self.timeout
        while "PROGRESS=100" not in ctl.get_info("status/bootstrap-phase"):
            proc.check_alive()
            if time.monotonic() > deadline:
                raise TorNetworkError(f"tor {proc.name} did not bootstrap\n{proc.log_tail()}")
            time.sleep(0.1)
        self.startup_seconds[f"bootstrap:{proc.name}"] = time.monotonic() - t0

    # -- internals ------------------------------------------------------------------------

    def _new_process(self, name: str) -> TorProcess:
        data_dir = self.base_dir / name
        data_dir.mkdir(mode=0o700, parents=True)
        proc = TorProcess(name, data_dir, data_dir / "torrc")
        self.processes.append(proc)
        return proc

    def _common(self, proc: TorProcess) -> str:
        return _COMMON.format(data_dir=proc.data_dir, owner_pid=os.getpid()) + "".join(
            line + "\n" for line in self._dir_authority_lines)

    def _relay_torrc(self, proc: TorProcess) -> str:
        text = self._common(proc) + _RELAY.format(nickname=_nickname(proc.name),
                                                  or_port=proc.or_port)
        if proc.dir_port is not None:
            text += _AUTHORITY.format(dir_port=proc.dir_port, voting_interval=self.voting_interval)
            if self.hsdir_relays:
                text += "TestingDirAuthVoteHSDir *\n"
        elif not self.hsdir_relays:
            # A relay that caches directories may hand out a consensus before it holds the
            # microdescriptors; clients then wait ~10 s to retry.
            text += "DirCache 0\n"
        return text

    @staticmethod
    def _write_torrc(proc: TorProcess, text: str) -> None:
        proc.torrc.write_text(text)

    def _prepare_authority(self, index: int) -> TorProcess:
        proc = self._new_process(f"auth{index}")
        proc.or_port, proc.dir_port = free_port(), free_port()
        keys = _cached_authority_keys(self.key_cache, index)  # type: ignore[arg-type]
        shutil.copytree(keys, proc.data_dir, dirs_exist_ok=True)
        v3ident = _cert_fingerprint(proc.data_dir / "keys" / "authority_certificate")
        relay_fp = (proc.data_dir / "fingerprint").read_text().split()[1]
        self._dir_authority_lines.append(
            f"DirAuthority {_nickname(proc.name)} orport={proc.or_port} no-v2 "
            f"v3ident={v3ident} 127.0.0.1:{proc.dir_port} {relay_fp}")
        return proc

    def _prepare_relay(self, index: int) -> TorProcess:
        proc = self._new_process(f"relay{index}")
        proc.or_port = free_port()
        return proc

    def _wait_for_consensus(self, auths: list[TorProcess], relays: int) -> None:
        deadline = time.monotonic() + self.timeout
        pending = list(auths)
        while pending:
            for proc in list(pending):
                proc.check_alive()
                if _authority_complete(proc.dir_port, relays):  # type: ignore[arg-type]
                    pending.remove(proc)
            for proc in self.processes:
                proc.check_alive()
            if pending and time.monotonic() > deadline:
                raise TorNetworkError(
                    f"no complete consensus in {self.timeout:.0f} s at "
                    f"{[p.name for p in pending]}\n{pending[0].log_tail()}")
            if pending:
                time.sleep(0.25)


    def _wait_for_settled_consensus(self, auths: list[TorProcess]) -> None:
        """Wait until every authority serves a consensus made at ``voting_interval`` (the
        first ones use the initial 5 s) in which every relay is an HSDir when asked for."""
        hsdirs = self.authorities + (self.relays if self.hsdir_relays else 0)
        deadline = time.monotonic() + self.timeout
        pending = list(auths)
        while pending:
            for proc in list(pending):
                proc.check_alive()
                consensus = _http_get(proc.dir_port, "/tor/status-vote/current/consensus-microdesc")
                if consensus and _consensus_interval(consensus) == self.voting_interval and \
                        _hsdir_count(consensus) >= hsdirs:
                    pending.remove(proc)
            if pending and time.monotonic() > deadline:
                raise TorNetworkError(
                    f"no consensus at {self.voting_interval} s with {hsdirs} HSDirs in "
                    f"{self.timeout:.0f} s at {[p.name for p in pending]}\n{pending[0].log_tail()}")
            if pending:
                time.sleep(0.5)


def _consensus_interval(consensus: bytes) -> int | None:
    """fresh-until minus valid-after, in seconds: the voting interval this consensus was
    made at (what tor derives onion-service time periods from)."""
    import datetime as dt

    times = {}
    for line in consensus.decode(errors="replace").splitlines():
        key, _, value = line.partition(" ")
        if key in ("valid-after", "fresh-until"):
            times[key] = dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S")
    if len(times) < 2:
        return None
    return int((times["fresh-until"] - times["valid-after"]).total_seconds())


def _hsdir_count(consensus: bytes) -> int:
    return sum(1 for line in consensus.decode(errors="replace").splitlines()
               if line.startswith("s ") and "HSDir" in line.split())


def _nickname(name: str) -> str:
    return "peluit" + "".join(ch for ch in name if ch.isalnum())


def _bare(onion_address: str) -> str:
    return onion_address.removesuffix(".onion")


def _cert_fingerprint(cert: Path) -> str:
    for line in cert.read_text().splitlines():
        if line.startswith("fingerprint "):
            return line.split()[1]
    raise TorNetworkError(f"no fingerprint in {cert}")


def _http_get(port: int, path: str) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.read()
    except OSError:
        return None


def _authority_complete(dir_port: int, relays: int) -> bool:
    """The authority serves a microdescriptor consensus listing ``relays`` relays, and the
    microdescriptors of all of them."""
    consensus = _http_get(dir_port, "/tor/status-vote/current/consensus-microdesc")
    if not consensus:
        return False
    lines = consensus.decode(errors="replace").splitlines()
    if sum(1 for line in lines if line.startswith("r ")) < relays:
        return False
    digests = [line.split()[1] for line in lines if line.startswith("m ")]
    if len(digests) < relays:
        return False
    micro = _http_get(dir_port, "/tor/micro/d/" + "-".join(digests))
    return bool(micro) and micro.count(b"onion-key") >= relays


def default_key_cache() -> Path:
    return Path(tempfile.gettempdir()) / f"peluit-tornet-keys-{os.getuid()}-{KEY_CACHE_VERSION}"


def _cached_authority_keys(cache: Path, index: int) -> Path:
    """The data-directory seed of authority ``index``: keys/ (authority identity, signing key
    and certificate; relay identity) and the fingerprint file. Generated once, then reused;
    written under a temporary name and renamed, so concurrent sessions never see half a set."""
    cache.mkdir(mode=0o700, exist_ok=True)
    if cache.stat().st_uid != os.getuid() or cache.stat().st_mode & 0o077:
        raise TorNetworkError(f"{cache} is not a private directory of this user")
    target = cache / f"auth{index}"
    if (target / "fingerprint").exists():
        return target
    work = Path(tempfile.mkdtemp(prefix=f".auth{index}-", dir=cache))
    keys = work / "keys"
    keys.mkdir(mode=0o700)
    # The dir-address in the certificate is informational; each network picks its own ports.
    subprocess.run(  # noqa: S603
        [TOR_GENCERT, "--create-identity-key", "--passphrase-fd", "0",
         "-i", str(keys / "authority_identity_key"), "-s", str(keys / "authority_signing_key"),
         "-c", str(keys / "authority_certificate"), "-m", "12", "-a", "127.0.0.1:7000"],
        input=b"\n", check=True, capture_output=True, timeout=60)
    subprocess.run(  # noqa: S603
        [TOR, "--ignore-missing-torrc", "-f", "/nonexistent", "--DataDirectory", str(work),
         "--ORPort", "1", "--list-fingerprint", "--GeoIPFile", "/dev/null",
         "--GeoIPv6File", "/dev/null", "--Log", "err stderr"],
        check=True, capture_output=True, timeout=60)
    for transient in ("lock", "cached-certs", "state"):
        with contextlib.suppress(FileNotFoundError):
            (work / transient).unlink()
    try:
        work.rename(target)
    except OSError:
        # Another session won the race; use its keys.
        shutil.rmtree(work, ignore_errors=True)
    return target


# -- SOCKS5 and HTTP through it -----------------------------------------------------------------

def socks_connect(socks_port: int, host: str, port: int, timeout: float = 60.0) -> socket.socket:
    """A TCP stream to ``host:port`` through a SOCKS5 proxy on 127.0.0.1 (hostname resolved by
    the proxy, as Tor Browser does)."""
    sock = socket.create_connection(("127.0.0.1", socks_port), timeout=timeout)
    try:
        sock.sendall(b"\x05\x01\x00")
        if _recv_exact(sock, 2) != b"\x05\x00":
            raise SocksError(0xFF, "SOCKS5 proxy refused the no-auth method")
        name = host.encode("ascii")
        sock.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        head = _recv_exact(sock, 4)
        if head[1] != 0:
            raise SocksError(head[1])
        addr_len = {1: 4, 4: 16}.get(head[3])
        if addr_len is None:
            addr_len = _recv_exact(sock, 1)[0]
        _recv_exact(sock, addr_len + 2)
        return sock
    except BaseException:
        sock.close()
        raise


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SocksError(0x01, "SOCKS5 proxy closed the connection")
        data += chunk
    return data


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def http_get_via_socks(socks_port: int, url_host: str, path: str = "/", port: int = 80,
                       timeout: float = 60.0) -> HttpResponse:
    """A plain HTTP/1.0 GET through the SOCKS port (onion services carry plain HTTP: the
    onion address already authenticates the server and encrypts the stream)."""
    with socks_connect(socks_port, url_host, port, timeout) as sock:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {url_host}\r\nConnection: close\r\n\r\n"
                     .encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return HttpResponse(status, headers, body)


TRANSIENT = (ONION_DESC_NOT_FOUND, ONION_INTRO_FAILED, ONION_REND_FAILED, ONION_INTRO_TIMEOUT,
             0x01, 0x04, 0x06)


def retry_socks(fn, attempts_timeout: float = 60.0, retry_codes: Iterable[int] = TRANSIENT):
    """Call ``fn`` until it does not raise a transient SOCKS error (descriptor not yet at
    that HSDir, intro failure...) or ``attempts_timeout`` passes; the last error propagates."""
    retry = set(retry_codes)
    deadline = time.monotonic() + attempts_timeout
    while True:
        try:
            return fn()
        except SocksError as exc:
            if exc.code not in retry or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def network(base_dir: Path | None = None, **kwargs) -> Iterator[TorNetwork]:
    """A started network in a fresh temp dir, stopped and removed afterwards."""
    own = base_dir is None
    # A short path: unix control sockets are limited to ~100 bytes.
    base = Path(tempfile.mkdtemp(prefix="peluit-tor-")) if own else Path(base_dir)
    net = TorNetwork(base, **kwargs)
    try:
        net.start()
        yield net
    finally:
        net.stop()
        if own:
            shutil.rmtree(base, ignore_errors=True)
