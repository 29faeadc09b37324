"""Gateway accounts over the real WSGI app: login, one-time codes, lockout, sessions, roles and
re-authentication. Each attack is its own test."""

import pytest
from sqlalchemy import select

from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.gateway.totpseal import key_for
from dropbox_app.models import GatewayUser
from tests.fixtures.gateway import code, create_account, csrf, login, page_csrf


def test_login_with_passphrase_and_code_shows_transfers(deployment):
    acct = create_account(deployment, "ani")
    response = login(deployment, acct)
    assert response.location.endswith("/")
    page = deployment.app.get("/")
    assert page.status_int == 200 and "pending-count" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    cookie = next(c for c in deployment.app.cookiejar if c.name == "peluit_gw")
    assert cookie.has_nonstandard_attr("HttpOnly")


def test_home_without_session_goes_to_login(deployment):
    assert deployment.app.get("/", status=303).location.endswith("/login")
    assert deployment.app.post("/inbox", {"csrf_token": csrf(deployment.app)},
                               status=303).location.endswith("/login")


def test_reused_totp_code_is_refused_with_its_own_message_and_not_counted(deployment):
    acct = create_account(deployment, "ani")
    from tests.fixtures.gateway import code

    used = code(deployment, acct)
    login(deployment, acct, typed_code=used)
    deployment.app.post("/logout", {"csrf_token": page_csrf(deployment)}, status=303)
    deployment.clock.advance(-30)  # back inside the same 30-second step: the code is "valid"
    for _ in range(6):  # more than the failures that start a delay
        page = login(deployment, acct, status=403, typed_code=used)
        deployment.clock.advance(-30)
        assert "already been used" in page.html.find(role="alert").text
    assert deployment.app.get("/", status=303)
    with deployment.db() as db:
        user = db.scalar(select(GatewayUser).where(GatewayUser.username == "ani"))
        assert user.failures == 0 and user.locked_until == 0
    # A used code with a wrong passphrase says nothing more than any failure.
    token = csrf(deployment.app)
    page = deployment.app.post("/login", {"csrf_token": token, "username": "ani",
                                          "passphrase": "salah " * 7, "code": used}, status=403)
    assert "already been used" not in page.text and "Sign-in failed" in page.text
    deployment.clock.advance(60)
    login(deployment, acct, status=303)


def test_an_outsider_cannot_keep_the_real_user_out(deployment):
    """Someone who knows only the user name fails on purpose, as often as the gateway lets
    them, for days. A correct passphrase with a fresh code still signs in at once, each time."""
    acct = create_account(deployment, "ani")
    for _day in range(3):
        token = csrf(deployment.app)  # a sign-in gives the browser a new token
        for _ in range(40):
            deployment.app.post("/login", {"csrf_token": token, "username": "ani",
                                           "passphrase": "salah " * 7, "code": "000000"},
                                status=403)
            deployment.clock.advance(7)
        with deployment.db() as db:
            user = db.scalar(select(GatewayUser).where(GatewayUser.username == "ani"))
            assert user.failures >= 5 and user.locked_until > deployment.clock.timestamp()
        login(deployment, acct, status=303)  # no waiting, no admin needed
        deployment.app.post("/logout", {"csrf_token": page_csrf(deployment)}, status=303)
        with deployment.db() as db:
            user = db.scalar(select(GatewayUser).where(GatewayUser.username == "ani"))
            assert user.failures == 0 and user.locked_until == 0
        deployment.clock.advance(24 * 3600)


def test_failures_delay_guesses_without_a_fresh_code(deployment):
    acct = create_account(deployment, "ani")
    token = csrf(deployment.app)
    for _ in range(5):
        deployment.app.post("/login", {"csrf_token": token, "username": "ani",
                                       "passphrase": "salah " * 7, "code": "000000"}, status=403)
    with deployment.db() as db:
        user = db.scalar(select(GatewayUser).where(GatewayUser.username == "ani"))
        assert user.failures == 5 and user.locked_until == int(deployment.clock.timestamp()) + 60
    # During the delay even the right passphrase is not checked without a fresh code, and the
    # refusals are not counted (they would stretch the delay for ever).
    for _ in range(10):
        deployment.app.post("/login", {"csrf_token": token, "username": "ani",
                                       "passphrase": acct.passphrase, "code": "000000"},
                            status=403)
    with deployment.db() as db:
        assert db.scalar(select(GatewayUser.failures)
                         .where(GatewayUser.username == "ani")) == 5
    deployment.clock.advance(61)  # after the delay, guesses are checked (and counted) again
    deployment.app.post("/login", {"csrf_token": token, "username": "ani",
                                   "passphrase": "salah " * 7, "code": "000000"}, status=403)
    with deployment.db() as db:
        user = db.scalar(select(GatewayUser).where(GatewayUser.username == "ani"))
        assert user.failures == 6 and user.locked_until == int(deployment.clock.timestamp()) + 120
    login(deployment, acct, status=303)


