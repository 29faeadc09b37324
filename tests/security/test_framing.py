"""Request framings the HTTP server must refuse with 400 before any app sees them (issue 18,
finding 12): a proxy or a second server in front could read these differently from ours, which
is how requests are smuggled. The previous server (cheroot) accepted every one of them.

And the front's own handling of bodies, on a real socket with short deadlines: a trickled
small body is cut off without costing a worker, and a refused body is answered without being
read."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from dropbox_app.config import Listen
from dropbox_app.server import make_server
from tests.fixtures.drop import raw_request
from tests.fixtures.pages import assert_protected

FRAMINGS = {
    "HTTP/1.1 without Host": b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    "NUL in a header value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "a control character in a header value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "DEL in a header value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n",
    "two Content-Length headers": (b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                   b"application/x-www-form-urlencoded\r\nContent-Length: 4\r\n"
                                   b"Content-Length: 4\r\n\r\nab=c"),
    "a list in Content-Length": (b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                 b"application/x-www-form-urlencoded\r\nContent-Length: 4, 4"
                                 b"\r\n\r\nab=c"),
    "Transfer-Encoding with Content-Length": (b"POST /login HTTP/1.1\r\nHost: x\r\n"
                                              b"Transfer-Encoding: chunked\r\n"
                                              b"Content-Length: 4\r\n\r\n0\r\n\r\n"),
    "two Host headers": b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    "a bare CR in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
}


@pytest.mark.parametrize("what", sorted(FRAMINGS))
@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_malformed_framings_are_refused_with_400(ports, side, what):
    ans = raw_request(ports[side], FRAMINGS[what])
    assert ans.status == 400, (what, ans.status)
    assert ans.headers["connection"] == "close"
    assert_protected(ans.headers, what)


def test_chunked_bodies_are_refused_with_411(ports):
    ans = raw_request(ports["reporter"], b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:"
                      b" chunked\r\n\r\n4\r\nab=c\r\n0\r\n\r\n")
    assert ans.status == 411


def test_http_1_0_without_host_is_still_served(ports):
    assert raw_request(ports["reporter"], b"GET / HTTP/1.0\r\n\r\n").status == 200


# --- the front's handling of bodies ------------------------------------------------------------

class _App:
    def __init__(self):
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        if environ["REQUEST_METHOD"] == "GET" and environ.get("CONTENT_LENGTH"):
            start_response("400 Bad Request", [("Content-Type", "text/plain"),
                                               ("Content-Length", "7")])
            return [b"refused"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        answer = b"got %d" % len(body)
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(answer)))])
        return [answer]


@pytest.fixture
def front():
    app = _App()
    srv = make_server(app, Listen("127.0.0.1", 0), 1 << 30, threads=2, stream_threads=1,
                      header_deadline=2.0, small_body_deadline=3.0, rate_window=1.0,
                      min_rate=100, body_idle=2.0)
    srv.prepare()
    t = threading.Thread(target=srv.serve, daemon=True)
    t.start()
    yield srv.bind_addr[1], app
    srv.stop()
    t.join(5)


def _open(port: int, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    return s


def test_trickled_small_bodies_hold_no_worker_and_are_cut_off(front):
    port, app = front
    slow = [_open(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nab")
            for _ in range(20)]  # ten times the workers
    try:
        time.sleep(0.5)
        ans = raw_request(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          b"Connection: close\r\n\r\nabc", timeout=2)
        assert ans.status == 200 and ans.body == b"got 3"
        assert app.calls == 1  # the app never saw the incomplete ones
        for s in slow:  # under the minimum rate: answered 408 and closed, within the deadline
            s.settimeout(5)
            assert s.recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        for s in slow:
            s.close()


def test_a_slow_steady_small_body_is_read(front):
    port, _app = front
    with _open(port, b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               b"Content-Length: 1200\r\n\r\n") as s:
        for _ in range(6):  # 200 bytes every 0.3 s: over the minimum rate, past the header deadline
            s.sendall(b"x" * 200)
            time.sleep(0.3)
        assert b"got 1200" in s.recv(4096)


def test_a_refused_body_is_answered_and_the_connection_closed_unread(front):
    port, _app = front
    s = _open(port, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n")
    s.setblocking(False)
    pushed, answer = 0, b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not answer:
        with contextlib.suppress(BlockingIOError):
            answer = s.recv(4096)
        with contextlib.suppress(BlockingIOError, OSError):
            pushed += s.send(b"z" * 65536)
    s.close()
    assert answer.startswith(b"HTTP/1.1 400"), answer
    assert b"connection: close" in answer.lower()
    # What the kernel buffers hold, not the 500 MB declared: the server never read on.
    assert pushed < 64 * 1024 * 1024


def test_a_stalled_upload_is_dropped_and_the_app_sees_the_failure(front):
    port, _app = front
    with _open(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"
               + b"y" * 300_000) as s:
        s.settimeout(8)
        t0 = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert s.recv(4096) == b""  # closed without an answer: the client stopped
        assert time.monotonic() - t0 < 7


def test_a_request_that_waits_too_long_for_a_worker_gets_the_busy_page():
    from dropbox_app.reporter.render import busy_page

    release = threading.Event()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/hold":
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    srv = make_server(app, Listen("127.0.0.1", 0), 1 << 20, threads=1, queue_wait=0.5,
                      busy_page=busy_page("id"))
    srv.prepare()
    t = threading.Thread(target=srv.serve, daemon=True)
    t.start()
    port = srv.bind_addr[1]
    try:
        holder = _open(port, b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.2)
        ans = raw_request(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
        assert ans.status == 503 and ans.headers["retry-after"]
        assert ans.headers["content-type"] == "text/html; charset=utf-8"
        assert b"<h1>Sedang sibuk, silakan coba lagi</h1>" in ans.body
        assert_protected(ans.headers, "busy")
        release.set()
        assert holder.recv(4096).startswith(b"HTTP/1.1 200")
        holder.close()
    finally:
        release.set()
        srv.stop()
        t.join(5)


def test_small_bodies_held_in_memory_have_a_budget_across_connections():
    srv = make_server(_App(), Listen("127.0.0.1", 0), 1 << 20, small_budget=100_000)
    srv.prepare()
    t = threading.Thread(target=srv.serve, daemon=True)
    t.start()
    port = srv.bind_addr[1]
    held = []
    try:
        for _ in range(3):  # 3 x 60 KB sent of 200 KB declared: over the budget, in memory
            held.append(_open(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200000"
                              b"\r\n\r\n" + b"a" * 60_000))
        time.sleep(0.5)
        ans = raw_request(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        assert ans.status == 503
        assert_protected(ans.headers, "budget")
        for s in held:
            s.close()
        time.sleep(0.5)  # their memory is given back with them
        ans = raw_request(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                          b"Connection: close\r\n\r\nabc")
        assert ans.status == 200
    finally:
        for s in held:
            s.close()
        srv.stop()
        t.join(5)
