"""Fixtures of tests/unit/dropbox_app/ only."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from dropbox_app.models import Base  # the package: every model is on Base.metadata


@pytest.fixture
def db():
    """A session on a fresh in-memory SQLite database with the server's schema: the sessions,
    session-state and throttle tests run on the real tables, not on fakes, and none sees
    another's rows."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()