def test_unknown_user_gets_the_same_answer(deployment):
    token = csrf(deployment.app)
    page = deployment.app.post("/login", {"csrf_token": token, "username": "nobody",
                                          "passphrase": "x", "code": "123456"}, status=403)
    assert "pending-count" not in page.text


def test_login_without_csrf_token_refused(deployment):
    acct = create_account(deployment, "ani")
    from tests.fixtures.gateway import code

    deployment.app.get("/login")
    deployment.app.post("/login", {"username": "ani", "passphrase": acct.passphrase,
                                   "code": code(deployment, acct)}, status=400)


def test_idle_and_absolute_expiry(deployment):
    acct = create_account(deployment, "ani")
    login(deployment, acct)
    deployment.clock.advance(29 * 60)
    deployment.app.get("/", status=200)
    deployment.clock.advance(31 * 60)
    deployment.app.get("/", status=303)
    login(deployment, acct)
    for _ in range(16):  # active all day (7 h 44 min), never idle for 30 minutes
        deployment.clock.advance(29 * 60)
        deployment.app.get("/", status=200)
    deployment.clock.advance(29 * 60)
    deployment.app.get("/", status=303)


def test_disabled_account_loses_its_session(deployment):
    acct = create_account(deployment, "ani")
    login(deployment, acct)
    from dropbox_app.gateway import accounts

    with deployment.db() as db, db.begin():
        accounts.set_active(db, "ani", False, actor=SHELL, day=deployment.clock.day())
    deployment.app.get("/", status=303)
    login(deployment, acct, status=403)


def test_non_admin_cannot_reach_admin_actions(deployment):
    acct = create_account(deployment, "ani", "auditor")
    login(deployment, acct)
    token = page_csrf(deployment)
    deployment.app.get("/admin", status=403)
    deployment.app.post("/admin/users", {"csrf_token": token, "username": "mallory",
                                         "role": "admin"}, status=403)
    deployment.app.post("/admin/server-key/rotate", {"csrf_token": token}, status=403)
    deployment.app.post(f"/admin/cards/{deployment.auditor.key_id}/disable",
                        {"csrf_token": token}, status=403)
    with deployment.db() as db:
        assert db.scalar(select(GatewayUser).where(GatewayUser.username == "mallory")) is None


def test_admin_action_needs_fresh_reauthentication(deployment):
    from tests.fixtures.gateway import code

    admin = create_account(deployment, "root", "admin")
    login(deployment, admin)
    deployment.clock.advance(6 * 60)  # the login is no longer fresh
    token = page_csrf(deployment, "/admin")
    response = deployment.app.post("/admin/users", {"csrf_token": token, "username": "budi",
                                                    "role": "auditor"}, status=303)
    assert response.location.endswith("/reauth")
    with deployment.db() as db:
        assert db.scalar(select(GatewayUser).where(GatewayUser.username == "budi")) is None
    # A wrong code does not re-authenticate.
    deployment.app.post("/reauth", {"csrf_token": token, "passphrase": admin.passphrase,
                                    "code": "000000"}, status=403)
    deployment.app.post("/reauth", {"csrf_token": token, "passphrase": admin.passphrase,
                                    "code": code(deployment, admin)}, status=303)
    page = deployment.app.post("/admin/users", {"csrf_token": token, "username": "budi",
                                                "role": "auditor"}, status=200)
    phrase = page.html.find(id="new-passphrase").text.strip()
    assert len(phrase.split()) == 7
    with deployment.db() as db:
        user = db.scalar(select(GatewayUser).where(GatewayUser.username == "budi"))
        assert user.role == "auditor" and phrase not in user.passphrase_hash


def test_admin_enrolls_after_fingerprint_check_and_disables_cards(deployment):
    from crypto.identity import AuditorIdentity
    from dropbox_app.models import AuditorCard

    admin = create_account(deployment, "root", "admin")
    login(deployment, admin)
    token = page_csrf(deployment, "/admin")
    budi = AuditorIdentity.generate("Budi")
    card = budi.card().to_bytes().decode()
    page = deployment.app.post("/admin/cards/check", {"csrf_token": token, "card": card})
    assert budi.card().fingerprint in page.html.find(id="fingerprint").text
    deployment.app.post("/admin/cards", {"csrf_token": token, "card": card}, status=400)
    deployment.app.post("/admin/cards", {"csrf_token": token, "card": card,
                                         "compared": "yes"}, status=303)
    deployment.app.post(f"/admin/cards/{budi.key_id}/disable", {"csrf_token": token,
                                                               "confirm": "yes"},
                        status=303)
    with deployment.db() as db:
        row = db.get(AuditorCard, budi.key_id)
        assert row is not None and row.active is False
    bad = deployment.app.post("/admin/cards/check", {"csrf_token": token,
                                                     "card": card.replace("Budi", "Bud1")},
                              status=400)
    assert "Traceback" not in bad.text


