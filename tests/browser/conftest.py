"""Fixtures of tests/browser/ only."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.reporter_live import Live, serve


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The reporter app on the real HTTP server on loopback, with a clock the test moves
    (tests/fixtures/reporter_live.py). test_reporter_browser.py keeps a ``live`` of its own:
    a real clock, and a tuple."""
    yield from serve(tmp_path)
