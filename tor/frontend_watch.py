"""Drop a dead backend from the Onionbalance frontend, and put it back when it answers again
(``peluit tor frontend-watch``, docs/scaling.md).

Onionbalance never drops a dead backend by itself: the HSDirs keep serving the backend's last
descriptor for hours, Onionbalance refetches it, finds it fresh, and keeps publishing its
introduction points in the frontend descriptor, where clients waste minutes on them. The only
lever Onionbalance offers is its config: a backend left out of ``config.yaml`` followed by
SIGHUP is gone from the next frontend descriptor within seconds.

So the watcher, on the management host next to Onionbalance, asks each backend the question
that matters (does its own onion address serve the reporter landing page?) through that host's
Tor SOCKS port, with a bounded timeout. After ``failures`` consecutive failed probes a backend
is taken out: ``config.yaml`` is written again (``onionbalance.render_config``) and the reload
command run (``systemctl reload peluit-onionbalance``: SIGHUP). After ``recoveries``
consecutive answers it is put back the same way. The last live backend is never taken out: a
frontend with no backend serves nobody, and one that may be dead at least costs nothing more.
"""

from __future__ import annotations

import http.client
import logging
import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tor import onionbalance

log = logging.getLogger(__name__)


class _SocksHTTPConnection(http.client.HTTPConnection):
    """HTTP over Tor's SOCKS port; the onion name is resolved by tor (``rdns``), never here."""

    def __init__(self, host: str, socks: tuple[str, int], timeout: float):
        super().__init__(host, 80, timeout=timeout)
        self._socks = socks

    def connect(self) -> None:
        import socks  # PySocks

        self.sock = socks.create_connection(
            (self.host, self.port), timeout=self.timeout, proxy_type=socks.SOCKS5,
            proxy_addr=self._socks[0], proxy_port=self._socks[1], proxy_rdns=True)


def probe(address: str, socks: tuple[str, int], timeout: float) -> bool:
    """Does the backend's own onion address serve the reporter landing page (GET /, 200 with a
    body) within ``timeout`` seconds overall? Every failure (tor's SOCKS error, a timeout, an
    HTTP error) is a no."""
    deadline = time.monotonic() + timeout
    result: list[bool] = []

    def ask() -> None:
        conn = _SocksHTTPConnection(address, socks, timeout)
        try:
            conn.request("GET", "/", headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read(65536)
            result.append(resp.status == 200 and b"<html" in body.lower())
        except Exception:  # noqa: BLE001 - any failure of the probe is a failed probe
            result.append(False)
        finally:
            conn.close()

    # The socket timeout bounds each read; the thread bounds the whole exchange (a server that
    # trickles bytes would otherwise keep one probe going for ever).
    worker = threading.Thread(target=ask, daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    return bool(result and result[0])


@dataclass
class Watcher:
    """The state: which backends are listed now, and each one's run of probe results."""

    key: Path
    backends: Sequence[str]
    config: Path
    reload: Callable[[], None]
    failures: int = 3
    recoveries: int = 2
    listed: list[str] = field(default_factory=list)
    _bad: dict[str, int] = field(default_factory=dict)
    _good: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.backends = [onionbalance.check_onion(b) for b in self.backends]
        if not self.listed:
            self.listed = list(self.backends)

    def record(self, results: dict[str, bool]) -> bool:
        """Take one round of probe results; rewrite the config and reload Onionbalance if the
        set of listed backends changes. True if it changed."""
        for b, ok in results.items():
            self._bad[b] = 0 if ok else self._bad.get(b, 0) + 1
            self._good[b] = self._good.get(b, 0) + 1 if ok else 0
        listed = [b for b in self.backends
                  if (b in self.listed and self._bad.get(b, 0) < self.failures)
                  or (b not in self.listed and self._good.get(b, 0) >= self.recoveries)]
        if not listed:
            # Every backend fails: keep the last one(s) listed rather than none.
            listed = [b for b in self.backends if b in self.listed]
        if listed == self.listed:
            return False
        for b in set(self.listed) - set(listed):
            log.warning("backend %s failed %d probes in a row: taken out of the frontend",
                        b, self._bad[b])
        for b in set(listed) - set(self.listed):
            log.warning("backend %s answered %d probes in a row: put back into the frontend",
                        b, self._good[b])
        self.write(listed)
        self.listed = listed
        self.reload()
        return True

    def write(self, backends: Sequence[str]) -> None:
        """config.yaml replaced whole (a reload never reads half a file), with the old file's
        mode and owner: Onionbalance runs as its own user and must still read it."""
        text = onionbalance.render_config(self.key, backends)
        fd, tmp = tempfile.mkstemp(dir=self.config.parent, prefix=".config.yaml.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            if self.config.exists():
                st = self.config.stat()
                os.chmod(tmp, st.st_mode & 0o777)
                if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                    os.chown(tmp, st.st_uid, st.st_gid)
            os.replace(tmp, self.config)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def run_command(command: str) -> Callable[[], None]:
    """The reload as a command line (``systemctl reload peluit-onionbalance``)."""
    argv = shlex.split(command)

    def reload() -> None:
        # The admin's own command line (an option of the command), no shell.
        done = subprocess.run(argv, capture_output=True, text=True,  # noqa: S603
                              timeout=60, check=False)
        if done.returncode != 0:
            log.error("reload command %r failed (%d): %s", command, done.returncode,
                      done.stderr.strip()[-500:])

    return reload


def watch(watcher: Watcher, socks: tuple[str, int], interval: float, timeout: float,
          stop: threading.Event | None = None) -> None:
    """Probe every backend (at once, each in its own thread) every ``interval`` seconds until
    ``stop`` is set."""
    stop = stop or threading.Event()
    while not stop.is_set():
        t0 = time.monotonic()
        results: dict[str, bool] = {}

        def one(b: str, into: dict[str, bool] = results) -> None:
            into[b] = probe(b, socks, timeout)

        threads = [threading.Thread(target=one, args=(b,), daemon=True)
                   for b in watcher.backends]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        log.info("probes: %s (%.1f s)", ", ".join(f"{b[:8]}… {'ok' if ok else 'FAILED'}"
                                         for b, ok in results.items()),
                 time.monotonic() - t0)
        watcher.record(results)
        stop.wait(max(0.0, interval - (time.monotonic() - t0)))
