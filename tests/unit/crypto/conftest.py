import pytest
from hypothesis import HealthCheck, settings

from crypto import identity

# Crypto property tests do real encryption per example: keep examples few enough for the
# suite's time budget, and never fail on timing (machines are shared and noisy).
settings.register_profile(
    "crypto", deadline=None, max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("crypto")


@pytest.fixture(scope="session")
def ani():
    return identity.AuditorIdentity.generate("Ani Wijaya")


@pytest.fixture(scope="session")
def budi():
    return identity.AuditorIdentity.generate("Budi Santoso")


@pytest.fixture(scope="session")
def server_key():
    return identity.ServerKey.generate("peluit-test-server")
