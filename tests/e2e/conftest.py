"""Fixtures of the end-to-end tests."""

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def dep(request):
    """A gateway deployment on SQLite, and again on PostgreSQL (tests/fixtures/gateway.py)."""
    return request.getfixturevalue("deployment" if request.param == "sqlite"
                                   else "pg_deployment")
