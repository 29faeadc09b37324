"""The web workbench on a vault whose trust records were changed while it was locked: a clear
409 page in Indonesian and English, never a 500 or a silent login (issue 11)."""

from __future__ import annotations

import sqlite3

import pytest

from tests.fixtures.workbench_vault import login
from workbench import db


def _change_deployment(tv):
    conn = sqlite3.connect(tv.path / db.DB_FILE)
    conn.execute("UPDATE settings SET value = 'f' || substr(value, 2) WHERE name = 'deployment'")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("lang", "text"), [
    ("id", "Catatan brankas diubah di luar meja kerja"),
    ("en", "records were changed outside the workbench"),
])
def test_login_to_a_tampered_vault_says_so(app, tv, lang, text):
    app.get(f"/login?lang={lang}")
    _change_deployment(tv)
    page = login(app, tv.lead.key_id, status=409)
    assert text in page.text
    assert app.get("/", status=303).location.endswith("/login")  # not logged in


def test_tampering_during_a_session_stops_the_next_request(lead_app, tv):
    lead_app.get("/reports", status=200)
    _change_deployment(tv)
    page = lead_app.get("/reports", status=409)
    assert "changed outside the workbench" in page.text or "diubah di luar" in page.text


def test_a_compliance_officers_session_is_checked_too(app, tv):
    from tests.fixtures.workbench_vault import OTHER_PASS, add_person

    identity = add_person(tv, "Citra", "compliance")
    login(app, identity.key_id, OTHER_PASS)
    app.get("/gateway-log", status=200)
    _change_deployment(tv)
    page = app.get("/gateway-log", status=409)
    assert "diubah di luar" in page.text
