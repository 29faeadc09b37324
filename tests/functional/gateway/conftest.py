from tests.fixtures.gateway import deployment  # noqa: F401
