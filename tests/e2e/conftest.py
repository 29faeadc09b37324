from tests.fixtures.gateway import deployment  # noqa: F401 - a fixture
