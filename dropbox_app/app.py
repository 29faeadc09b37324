"""The two server apps and the production HTTP server for each. The factories are symmetric:
``make_reporter_app`` (dropbox_app/reporter) and ``make_gateway_app`` (dropbox_app/gateway)
each start from ``base_configurator`` (dropbox_app/configurator.py) and add their own
services; this module hands them out and builds the HTTP server around either."""

from __future__ import annotations

from typing import Any

from pyramid.router import Router

from .config import Config
from .configurator import service
from .throttle import KdfGate


def make_reporter_app(config: Config, **kw: Any) -> Router:
    """The reporter app (dropbox_app/reporter)."""
    from .reporter import make_reporter_app as make

    return make(config, **kw)


def make_gateway_app(config: Config, **kw: Any) -> Router:
    """The auditor gateway (dropbox_app/gateway)."""
    from .gateway import make_gateway_app as make

    return make(config, **kw)


# The routes whose work is an argon2 derivation: their own lane of worker threads (server.py),
# so that a flood of logins waits in its own queue and never in front of the landing page.
KDF_ROUTES = {"reporter": (("POST", "/login"), ("POST", "/codename")),
              "gateway": (("POST", "/login"), ("POST", "/reauth"))}
# A login in a flood waits its turn in arrival order (the kdf lane's queue, then the login
# budget's pace, dropbox_app/loginbudget.py): 32 guessing threads put it ~16-25 s back on a
# loaded 2-core machine. The queue lets it wait that long rather than answer 503.
KDF_QUEUE_WAIT = 60.0


def lanes_for(wsgi: Any, which: str) -> dict[str, Any]:
    """The server's worker lanes for an app, sized so that every worker thread can hold a
    database connection at once: none ever waits on the pool (which would answer 500 after
    30 s). The argon2 lane has two threads per derivation slot: while one derives, the other
    parses its form, writes its outcome or renders its page, and a free slot never idles."""
    from .server import QUICK_THREADS, STREAM_THREADS, Lane

    gate = service(wsgi, KdfGate)
    kdf = 2 * (gate.slots if gate is not None else 1)
    stream = STREAM_THREADS
    quick = QUICK_THREADS
    pool = wsgi.registry.settings["peluit.engine"].pool
    size = getattr(pool, "size", None)
    if callable(size):  # a QueuePool: its size and overflow bound the connections
        capacity = size() + max(getattr(pool, "_max_overflow", 0), 0)
        quick = max(2, min(quick, capacity - stream - kdf))
    return {"threads": quick, "stream_threads": stream,
            "lanes": [Lane("kdf", kdf, queue_wait=KDF_QUEUE_WAIT)],
            "routes": {route: "kdf" for route in KDF_ROUTES[which]}}


def make_http_server(config: Config, which: str, wsgi: Any) -> Any:
    """The production HTTP server (server.py) in front of ``wsgi``, the ``which`` app
    ("reporter" or "gateway"): on its loopback address, with the body backstop just above what
    the app itself accepts (the app answers anything larger with a clear 413 page before
    reading it), its worker lanes (lanes_for) and, for the reporter, the pages the server sends
    by itself past the backstop and when no worker came free in time."""
    from .server import make_server

    if which == "reporter":
        from .reporter.render import busy_page, oversize_page

        return make_server(wsgi, config.reporter_listen,
                           config.max_upload_bytes + 2 * 1024 * 1024,
                           oversize_page=oversize_page(config.default_language),
                           busy_page=busy_page(config.default_language),
                           **lanes_for(wsgi, which))
    from .gateway.views import MAX_BUNDLE_UPLOAD

    return make_server(wsgi, config.gateway_listen, MAX_BUNDLE_UPLOAD + 1024 * 1024,
                       **lanes_for(wsgi, which))
