"""Browser tests: Debian's headless Chromium, JavaScript disabled."""

from tests.fixtures.browser import browser  # noqa: F401 - a fixture
