from tests.fixtures.gateway import deployment, pg_deployment  # noqa: F401 - fixtures
from tests.fixtures.postgres import postgres_server  # noqa: F401 - a fixture
