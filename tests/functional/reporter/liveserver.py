"""A real ``peluit serve reporter`` process on loopback, and a small HTTP client that behaves
like a browser with cookies, for the tests and benchmarks that need the real server."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from crypto.identity import AuditorIdentity

PELUIT = [sys.executable, "-m", "peluit"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deployment(base: Path, port: int, auditor: AuditorIdentity | None = None) -> Path:
    """``peluit init`` a data directory and enroll an auditor card, with the CLI's own entry
    point (in this process: the server is the part that must run separately)."""
    from peluit.cli import main

    assert main(["init", "--data-dir", str(base), "--reporter-listen", f"127.0.0.1:{port}",
                 "--gateway-listen", f"127.0.0.1:{free_port()}"]) == 0
    cfg = base / "peluit.toml"
    if auditor is not None:
        card = base / "auditor.card"
        card.write_bytes(auditor.card().to_bytes())
        assert main(["auditor", "enroll", str(card), "--config", str(cfg)]) == 0
        card.unlink()
    return cfg


class Server:
    def __init__(self, cfg: Path, port: int, wrapper: list[str] = (), env: dict | None = None,
                 log: Path | None = None):
        self.port = port
        self.log = log or cfg.parent / "server.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([*wrapper, *PELUIT, "serve", "reporter", "--config",
                                      str(cfg)], stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, **(env or {})}, cwd=cfg.parent)
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while b"listening" not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start (exit {self.proc.poll()}): "
                                   + self.log.read_text())
            time.sleep(0.05)

    def server_pid(self) -> int:
        """The Python server's pid (the wrapper's child when run under strace)."""
        import psutil

        p = psutil.Process(self.proc.pid)
        for child in [p, *p.children(recursive=True)]:
            if any("peluit" in part for part in child.cmdline()) and "strace" not in child.name():
                return child.pid
        raise RuntimeError("server process not found")

    def stop(self, sig: int = 15) -> None:
        """Signal the server itself (a SIGTERM to strace would only detach it), then wait for
        the wrapper to finish."""
        if self.proc.poll() is None:
            try:
                os.kill(self.server_pid(), sig)
            except (RuntimeError, ProcessLookupError):
                self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Client:
    """Cookies, CSRF token and form tokens, like a browser without JavaScript."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def conn(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, res: http.client.HTTPResponse) -> None:
        for header in res.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)

    def request(self, method: str, path: str, body: bytes | None = None,
                ctype: str | None = None) -> tuple[int, str]:
        c = self.conn()
        headers = self._headers()
        if ctype:
            headers["Content-Type"] = ctype
        c.request(method, path, body=body, headers=headers)
        res = c.getresponse()
        self._keep(res)
        text = res.read().decode("utf-8", "replace")
        c.close()
        return res.status, text

    def get(self, path: str) -> str:
        status, text = self.request("GET", path)
        assert status == 200, (status, text[:500])
        return text

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        from urllib.parse import urlencode

        return self.request("POST", path, urlencode(fields).encode(),
                            "application/x-www-form-urlencoded")

    @property
    def csrf(self) -> str:
        if "csrf" not in self.cookies:
            self.get("/")
        return self.cookies["csrf"]

    def start_report(self) -> tuple[str, str]:
        """Codename, confirmation, and the report form's token."""
        status, page = self.post_form("/codename", {"csrf_token": self.csrf, "words": "en"})
        assert status == 200, page[:500]
        codename = " ".join(re.findall(r'<span class="word">([^<]+)</span>', page))
        status, _ = self.post_form("/codename/confirm", {"csrf_token": self.csrf,
                                                         "written_down": "yes"})
        assert status == 303
        form = self.get("/report/new")
        return codename, re.search(r'name="form_token" value="([0-9a-f]+)"', form).group(1)


def multipart(fields: list[tuple[str, str]], files: list[tuple[str, int, Iterator[bytes]]],
              boundary: str = "peluitboundary0123456789") -> tuple[list[bytes], int, str]:
    """A multipart body as pieces (files given as generators of known size), its length, and
    its Content-Type."""
    pieces: list = []
    for k, v in fields:
        pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                      .encode() + v.encode() + b"\r\n")
    for name, size, gen in files:
        pieces.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                      f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                      .encode())
        pieces.append((size, gen))
        pieces.append(b"\r\n")
    pieces.append(f"--{boundary}--\r\n".encode())
    length = sum(p[0] if isinstance(p, tuple) else len(p) for p in pieces)
    return pieces, length, f"multipart/form-data; boundary={boundary}"


def send_multipart(client: Client, path: str, pieces: list, length: int, ctype: str,
                   pause_at: int | None = None, on_pause=None) -> tuple[int, str]:
    """Stream the body; optionally stop after ``pause_at`` bytes and call ``on_pause``."""
    c = client.conn()
    try:
        c.putrequest("POST", path)
        for k, v in {**client._headers(), "Content-Type": ctype,
                     "Content-Length": str(length)}.items():
            c.putheader(k, v)
        c.endheaders()
        sent = 0
        for p in pieces:
            blocks = p[1] if isinstance(p, tuple) else [p]
            for block in blocks:
                c.send(block)
                sent += len(block)
                if pause_at is not None and sent >= pause_at and on_pause is not None:
                    on_pause()
                    on_pause = None
        res = c.getresponse()
        client._keep(res)
        text = res.read().decode("utf-8", "replace")
        return res.status, text
    finally:
        c.close()


def start_server(base: Path) -> tuple[Server, Path, int]:
    """A deployment with one enrolled auditor in ``base``, served in its own process."""
    port = free_port()
    cfg = deployment(base / "d", port, AuditorIdentity.generate("Bench Auditor"))
    return Server(cfg, port, log=base / "server.log"), cfg, port


class MemorySampler:
    """Peak resident set size of a process, sampled every 20 ms (for the benchmarks)."""

    def __init__(self, pid: int):
        import threading

        import psutil

        self.proc = psutil.Process(pid)
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except Exception:
                return

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._t.join()
        return self.base, self.peak


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.1f} MiB"
