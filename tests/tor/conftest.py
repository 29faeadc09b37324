from tests.fixtures.tornet import tornet  # noqa: F401
