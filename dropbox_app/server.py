"""The HTTP server, for the demo and for production alike: an asyncio front that parses HTTP/1.1
with h11 and hands complete requests to small pools of WSGI worker threads.

Why this shape. Over Tor an attacker opens as many connections as they like, and every one
arrives from 127.0.0.1. A server that spends a thread on each connection (cheroot, the
previous server here; waitress's channel threads once the body is in) is starved by a few
hundred connections that trickle their request headers or a small body; cheroot also read a
refused body to the end, into memory, before it answered. So:

* The event loop owns every connection while it is sending its request head or a small body,
  at no thread's cost. The head has one total deadline; a small body (up to ``SMALL_BODY``,
  every urlencoded form) is buffered in memory only, never in a file, under a total deadline
  and a minimum transfer rate, and the request reaches the app only once it is complete.
* A larger body (an upload) is streamed to the app as ``wsgi.input``, in a bounded lane of
  threads: once the app reads, its worker reads the socket itself (the loop leaves it alone),
  as fast as the app takes the blocks (the backpressure), and gives up on a client slower than
  ``MIN_RATE`` or silent for a rate window. No byte of a body ever touches the disk here; the
  app encrypts each block as it arrives.
* A body the app did not read (it answered 413, 415, 400 first) is never read: the answer
  goes out and the connection is closed. A client declaring 400 MB costs nothing.
* Requests run in lanes, each a fixed number of threads with a FIFO queue that has a
  deadline: ``quick`` (pages and small forms), ``stream`` (uploads, a bounded number at once)
  and any the app names for its costly routes (``kdf``: the argon2 logins), so that uploads or
  a login flood never wait in front of the landing page. The threads together never outnumber
  the database pool's connections (app.make_http_server), so no request waits on the pool.
* Framing is strict: h11 refuses HTTP/1.1 without Host, NUL or CR in a header, conflicting
  lengths; here also a repeated or non-numeric Content-Length, any Transfer-Encoding (our forms
  never send one, and with a length it is a smuggling device) and control characters in
  header values.

Why not the alternatives. waitress reads the whole body before calling the app and spools any
body over 512 KB to a temporary file, in plaintext. uvicorn/hypercorn with a2wsgi: no deadline
on the request head, no minimum rate, and a2wsgi gives the app a body queue the app does not
pace. gunicorn with gevent: argon2 and the cipher run in C without yielding, so one login
would stall every connection of the process. h11 (python-hyper) is a small, well-kept,
sans-I/O parser: the policy above is ours, the parsing is not.

No access log is written and no ``Server`` header is sent. Answers the server gives by itself
(a malformed request, a body over the backstop, a queue that did not move) carry the same
protective headers as the app's; the app may give the pages for 413 and 503."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import resource
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import h11

from .config import Listen, check_loopback
from .security import HEADERS, SMALL_BODY

MAX_HEAD = 64 * 1024  # request line and headers together
HEADER_DEADLINE = 20.0  # total, for the request head (and for the next one on a kept-alive line)
SMALL_BODY_DEADLINE = 60.0  # total, for a body the front buffers
MIN_RATE = 1024  # bytes per second, averaged over RATE_WINDOW, while a body is awaited
RATE_WINDOW = 30.0
BODY_IDLE = 60.0  # no byte for this long (or for a RATE_WINDOW, if shorter) ends an upload
SEND_IDLE = 120.0  # a client that reads nothing of our answer for this long is dropped
QUEUE_WAIT = 30.0  # the longest a request waits for a free worker before a 503
LINGER = 1.0  # after answering a request whose body was not read: time to read the answer
READ_AHEAD = 1024 * 1024  # body bytes buffered ahead of the app's reads, at most
MAX_CONNECTIONS = 4096
SMALL_BUDGET = 128 * 1024 * 1024  # small bodies held in memory, all connections together

QUICK_THREADS = 8
STREAM_THREADS = 4

_PROTECTIVE = [(k.encode(), v.encode()) for k, v in HEADERS.items()]
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class ClientTooSlow(ConnectionError):
    """The client stopped sending its body, or sent it too slowly; the connection is gone."""


@dataclass(frozen=True)
class Lane:
    """A fixed number of worker threads with a FIFO queue in front (in the event loop)."""

    name: str
    threads: int
    queue_wait: float = QUEUE_WAIT


@dataclass
class Settings:
    max_body: int
    header_deadline: float = HEADER_DEADLINE
    small_body: int = SMALL_BODY
    small_body_deadline: float = SMALL_BODY_DEADLINE
    min_rate: int = MIN_RATE
    rate_window: float = RATE_WINDOW
    body_idle: float = BODY_IDLE
    send_idle: float = SEND_IDLE
    max_connections: int = MAX_CONNECTIONS
    small_budget: int = SMALL_BUDGET
    oversize_page: bytes | None = None
    busy_page: bytes | None = None
    # (method, path) -> lane name, for routes that must not share the quick lane
    routes: dict[tuple[str, str], str] = field(default_factory=dict)


def _page_answer(status: int, page: bytes | None, fallback: str) -> tuple[list, bytes]:
    if page is not None:
        return [(b"content-type", b"text/html; charset=utf-8")], page
    return [(b"content-type", b"text/plain; charset=utf-8")], fallback.encode() + b"\n"


class _Body:
    """``wsgi.input`` for a streamed body. It starts with what the loop had read along with the
    request head; once the app reads past that, the worker thread reads the rest from the
    socket itself (a duplicate of its descriptor, while the loop does not read it): one thread
    and no hand-off per block, as fast as the app takes it, which is the backpressure. The
    minimum rate is measured over the time the worker spends waiting for the client."""

    def __init__(self, conn: _Connection, length: int):
        self._conn = conn
        self._left = length  # not yet handed to the app
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._asked = False
        self._sock: socket.socket | None = None
        self._released = False
        self._waited = 0.0
        self._waited_bytes = 0
        self.received = 0

    # -- loop side
    def feed(self, data: bytes) -> None:
        with self._cond:
            self._chunks.append(data)
            self._buffered += len(data)
            self.received += len(data)
            self._cond.notify()

    @property
    def buffered(self) -> int:
        return self._buffered

    def fail(self, exc: BaseException) -> None:
        with self._cond:
            self._error = exc
            if self._sock is not None:
                with contextlib.suppress(OSError):  # wakes a worker waiting in recv
                    self._sock.shutdown(socket.SHUT_RDWR)
            self._cond.notify_all()

    def attach(self, sock: socket.socket) -> None:
        """The loop has stopped reading this connection: the worker reads from ``sock``."""
        # Silence for a whole rate window is under any minimum rate. (The descriptor stays
        # non-blocking: Python waits with poll() under a timeout.)
        sock.settimeout(min(self._conn.s.body_idle, self._conn.s.rate_window))
        with self._cond:
            if self._error is not None or self._released:
                sock.close()
                return
            self._sock = sock
            self._cond.notify_all()

    def release(self) -> None:
        """After the app: the duplicate descriptor goes (the connection itself stays the
        loop's)."""
        with self._cond:
            self._released = True
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def _recv(self, sock: socket.socket, n: int) -> bytes:
        try:
            return self._recv_or_fail(sock, n)
        except ClientTooSlow as exc:
            self._error = exc  # the front answers nothing to this client (_call_app)
            raise

    def _recv_or_fail(self, sock: socket.socket, n: int) -> bytes:
        t0 = time.monotonic()
        try:
            data = sock.recv(min(n, READ_AHEAD))
        except TimeoutError:
            raise ClientTooSlow("no body byte for too long") from None
        except OSError as exc:
            raise ClientTooSlow(str(exc)) from None
        if not data:
            raise self._error or ClientTooSlow("client closed")
        self._waited += time.monotonic() - t0
        self._waited_bytes += len(data)
        s = self._conn.s
        if self._waited >= s.rate_window:
            if self._waited_bytes < s.min_rate * self._waited:
                raise ClientTooSlow("body too slow")
            self._waited, self._waited_bytes = 0.0, 0
        self.received += len(data)
        return data

    # -- worker side
    def read(self, size: int | None = -1) -> bytes:
        if self._left <= 0:
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        if want == 0:
            return b""
        if not self._asked:
            self._asked = True
            self._conn.call(self._conn.body_wanted)
        # Like a buffered file: ``want`` bytes, fewer only at the end of the body.
        out: list[bytes] = []
        got = 0
        while got < want:
            with self._cond:
                while not self._chunks and self._sock is None:
                    if self._error is not None:
                        raise self._error
                    if not self._cond.wait(self._conn.s.body_idle * 2):
                        raise ClientTooSlow("no body")
                if self._error is not None:
                    raise self._error
                sock = self._sock if not self._chunks else None
            if sock is not None:
                data = self._recv(sock, want - got)
                out.append(data)
                got += len(data)
                continue
            with self._cond:
                taken = 0
                while self._chunks and got + taken < want:
                    chunk = self._chunks.popleft()
                    if got + taken + len(chunk) > want:
                        keep = want - got - taken
                        self._chunks.appendleft(chunk[keep:])
                        chunk = chunk[:keep]
                    out.append(chunk)
                    taken += len(chunk)
                self._buffered -= taken
                low = self._buffered < READ_AHEAD // 2
            got += taken
            if low:
                self._conn.call(self._conn.body_drained)
        self._left -= got
        return out[0] if len(out) == 1 else b"".join(out)

    def readline(self, size: int | None = -1) -> bytes:
        # Nothing of ours reads a streamed body by lines; kept for WSGI's sake, byte by byte.
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            ch = self.read(1)
            if not ch:
                break
            line += ch
            if ch == b"\n":
                break
        return bytes(line)

    def readlines(self, hint: int = -1) -> list[bytes]:
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")


class _Connection(asyncio.Protocol):
    def __init__(self, server: Server):
        self.srv = server
        self.s = server.settings
        self.loop = server.loop
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.phase = "idle"  # head, small, queued, app, closing, closed
        self.timer: asyncio.TimerHandle | None = None
        self.request: h11.Request | None = None
        self.small: bytearray | None = None
        self.small_left = 0
        self.body: _Body | None = None
        self.reading = True
        self.want_body = False
        self.window_start = 0.0
        self.window_bytes = 0
        self.last_byte = 0.0
        self.writable = asyncio.Event()
        self.writable.set()
        self.sent_any = False
        self.length = 0
        self.cycle = 0
        self.direct = False  # an upload's bytes go to the app without h11 (see body_wanted)
        self.held = 0  # bytes of small bodies this connection counts in the server's budget

    # -- plumbing
    def call(self, fn: Callable, *args: Any) -> None:
        """From a worker thread: run ``fn`` in the loop."""
        with contextlib.suppress(RuntimeError):  # the loop is gone: the server is stopping
            self.loop.call_soon_threadsafe(fn, *args)

    def _arm(self, seconds: float, fn: Callable[[], None]) -> None:
        self._disarm()
        self.timer = self.loop.call_later(seconds, fn)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _pause(self) -> None:
        if self.reading and self.transport is not None:
            self.reading = False
            self.transport.pause_reading()

    def _resume(self) -> None:
        if not self.reading and self.transport is not None and self.phase != "closed":
            self.reading = True
            self.transport.resume_reading()

    # -- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.srv.connections.add(self)
        if len(self.srv.connections) > self.s.max_connections:
            self.transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._start_cycle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release_held()
        self.phase = "closed"
        self._disarm()
        self.srv.connections.discard(self)
        self.writable.set()
        if self.body is not None:
            self.body.fail(ClientTooSlow("connection closed"))

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        if self.phase in ("closing", "closed"):
            return  # never read further into a body we refused
        now = time.monotonic()
        self.last_byte = now
        self.window_bytes += len(data)
        if self.phase == "head":
            self.head += data[:MAX_HEAD + 4 - len(self.head)]
        if self.direct:
            return  # not ours to read: the worker reads this connection (see _Body)
        try:
            self.h11.receive_data(data)
        except h11.RemoteProtocolError:
            self._refuse(400, "Bad Request")
            return
        self._pump()

    def eof_received(self) -> bool | None:
        if not self.direct:
            with contextlib.suppress(h11.RemoteProtocolError):
                self.h11.receive_data(b"")
        if self.phase in ("head", "idle") and not self.head:
            self._close()
        elif self.phase in ("head", "small"):
            self._refuse(400, "Bad Request")
        elif self.body is not None:
            self.body.fail(ClientTooSlow("client closed"))
        return True  # keep our half open: an answer may still be on its way

    # -- request cycle
    def _release_held(self) -> None:
        self.srv.small_bytes -= self.held
        self.held = 0

    def _start_cycle(self) -> None:
        self._release_held()
        self.cycle += 1
        self.phase = "head"
        self.head = bytearray()
        self.request = self.small = self.body = None
        self.want_body = False
        self.direct = False
        self.sent_any = False
        self._arm(self.s.header_deadline, self._head_timeout)
        self._resume()
        self._pump()

    def _head_timeout(self) -> None:
        if self.head:
            self._refuse(408, "Request Timeout")
        else:
            self._close()

    def _pump(self) -> None:
        while self.phase in ("head", "small", "app") and not self.direct:
            if self.phase == "app" and (self.body is None or not self.want_body):
                return  # the app has not asked for the body: leave it in the socket
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint if 400 <= exc.error_status_hint < 500 else 400
                self._refuse(status, "Bad Request")
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if self.phase == "head" and len(self.head) > MAX_HEAD:
                    self._refuse(431, "Request Header Fields Too Large")
                return
            if isinstance(event, h11.Request):
                self._on_request(event)
            elif isinstance(event, h11.Data):
                self._on_data(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._on_end()
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _framing_error(self, req: h11.Request) -> tuple[int, str] | None:
        """What h11 lets through and we do not: a repeated or non-numeric Content-Length,
        control characters in a header value, any Transfer-Encoding."""
        end = self.head.find(b"\r\n\r\n")
        head = bytes(self.head[:end]) if end >= 0 else bytes(self.head)
        lengths = 0
        for line in head.split(b"\n")[1:]:
            name, _, value = line.rstrip(b"\r").partition(b":")
            if _CTL.search(value):
                return 400, "Bad Request"
            if name.strip().lower() == b"content-length":
                lengths += 1
                if lengths > 1 or not value.strip().isdigit():
                    return 400, "Bad Request"
        for name, value in req.headers:
            if name == b"transfer-encoding":
                if not lengths and value.lower() == b"chunked":
                    return 411, "Length Required"
                return 400, "Bad Request"
        return None

    def _on_request(self, req: h11.Request) -> None:
        self._disarm()
        self.request = req
        problem = self._framing_error(req)
        if problem is not None:
            self._refuse(*problem)
            return
        length = 0
        for name, value in req.headers:
            if name == b"content-length":
                length = int(value)
        if length > self.s.max_body:
            self._refuse(413, "Payload Too Large", page=self.s.oversize_page)
            return
        self.length = length
        self.window_start = time.monotonic()
        self.window_bytes = 0
        if length == 0:
            self.h11.next_event()  # the request's EndOfMessage: nothing to wait for
            self._dispatch(io.BytesIO(b""), self._lane(req, streaming=False))
        elif length <= self.s.small_body:
            if self.srv.small_bytes >= self.s.small_budget:
                # Many fast senders of small bodies would otherwise fill the memory while
                # their requests wait for a worker (trickling ones hold next to nothing).
                self._refuse(503, "Service Unavailable", page=self.s.busy_page,
                             extra=[(b"retry-after", b"10")])
                return
            self.phase = "small"
            self.small = bytearray()
            self._continue_if_asked()
            self._arm(self.s.small_body_deadline, self._small_timeout)
            self._rate_tick(self.cycle)
        else:
            self._pause()  # until the app asks for the body, not a byte of it is read
            self.body = _Body(self, length)
            self._dispatch(self.body, self._lane(req, streaming=True))

    def _lane(self, req: h11.Request, streaming: bool) -> str:
        if streaming:
            return "stream"
        path = req.target.split(b"?", 1)[0].decode("latin-1")
        return self.s.routes.get((req.method.decode("latin-1"), path), "quick")

    def _continue_if_asked(self) -> None:
        if self.h11.client_is_waiting_for_100_continue and self.transport is not None:
            self.transport.write(self.h11.send(h11.InformationalResponse(status_code=100,
                                                                         headers=[])))

    def _on_data(self, data: bytes) -> None:
        if self.phase == "small":
            assert self.small is not None
            self.small += data
            self.held += len(data)
            self.srv.small_bytes += len(data)
        elif self.body is not None:
            self.body.feed(data)
            if self.body.buffered >= READ_AHEAD:
                self._pause()

    def _on_end(self) -> None:
        if self.phase == "small":
            self._disarm()
            body = io.BytesIO(bytes(self.small or b""))
            self.small = None
            assert self.request is not None
            self._dispatch(body, self._lane(self.request, streaming=False))
        elif self.phase == "app":
            self._disarm()
            self._pause()

    def _small_timeout(self) -> None:
        if self.phase == "small":
            self._refuse(408, "Request Timeout")

    def _rate_tick(self, cycle: int) -> None:
        """Every RATE_WINDOW while a body is awaited from the client (not while our side holds
        it back), the bytes of that window must reach MIN_RATE. One chain per request."""
        if cycle != self.cycle or self.phase not in ("small", "app"):
            return
        if self.phase == "app" and (not self.want_body or self._body_complete()):
            return  # the whole body is in
        if self.phase == "app" and not self.reading:  # held back by us: the app is busy
            self.window_start, self.window_bytes = time.monotonic(), 0
            self.loop.call_later(self.s.rate_window, self._rate_tick, cycle)
            return
        now = time.monotonic()
        if now - self.window_start >= self.s.rate_window:
            too_slow = self.window_bytes < self.s.min_rate * (now - self.window_start)
            silent = now - self.last_byte >= self.s.body_idle
            if too_slow or silent:
                self._too_slow()
                return
            self.window_start, self.window_bytes = now, 0
        self.loop.call_later(max(0.5, self.s.rate_window - (now - self.window_start)),
                             self._rate_tick, cycle)

    def _too_slow(self) -> None:
        if self.phase == "small":
            self._refuse(408, "Request Timeout")
        elif self.body is not None:
            # The app is inside the upload: it sees the connection fail, and nothing is sent.
            self.body.fail(ClientTooSlow("body too slow"))
            self._close(abort=True)

    # -- the app's side (called from the worker through call())
    def body_wanted(self) -> None:
        if self.phase != "app" or self.want_body:
            return
        self.want_body = True
        self._continue_if_asked()
        self.window_start, self.window_bytes = time.monotonic(), 0
        self.last_byte = time.monotonic()
        self._resume()
        self._pump()
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if self.body is not None and self.h11.their_state is h11.SEND_BODY and sock is not None:
            # The rest of an upload is exactly the next ``length - received`` bytes: the
            # worker reads them from the socket itself (_Body), without a hand-off from this
            # loop or h11's buffer and its copies. h11 then never sees the end of this
            # request, so the connection closes after the answer (an upload is the last
            # request of its connection).
            self.direct = True
            self._pause()
            self.body.attach(socket.socket(fileno=os.dup(sock.fileno())))
            return
        self._rate_tick(self.cycle)

    def _body_complete(self) -> bool:
        return self.body is not None and self.body.received >= self.length

    def body_drained(self) -> None:
        if self.phase == "app" and self.want_body and not self.direct \
                and not self._body_complete():
            self._resume()
            self._pump()

    # -- dispatch
    def _dispatch(self, body: Any, lane: str) -> None:
        assert self.request is not None
        self.phase = "queued"
        self._pause()  # nothing more is read (a pipelined request) until this one is answered
        environ = self.srv.environ(self.request, body, self.length)
        self.loop.create_task(self._run(lane, environ))

    async def _run(self, lane: str, environ: dict) -> None:
        try:
            await self._run_in_lane(lane, environ)
        except Exception:  # a connection that failed under us: nothing to answer
            self._close(abort=True)

    async def _run_in_lane(self, lane: str, environ: dict) -> None:
        pool = self.srv.lanes.get(lane) or self.srv.lanes["quick"]
        sem, executor, spec = pool
        try:
            await asyncio.wait_for(sem.acquire(), spec.queue_wait)
        except TimeoutError:
            if self.phase == "queued":
                self._refuse(503, "Service Unavailable", page=self.s.busy_page,
                             extra=[(b"retry-after", b"10")])
            return
        try:
            if self.phase != "queued":
                return  # the client left while it waited
            self.phase = "app"
            if self.body is not None:
                self._pump()
            await self.loop.run_in_executor(executor, self._call_app, environ)
        finally:
            sem.release()
        self._after_response()

    def _call_app(self, environ: dict) -> None:
        """In a worker thread: run the app and send its answer, with backpressure."""
        state: dict[str, Any] = {}

        def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
            if exc_info is not None and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            state["status"], state["headers"] = status, headers
            return write

        def write(data: bytes) -> None:
            if not state.get("sent") and self._body_failed():
                raise ClientTooSlow("the client failed its body")  # it gets no answer
            if not state.get("sent"):
                state["sent"] = True
                self._send(self._head_event(state["status"], state["headers"]))
            if data and environ["REQUEST_METHOD"] != "HEAD":
                self._send(h11.Data(data=data))

        result: Iterable[bytes] | None = None
        try:
            result = self.srv.app(environ, start_response)
            for chunk in result:
                if chunk:
                    write(chunk)
            if not state.get("sent"):
                write(b"")
            self._send(h11.EndOfMessage())
        except ClientTooSlow:
            self.call(self._close, True)
        except Exception:  # the app failed, or the connection did
            if not state.get("sent") and self.phase == "app" and not self._body_failed():
                self.call(self._refuse, 500, "Internal Server Error")
            else:
                self.call(self._close, True)
        finally:
            if self.body is not None:
                self.body.release()
            if hasattr(result, "close"):
                with contextlib.suppress(Exception):
                    result.close()  # type: ignore[union-attr]

    def _body_failed(self) -> bool:
        return self.body is not None and self.body._error is not None

    def _head_event(self, status: str, headers: list) -> h11.Response:
        code, _, reason = status.partition(" ")
        out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers
               if k.lower() != "server"]
        if self.body is not None and (self.body._left > 0 or self.direct):
            out.append((b"connection", b"close"))  # its body will not be read, or h11 did not
        return h11.Response(status_code=int(code), headers=out,
                            reason=reason.encode("latin-1"))

    def _send(self, event: Any) -> None:
        """From the worker: hand one event to the loop and wait until the socket's buffer can
        take more (or the client is gone)."""
        future = asyncio.run_coroutine_threadsafe(self._send_async(event), self.loop)
        future.result(self.s.send_idle + 10)

    async def _send_async(self, event: Any) -> None:
        if self.phase == "closed" or self.transport is None:
            raise ConnectionError("client gone")
        self.sent_any = True
        try:
            data = self.h11.send(event)
        except h11.LocalProtocolError as exc:
            raise ConnectionError(str(exc)) from None
        if data:
            self.transport.write(data)
        if not self.writable.is_set():
            try:
                await asyncio.wait_for(self.writable.wait(), self.s.send_idle)
            except TimeoutError:
                self._close(abort=True)
                raise ConnectionError("client does not read") from None
        if self.phase == "closed":
            raise ConnectionError("client gone")

    def _after_response(self) -> None:
        if self.phase != "app":
            return
        if self.h11.our_state is h11.MUST_CLOSE:
            self._close()
            return
        if self.h11.our_state is not h11.DONE:
            self._close(abort=True)
            return
        if self.h11.their_state is not h11.DONE:
            self._close()  # a body we did not read: answer given, now close
            return
        self.h11.start_next_cycle()
        self._start_cycle()

    # -- answers of our own, and closing
    def _refuse(self, status: int, reason: str, page: bytes | None = None,
                extra: list | None = None) -> None:
        """Answer by ourselves (the app never saw this request, or failed) and close."""
        if self.phase in ("closing", "closed") or self.transport is None:
            return
        self._disarm()
        if self.sent_any:
            self._close(abort=True)
            return
        headers, body = _page_answer(status, page, f"{status} {reason}")
        headers = [*headers, *_PROTECTIVE, *(extra or []),
                   (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        head = b"HTTP/1.1 %d %s\r\n" % (status, reason.encode())
        head += b"".join(b"%s: %s\r\n" % (k.title(), v) for k, v in headers)
        head_only = self.request is not None and self.request.method == b"HEAD"
        self.sent_any = True
        self.transport.write(head + b"\r\n" + (b"" if head_only else body))
        self._close()

    def _close(self, abort: bool = False) -> None:
        if self.phase == "closed" or (self.phase == "closing" and not abort):
            return
        self._disarm()
        if self.body is not None:
            self.body.fail(ClientTooSlow("connection closed"))
        transport = self.transport
        if transport is None or transport.is_closing() or abort:
            self.phase = "closed"
            if transport is not None:
                transport.abort()
            return
        # Our answer is flushed first, then the client has LINGER seconds to read it.
        # Whatever else it sends stays in the socket, unread, and is dropped with it.
        self.phase = "closing"
        self._pause()
        try:
            if transport.can_write_eof():
                transport.write_eof()
        except OSError:  # the client is gone already
            self.phase = "closed"
            transport.abort()
            return
        self._linger(time.monotonic() + self.s.send_idle, time.monotonic() + LINGER)

    def _linger(self, give_up: float, earliest: float) -> None:
        transport = self.transport
        if transport is None or self.phase == "closed":
            return
        now = time.monotonic()
        if now >= give_up or (now >= earliest and transport.get_write_buffer_size() == 0):
            self.phase = "closed"
            transport.abort()
            return
        self.timer = self.loop.call_later(0.25, self._linger, give_up, earliest)


class Server:
    """The server: ``prepare()`` binds, ``serve()`` runs the loop until ``stop()``."""

    def __init__(self, app: Callable, listen: Listen, settings: Settings,
                 lanes: Iterable[Lane]):
        check_loopback(listen.host)
        self.app = app
        self.listen = listen
        self.settings = settings
        self.lane_specs = {lane.name: lane for lane in lanes}
        self.loop = asyncio.new_event_loop()
        self.connections: set[_Connection] = set()
        self.small_bytes = 0  # loop thread only
        self.lanes: dict[str, tuple[asyncio.Semaphore, ThreadPoolExecutor, Lane]] = {}
        self._server: asyncio.base_events.Server | None = None
        self._sock: socket.socket | None = None
        self.bind_addr: tuple[str, int] = (listen.host, listen.port)
        self._stopped = threading.Event()
        self._running = threading.Event()

    @property
    def threads(self) -> int:
        return sum(lane.threads for lane in self.lane_specs.values())

    def prepare(self) -> None:
        _raise_fd_limit()
        family = socket.AF_INET6 if ":" in self.listen.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.listen.host, self.listen.port))
            sock.listen(1024)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self._sock = sock
        self.bind_addr = sock.getsockname()[:2]

    def serve(self) -> None:
        if self._sock is None:
            self.prepare()
        loop = self.loop
        asyncio.set_event_loop(loop)
        for name, spec in self.lane_specs.items():
            self.lanes[name] = (asyncio.Semaphore(spec.threads),
                                ThreadPoolExecutor(spec.threads, thread_name_prefix=name), spec)
        self._server = loop.run_until_complete(
            loop.create_server(lambda: _Connection(self), sock=self._sock))
        self._running.set()
        try:
            loop.run_until_complete(self._wait_stop())
        finally:
            self._server.close()
            for conn in list(self.connections):
                if conn.transport is not None:
                    conn.transport.abort()
            # Let the aborts land: a worker waiting on a body or a send wakes with an error
            # instead of holding the process's exit.
            loop.run_until_complete(asyncio.sleep(0.2))
            for _sem, executor, _spec in self.lanes.values():
                executor.shutdown(wait=False, cancel_futures=True)
            loop.close()

    async def _wait_stop(self) -> None:
        while not self._stopped.is_set():
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        self._stopped.set()
        if not self._running.is_set() and self._sock is not None:
            self._sock.close()

    def environ(self, req: h11.Request, body: Any, length: int) -> dict:
        target = req.target.decode("latin-1")
        path, _, query = target.partition("?")
        if path.startswith(("http://", "https://")):  # absolute-form: keep the path only
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        env = {
            "REQUEST_METHOD": req.method.decode("latin-1"),
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.bind_addr[0],
            "SERVER_PORT": str(self.bind_addr[1]),
            "SERVER_PROTOCOL": "HTTP/" + req.http_version.decode("latin-1"),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if length:
            env["CONTENT_LENGTH"] = str(length)
        for name, value in req.headers:
            key = name.decode("latin-1").upper().replace("-", "_")
            text = value.decode("latin-1")
            if key == "CONTENT_TYPE":
                env["CONTENT_TYPE"] = text
            elif key == "CONTENT_LENGTH":
                continue
            else:
                key = "HTTP_" + key
                env[key] = env[key] + "," + text if key in env else text
        return env


def _raise_fd_limit() -> None:
    """One descriptor per connection: take the hard limit the system allows."""
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def make_server(app: Callable[..., Any], listen: Listen, max_body: int,
                threads: int = QUICK_THREADS, stream_threads: int = STREAM_THREADS,
                header_deadline: float = HEADER_DEADLINE,
                oversize_page: bytes | None = None, busy_page: bytes | None = None,
                lanes: Iterable[Lane] = (), routes: dict | None = None,
                queue_wait: float = QUEUE_WAIT, **limits: Any) -> Server:
    """A server bound to a loopback address. ``max_body`` is a backstop: the app itself
    answers oversized requests with a clear 413 page before reading them, and
    ``oversize_page`` (HTML) is what the server sends for a body over the backstop.
    ``lanes`` adds lanes beside ``quick`` and ``stream``; ``routes`` sends (method, path)
    to one of them. ``limits`` override the other Settings (tests use short deadlines)."""
    settings = Settings(max_body=max_body, header_deadline=header_deadline,
                        oversize_page=oversize_page, busy_page=busy_page,
                        routes=dict(routes or {}), **limits)
    return Server(app, listen, settings,
                  [Lane("quick", threads, queue_wait), Lane("stream", stream_threads, queue_wait),
                   *lanes])


def serve_forever(srv: Server, ready: Callable[[str], None] | None = None) -> None:
    """Run until SIGTERM or SIGINT. ``ready`` gets the bound address once listening."""
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    srv.prepare()
    host, port = srv.bind_addr[:2]
    t = threading.Thread(target=srv.serve, name="http", daemon=True)
    t.start()
    srv._running.wait(10)
    if ready:
        ready(f"http://{host}:{port}/")
    try:
        while not stop.wait(0.5) and t.is_alive():
            pass
    finally:
        srv.stop()
        t.join(5)
        for s, h in old.items():
            signal.signal(s, h)


def bound_port(srv: Server) -> int:
    return srv.bind_addr[1]
