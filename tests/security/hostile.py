"""Hostile clients on real sockets, for the availability test and benchmark (tests/security/
test_hostile_load.py, bench/reporter_hostile.py). Loopback only; every attack runs until
``stop`` is set, reconnecting when the server drops it, as an attacker would."""

from __future__ import annotations

import contextlib
import http.client
import resource
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from crypto import codename as codenames

MB = 1000 * 1000


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@dataclass
class Tally:
    """What the attackers saw: statuses of the answers they got, and reconnects."""

    statuses: dict[int, int] = field(default_factory=dict)
    connects: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1


class Trickle(threading.Thread):
    """``count`` connections, each sending ``head`` then one more byte of ``rest`` every
    ``interval`` seconds (spread out over the interval); a connection the server closes is
    opened again."""

    def __init__(self, port: int, count: int, head: bytes, rest: bytes, interval: float,
                 stop: threading.Event, tally: Tally):
        super().__init__(daemon=True)
        self.port, self.count, self.head, self.rest = port, count, head, rest
        self.interval, self.stop, self.tally = interval, stop, tally

    def _open(self) -> tuple[socket.socket, int] | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(self.head)
            s.setblocking(False)
        except OSError:
            return None
        with self.tally.lock:
            self.tally.connects += 1
        return s, 0

    def run(self) -> None:
        conns: list[tuple[socket.socket, int] | None] = [None] * self.count
        for i in range(self.count):
            conns[i] = self._open()
        step = self.interval / self.count
        i = 0
        while not self.stop.is_set():
            entry = conns[i]
            if entry is None:
                conns[i] = self._open()
            else:
                s, pos = entry
                try:
                    # An answer (408, 400, 413) means the server gave up on this one.
                    with contextlib.suppress(BlockingIOError):
                        if s.recv(1, socket.MSG_PEEK) is not None:
                            raise ConnectionError
                    s.send(self.rest[pos:pos + 1] or b"x")
                    conns[i] = (s, pos + 1)
                except (ConnectionError, OSError):
                    s.close()
                    conns[i] = self._open()
            i = (i + 1) % self.count
            self.stop.wait(step)
        for entry in conns:
            if entry is not None:
                entry[0].close()


def header_trickle(port: int, count: int, interval: float, stop, tally) -> Trickle:
    return Trickle(port, count, b"GET / HTTP/1.1\r\n", b"X-Slow: " + b"a" * 10_000,
                   interval, stop, tally)


def body_trickle(port: int, count: int, interval: float, stop, tally,
                 size: int = 200 * 1000) -> Trickle:
    head = (f"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
            f"urlencoded\r\nContent-Length: {size}\r\n\r\n").encode()
    return Trickle(port, count, head, b"a" * size, interval, stop, tally)


def _answer_status(s: socket.socket) -> int | None:
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


class StalledUploads(threading.Thread):
    """``count`` multipart uploads with a valid session: the first part (the CSRF token) is
    sent, then nothing. Reopened when the server ends them."""

    def __init__(self, port: int, count: int, cookies: str, csrf: str, stop, tally,
                 declared: int = 50 * MB):
        super().__init__(daemon=True)
        self.port, self.count, self.stop, self.tally = port, count, stop, tally
        boundary = "stallboundary42"
        self.head = (f"POST /report/new/send HTTP/1.1\r\nHost: x\r\nCookie: {cookies}\r\n"
                     f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                     f"Content-Length: {declared}\r\n\r\n").encode()
        self.first = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"'
                      f"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                      f'name="files"; filename="a.bin"\r\n\r\n').encode() + b"\0" * 1000

    def run(self) -> None:
        sel = selectors.DefaultSelector()
        open_ = 0
        while not self.stop.is_set():
            while open_ < self.count:
                try:
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                    s.sendall(self.head + self.first)
                except OSError:
                    break
                sel.register(s, selectors.EVENT_READ)
                open_ += 1
                with self.tally.lock:
                    self.tally.connects += 1
            for key, _ in sel.select(0.5):
                s = key.fileobj
                code = _answer_status(s)
                if code is not None:
                    self.tally.status(code)
                sel.unregister(s)
                s.close()
                open_ -= 1
        for key in list(sel.get_map().values()):
            key.fileobj.close()


class RefusedBodies(threading.Thread):
    """One keep-alive connection: a normal page, then a request the app refuses (a GET with a
    body) declaring ``declared`` bytes and streaming them as fast as the server takes them.
    Reconnects and repeats until ``stop``. ``pushed`` counts the bytes the kernel accepted."""

    def __init__(self, port: int, stop, tally, declared: int = 400 * MB):
        super().__init__(daemon=True)
        self.port, self.stop, self.tally, self.declared = port, stop, tally, declared
        self.pushed = 0
        self.rounds = 0

    def run(self) -> None:
        block = b"z" * (1 << 20)
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                _read_response(s)
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % self.declared)
            except OSError:
                self.stop.wait(0.2)
                continue
            sent = 0
            code = None
            # Like a browser: keep pushing the body, but read an answer that comes early. A
            # poll-based selector: with a thousand attack sockets open, this one's descriptor
            # may be past select()'s limit of 1024.
            sel = selectors.DefaultSelector()
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
            while sent < self.declared and not self.stop.is_set():
                events = sel.select(1.0)
                readable = any(mask & selectors.EVENT_READ for _, mask in events)
                writable = any(mask & selectors.EVENT_WRITE for _, mask in events)
                if readable:
                    s.settimeout(2)
                    code = _answer_status(s)
                    break
                if writable:
                    try:
                        n = s.send(block[:min(len(block), self.declared - sent)])
                    except OSError:
                        break
                    sent += n
                    self.pushed += n
            sel.close()
            if code is not None:
                self.tally.status(code)
            s.close()
            self.rounds += 1


def _read_response(s: socket.socket) -> int:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError
        body += chunk
    return int(head.split(b" ", 2)[1])


class CodenameFlood(threading.Thread):
    """Wrong (well-formed) codenames posted back to back on one keep-alive connection."""

    def __init__(self, port: int, cookies: str, csrf: str, stop, tally):
        super().__init__(daemon=True)
        self.port, self.cookies, self.csrf, self.stop, self.tally = port, cookies, csrf, stop, tally
        self.sent = 0

    def run(self) -> None:
        conn = None
        while not self.stop.is_set():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            body = urlencode({"csrf_token": self.csrf, "website": "",
                              "codename": str(codenames.generate("en"))})
            try:
                conn.request("POST", "/login", body, {
                    "Cookie": self.cookies,
                    "Content-Type": "application/x-www-form-urlencoded"})
                res = conn.getresponse()
                res.read()
                self.tally.status(res.status)
                self.sent += 1
                if res.getheader("connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = None
                self.stop.wait(0.1)
        if conn is not None:
            conn.close()


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    t0 = time.monotonic()
    status = fn()
    return status, time.monotonic() - t0
