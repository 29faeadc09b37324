"""A database that cannot be reached (a PostgreSQL failover under way, docs/scaling.md): both
apps answer 503 with Retry-After and a page that says the service is switching over, in
Indonesian and English; not "busy, handling many requests" (that is the KDF gate's and the
HTTP server's page, when it is true) and not an internal error.

The database is a real PostgreSQL address where nothing listens (a closed loopback port): the
driver's connection refusal is what the apps see while a primary is down."""

from __future__ import annotations

import pytest
import webtest
from sqlalchemy import create_engine

from crypto.kdf import TEST_PARAMS
from tests.fixtures import gateway
from tests.fixtures.gateway import make_deployment
from tor.testnet import free_port

SWITCHING = {
    "reporter": {"id": "Layanan sedang beralih", "en": "The service is switching over"},
    "gateway": {"id": "Layanan sedang beralih ke basis data cadangan",
                "en": "The service is switching over to its standby database"},
}
BUSY = {"id": ("sibuk", "banyak permintaan"), "en": ("busy", "many requests")}


@pytest.fixture
def dead_apps(tmp_path):
    from dropbox_app.app import make_gateway_app, make_reporter_app

    dep = make_deployment(tmp_path, app=False)
    # pool_pre_ping as the apps' own engine (dropbox_app.db.make_engine); the port is closed.
    dead = create_engine(f"postgresql+psycopg://peluit@127.0.0.1:{free_port()}/peluit",
                         pool_pre_ping=True, connect_args={"connect_timeout": 2})
    apps = {"reporter": make_reporter_app(dep.cfg, engine=dead, clock=dep.clock,
                                          argon2=TEST_PARAMS, kdf_slots=2),
            "gateway": make_gateway_app(dep.cfg, engine=dead, clock=dep.clock,
                                        hasher=dep.hasher)}
    yield apps
    dead.dispose()
    dep.engine.dispose()


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("side", ["reporter", "gateway"])
def test_unreachable_database_says_switching_over_not_busy(dead_apps, side, lang):
    app = webtest.TestApp(dead_apps[side])
    if side == "reporter":
        # The landing page already asks the database (the session, the channel's state).
        res = app.get(f"/?lang={lang}", status=503)
    else:
        # The login form is the gateway's one page that does not; the login does.
        form = {"csrf_token": gateway.csrf(app), "username": "ani", "passphrase": "x" * 20}
        res = app.post(f"/login?lang={lang}", form, status=503)
    assert res.headers["Retry-After"]
    assert SWITCHING[side][lang] in res.text, res.text[-1500:]
    lowered = res.text.lower()
    assert not any(word in lowered for word in BUSY[lang]), res.text[-1500:]
