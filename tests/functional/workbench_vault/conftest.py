import pytest
import webtest

from tests.fixtures.workbench_vault import login, make_vault
from workbench.web import make_app


@pytest.fixture
def tv(tmp_path):
    return make_vault(tmp_path)


@pytest.fixture
def app(tv):
    return webtest.TestApp(make_app(tv.path, demo_not_air_gapped=True))


@pytest.fixture
def lead_app(app, tv):
    login(app, tv.lead.key_id)
    return app
