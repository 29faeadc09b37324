"""The vault database's engine: the SQLite file in the vault and the pragmas every connection
gets (WAL, full fsync, foreign keys, secure delete), and the session factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

DB_FILE = "workbench.sqlite"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA secure_delete=ON")  # deleted rows are overwritten, not left in free pages
    cur.close()


def make_engine(vault_dir: Path | str) -> Engine:
    path = Path(vault_dir) / DB_FILE
    # hide_parameters: SQLAlchemy errors would otherwise quote bound values (plaintext) in
    # messages and tracebacks.
    engine = create_engine(f"sqlite:///{path}", hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
