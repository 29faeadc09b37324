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



# The suite runs on two pytest-xdist workers (`make test`: `-n 2 --dist loadscope`): most of its
# time is spent waiting on Tor, containers, browsers and subprocesses, not on the CPU. A worker
# takes whole scopes, and a scope is a test module (or class), so a module's fixtures (a
# container, a PostgreSQL primary and standby, a private Tor network) are set up once, as
# without xdist. The modules under tests/tor/ share the session's private Tor network and form
# one scope, so that it starts once. (xdist's own `loadgroup` marks do not work with pytest 9.2:
# they rename the node id, which pytest no longer reads back.)
SHARED_SCOPES = {"tests/tor/": "tests/tor/"}


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScopes(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for prefix, scope in SHARED_SCOPES.items():
                if nodeid.startswith(prefix):
                    return scope
            return super()._split_scope(nodeid)

    return SharedFixtureScopes(config, log)


# The longest scopes go first, so that neither worker is left with one of them at the end
# while the other idles (figures: seconds on this machine kind; the container's grows by about
# six minutes when /var/cache/peluit-test is empty). Without xdist the order changes nothing:
# no module depends on another having run.
LONGEST_FIRST = (
    "tests/deploy/test_nspawn.py",          # 85 (cold cache: 450)
    "tests/faults/test_crash.py",           # 93
    "tests/tor/",                           # 75
    "tests/scale/test_onionbalance.py",     # 69
    "tests/security/test_hostile_load.py",  # 60
    "tests/scale/test_pg_failover.py",      # 46
)


def _rank(nodeid: str) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if nodeid.startswith(prefix)),
                len(LONGEST_FIRST))


def pytest_collection_modifyitems(items) -> None:
    items.sort(key=lambda item: _rank(item.nodeid))  # stable: each module keeps its order
