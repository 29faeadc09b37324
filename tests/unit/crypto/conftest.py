import pytest

from crypto import identity


@pytest.fixture(scope="session")
def ani():
    return identity.AuditorIdentity.generate("Ani Wijaya")


@pytest.fixture(scope="session")
def budi():
    return identity.AuditorIdentity.generate("Budi Santoso")


@pytest.fixture(scope="session")
def server_key():
    return identity.ServerKey.generate("peluit-test-server")
