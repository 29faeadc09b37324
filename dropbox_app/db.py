"""Database plumbing: the engine, one SQLAlchemy session per request joined to the request's
transaction (pyramid_tm + zope.sqlalchemy), and the migrations (Alembic)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import zope.sqlalchemy
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


def _private_sqlite_file(url: str) -> None:
    """The database file (and so its -wal and -shm, which SQLite creates alike) is 0600."""
    import os

    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        return
    path = Path(url[len(prefix):].split("?", 1)[0])
    if not path.exists() and path.parent.is_dir():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.exists() and path.stat().st_uid == os.geteuid():
        path.chmod(0o600)


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30}, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        from .cover import install

        install(engine)  # the files' times date no transaction (dropbox_app/cover.py)
        return engine
    return create_engine(url, pool_pre_ping=True, **kw)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers go on while one request writes; secure_delete overwrites freed pages so
    # that a wiped session or a deleted reply does not linger in the file.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def unreachable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection (a PostgreSQL primary that
    died, a failover under way; SQLite locked for too long): nothing of the request was kept,
    and the same request a moment later may well go through."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)))


def dialect_insert(db: Session) -> Any:
    """The dialect's INSERT construct, which has ON CONFLICT (SQLite and PostgreSQL alike)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def tm_session(factory: sessionmaker[Session], transaction_manager: Any) -> Session:
    session = factory()
    zope.sqlalchemy.register(session, transaction_manager=transaction_manager)
    return session


def alembic_config(url: str):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", *, config: Any = None) -> None:
    """Bring the database at ``url`` to ``revision`` (``peluit db upgrade``). ``config`` (the
    deployment's Config) lets a migration reach the secrets dir: 0007 seals the gateway's TOTP
    seeds under the server secret."""
    from alembic import command

    cfg = alembic_config(url)
    if config is not None:
        from .serversecret import path_for

        cfg.attributes["peluit.server_secret_file"] = path_for(config)
    command.upgrade(cfg, revision)


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def release(request: Any) -> None:
    """End the request's transaction here, so that its database connection goes back to the
    pool: for the work that follows without the database (an upload streaming into the store,
    a wait for an argon2 slot). ``request.dbsession`` stays usable; its next statement joins
    the fresh transaction begun here, which pyramid_tm commits or aborts after the view as
    usual. Nothing written before this point is undone if the rest fails: call it before the
    request writes anything."""
    request.tm.commit()
    request.tm.begin()


def includeme(config: Any) -> None:
    """Pyramid: ``request.dbsession``, scoped to the request's transaction."""
    settings = config.get_settings()
    config.include("pyramid_tm")
    engine = settings["peluit.engine"]
    factory = session_factory(engine)
    config.registry["dbsession_factory"] = factory

    def dbsession(request: Any) -> Session:
        return tm_session(factory, request.tm)

    config.add_request_method(dbsession, reify=True)
