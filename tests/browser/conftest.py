"""Browser tests: Debian's headless Chromium, JavaScript disabled."""

from tests.fixtures.browser import browser, browser_js  # noqa: F401 - fixtures
