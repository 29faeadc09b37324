"""The HTTP server: cheroot, for the demo and for production alike.

Why not waitress: waitress reads the whole request body before it calls the application and
spools any body over 512 KB to a temporary file in plaintext. cheroot hands the application the
socket itself as ``wsgi.input``, so an upload is encrypted as it arrives and no byte of it
touches the disk before that. No access log is kept (cheroot writes none), and the ``Server``
banner cheroot would add is stripped. The answers cheroot gives on its own, without the app (a
malformed request line or header, a URI or body over its limits), get the same protective
headers as the app's."""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from cheroot import server as _server
from cheroot import wsgi

from .config import Listen, check_loopback
from .security import HEADERS

_MARK = b"peluit-strip-banner"
_PROTECTIVE = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items()).encode("latin-1")


class _BannerlessWriter:
    """Passes the response head through with cheroot's ``Server:`` line removed."""

    def __init__(self, wfile: Any):
        self._wfile = wfile

    def write(self, data: bytes) -> Any:
        return self._wfile.write(data.replace(b"Server: " + _MARK + b"\r\n", b"", 1))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wfile, name)


class _ProtectedSimpleWriter:
    """cheroot writes its own short answers in one piece: status line, headers, body. The
    protective headers go in right after the status line; an HTML body is declared as such."""

    def __init__(self, wfile: Any, html: bool = False):
        self._wfile = wfile
        self._html = html

    def write(self, data: bytes) -> Any:
        data = data.replace(b"\r\n", b"\r\n" + _PROTECTIVE, 1)
        if self._html:
            data = data.replace(b"Content-Type: text/plain\r\n",
                                b"Content-Type: text/html; charset=utf-8\r\n", 1)
        return self._wfile.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wfile, name)


# cheroot's timeout is per socket operation, so a client sending one header byte per timeout
# would hold a worker thread forever; enough of them would starve every other client. The
# request line and headers therefore get one total deadline; the body keeps the per-operation
# inactivity timeout, since a large upload over Tor may legitimately take an hour.
HEADER_DEADLINE = 20.0
BODY_IDLE_TIMEOUT = 120.0


class _DeadlineSocket:
    """The connection's socket, with an optional total deadline over every receive."""

    def __init__(self, sock: socket.socket, idle: float):
        self._sock = sock
        self._idle = idle
        self.deadline: float | None = None

    def _arm(self) -> None:
        if self.deadline is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        self._sock.settimeout(min(left, self._idle))

    def recv_into(self, *args: Any) -> int:
        self._arm()
        return self._sock.recv_into(*args)

    def recv(self, *args: Any) -> bytes:
        self._arm()
        return self._sock.recv(*args)

    def disarm(self) -> None:
        self.deadline = None
        self._sock.settimeout(self._idle)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _Request(_server.HTTPRequest):
    def parse_request(self) -> None:
        sock = self.conn.socket
        sock.deadline = time.monotonic() + self.server.header_deadline
        try:
            super().parse_request()
        finally:
            sock.disarm()

    def send_headers(self) -> None:
        real = self.conn.wfile
        self.conn.wfile = _BannerlessWriter(real)
        try:
            super().send_headers()
        finally:
            self.conn.wfile = real

    def simple_response(self, status: Any, msg: str | bytes = "") -> None:
        # A body over the backstop: the app never sees the request, so the page it would
        # have sent (given to make_server) goes out here instead of cheroot's English line.
        page = self.server.oversize_page if str(status).startswith("413") else None
        real = self.conn.wfile
        self.conn.wfile = _ProtectedSimpleWriter(real, html=page is not None)
        try:
            super().simple_response(status, page if page is not None else msg)
        finally:
            self.conn.wfile = real


class _Connection(_server.HTTPConnection):
    RequestHandlerClass = _Request

    def __init__(self, server: Any, sock: Any, makefile: Any = _server.MakeFile) -> None:
        super().__init__(server, _DeadlineSocket(sock, server.timeout), makefile)


# cheroot never grows its pool by itself, and a client that trickles its headers holds a
# thread until the header deadline. Idle threads cost little memory (the argon2 work is bounded
# separately, throttle.KdfGate), so the pool is sized for the few dozen slow or stalled
# connections an onion service sees, not for the CPU.
THREADS = 64


def make_server(app: Callable[..., Any], listen: Listen, max_body: int,
                threads: int = THREADS, max_threads: int = THREADS,
                header_deadline: float = HEADER_DEADLINE,
                oversize_page: bytes | None = None) -> wsgi.Server:
    """A server bound to a loopback address. ``max_body`` is a backstop: the app itself
    answers oversized requests with a clear 413 page before reading them, and
    ``oversize_page`` (HTML) is what the server sends for a body over the backstop."""
    check_loopback(listen.host)
    srv = wsgi.Server((listen.host, listen.port), app, numthreads=threads, max=max_threads,
                      server_name=_MARK.decode(), timeout=BODY_IDLE_TIMEOUT,
                      request_queue_size=64)
    srv.header_deadline = header_deadline
    srv.oversize_page = oversize_page
    srv.ConnectionClass = _Connection
    srv.max_request_body_size = max_body
    srv.max_request_header_size = 64 * 1024
    return srv


def serve_forever(srv: wsgi.Server, ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT. ``ready`` gets the bound address once listening."""
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    srv.prepare()
    host, port = srv.bind_addr[:2]
    if ready:
        ready(f"http://{host}:{port}/")
    t = threading.Thread(target=srv.serve, name="http", daemon=True)
    t.start()
    try:
        while not stop.wait(0.5) and t.is_alive():
            pass
    finally:
        srv.stop()
        for s, h in old.items():
            signal.signal(s, h)


def bound_port(srv: wsgi.Server) -> int:
    return srv.bind_addr[1]
