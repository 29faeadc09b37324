"""Slowloris: connections trickling header bytes must not starve other clients, while a slow
but steady request body is still read to the end."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from dropbox_app.config import Listen
from dropbox_app.server import make_server

DEADLINE = 2.0


def _app(environ, start_response):
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"got %d" % len(body)]


@pytest.fixture
def server():
    srv = make_server(_app, Listen("127.0.0.1", 0), 1 << 20, threads=4,
                      header_deadline=DEADLINE)
    srv.prepare()
    t = threading.Thread(target=srv.serve, daemon=True)
    t.start()
    yield srv.bind_addr[1]
    srv.stop()


def _get(port, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data


def test_trickled_headers_are_cut_off_and_others_served(server):
    stop = threading.Event()
    attackers = []
    for _ in range(8):  # twice the worker threads
        s = socket.create_connection(("127.0.0.1", server))
        s.sendall(b"GET / HTTP/1.1\r\n")
        attackers.append(s)

    def trickle():
        while not stop.wait(0.3):
            for s in attackers:
                with contextlib.suppress(OSError):
                    s.sendall(b"X")

    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    try:
        time.sleep(0.5)
        start = time.monotonic()
        reply = _get(server, timeout=DEADLINE * 4)
        assert reply.startswith(b"HTTP/1.1 200")
        # The attackers held every worker; only the header deadline freed one.
        assert time.monotonic() - start < DEADLINE * 3
        for s in attackers:  # each trickling connection was closed by the server
            s.settimeout(DEADLINE * 2)
            with contextlib.suppress(ConnectionResetError):
                assert b"408" in s.recv(4096) or s.recv(4096) == b""
    finally:
        stop.set()
        for s in attackers:
            s.close()


def test_slow_steady_body_outlives_the_header_deadline(server):
    chunks = 12
    with socket.create_connection(("127.0.0.1", server), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                  b"Content-Length: %d\r\n\r\n" % (chunks * 10))
        for _ in range(chunks):  # 12 x 0.3 s: well past the 2 s header deadline
            s.sendall(b"0123456789")
            time.sleep(0.3)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    assert b"\r\ngot 120\r\n" in data


def test_the_production_pool_outlasts_dozens_of_trickling_connections():
    """With the default pool, 40 connections stuck in their headers do not delay anyone: the
    request is answered at once, not when the header deadline frees a thread."""
    srv = make_server(_app, Listen("127.0.0.1", 0), 1 << 20, header_deadline=DEADLINE * 5)
    srv.prepare()
    t = threading.Thread(target=srv.serve, daemon=True)
    t.start()
    attackers = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", srv.bind_addr[1]))
            s.sendall(b"GET / HTTP/1.1\r\n")
            attackers.append(s)
        time.sleep(0.5)
        start = time.monotonic()
        assert _get(srv.bind_addr[1], timeout=DEADLINE * 10).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - start < DEADLINE
    finally:
        for s in attackers:
            s.close()
        srv.stop()