def test_pages_in_indonesian_by_default_and_english_on_request(tmp_path):
    from tests.fixtures.gateway import make_deployment

    dep = make_deployment(tmp_path, language="id")
    page = dep.app.get("/login")
    assert page.html.html["lang"] == "id" and "Masuk" in page.text
    css = page.html.find("link", rel="stylesheet")["href"]
    assert dep.app.get(css).content_type == "text/css"
    page = dep.app.get("/login?lang=en")
    assert page.html.html["lang"] == "en" and "Sign in" in page.text
    assert dep.app.get("/login").html.html["lang"] == "en"  # remembered in a cookie
    dep.engine.dispose()


def test_one_code_cannot_open_two_sessions_even_when_raced(deployment):
    """Two sign-ins with the same code, the second one working from a stale view of the account
    (as a concurrent request would): the conditional update lets only the first through."""
    from dropbox_app.gateway import accounts
    from tests.fixtures.gateway import code

    acct = create_account(deployment, "ani")
    typed = code(deployment, acct)
    now = deployment.clock.timestamp()
    with deployment.db() as first, deployment.db() as second:
        first.begin()
        second.begin()
        user_in_second = accounts.find(second, "ani")  # loaded before the first one commits
        assert user_in_second.totp_last_step is None
        assert accounts.check_credentials(first, deployment.hasher, "ani", acct.passphrase,
                                          typed, now, totp_key=key_for(deployment.cfg)).ok
        first.commit()
        result = accounts.check_credentials(second, deployment.hasher, "ani", acct.passphrase,
                                            typed, now, totp_key=key_for(deployment.cfg))
        assert not result.ok and result.reason == "code_reused"
        second.commit()


def test_expired_sessions_are_purged_at_the_next_login(deployment):
    from sqlalchemy import func

    from dropbox_app.models import GatewaySession

    ani, budi = create_account(deployment, "ani"), create_account(deployment, "budi")
    login(deployment, ani)
    deployment.app.reset()  # the browser is closed without logging out
    deployment.clock.advance(31 * 60)
    login(deployment, budi)
    with deployment.db() as db:
        assert db.scalar(select(func.count(GatewaySession.id))) == 1


def test_the_database_alone_mints_no_totp_code(deployment):
    """A copy of the database (or a backup without its sealed secrets) holds the seed sealed
    under the server secret, bound to the account: no code can be computed from it."""
    import base64

    from dropbox_app.gateway import totp, totpseal

    acct = create_account(deployment, "ani")
    with deployment.db() as db:
        user = db.scalar(select(GatewayUser))
        stored, uid = user.totp_secret, user.id
    assert acct.totp_secret not in stored and stored.startswith("s1:")
    from pathlib import Path

    data = Path(deployment.cfg.database_url.removeprefix("sqlite:///")).read_bytes()
    assert acct.totp_secret.encode() not in data
    assert base64.b32decode(acct.totp_secret) not in data
    # Under this server's key and this account it opens; moved to another account it does not.
    key = key_for(deployment.cfg)
    assert totpseal.unseal(stored, uid, key) == acct.totp_secret
    with pytest.raises(totpseal.SealedSeedError):
        totpseal.unseal(stored, "0" * 32, key)
    with pytest.raises(totpseal.SealedSeedError):
        totpseal.unseal(acct.totp_secret, uid, key)  # a seed in clear is refused, not used
    assert totp.step_of(acct.totp_secret, code(deployment, acct), deployment.clock.timestamp())


def test_upgrade_seals_the_seeds_of_an_older_database(tmp_path):
    """0007 seals every seed a database from before it holds in clear."""
    from sqlalchemy import create_engine, text

    from dropbox_app.config import initialise, load
    from dropbox_app.db import upgrade
    from dropbox_app.gateway import totp, totpseal

    cfg = load(initialise(tmp_path / "d"))
    upgrade(cfg.database_url, "0006_answer_receipts")
    seed = totp.new_secret()
    engine = create_engine(cfg.database_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO gateway_users (id, username, role, passphrase_hash, totp_secret, "
            "failures, locked_until, active, created_day) VALUES ('u1', 'ani', 'admin', 'x', "
            ":s, 0, 0, 1, '2026-01-01')"), {"s": seed})
    with pytest.raises(RuntimeError, match="secrets"):
        upgrade(cfg.database_url)  # without the configuration it cannot seal: refused
    upgrade(cfg.database_url, config=cfg)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT totp_secret FROM gateway_users")).scalar_one()
    engine.dispose()
    assert seed not in stored
    assert totpseal.unseal(stored, "u1", key_for(cfg)) == seed
