"""The one root conftest: the shared fixtures of tests/fixtures/ are plugins, so every test
directory sees them without importing them (no ``# noqa: F401`` fixture imports). Helpers that
are not fixtures (clients, page checks, canaries) are imported from tests/fixtures/ modules;
test modules never import each other."""

# Order matters: a plugin that imports another comes after it (so pytest rewrites its asserts).
pytest_plugins = [
    "tests.fixtures.gateway",     # deployment, pg_deployment
    "tests.fixtures.postgres",    # postgres_server
    "tests.fixtures.browser",     # browser, browser_js
    "tests.fixtures.tornet",      # tornet
    "tests.fixtures.drop",        # drop, shared, ports (the server apps under attack)
    "tests.fixtures.language",    # english_cli
]
