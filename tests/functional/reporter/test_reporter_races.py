"""Races a reporter's browser (or someone holding its cookie) can start: exactly one report per
codename, however many copies of the report form arrive at once. Run on SQLite and on a real
PostgreSQL server (the db_url fixture), with real threads through the real app."""

from __future__ import annotations

import threading

import webtest
from sqlalchemy import func, select

from dropbox_app.models import Report, Reporter, Submission
from tests.fixtures.reporter_client import Reporter as Client
from tests.fixtures.reporter_client import form_token

COPIES = 6


def test_simultaneous_reports_of_one_fresh_session_file_one_report(app, db, config):
    client = Client(app)
    client.get_codename()
    client.confirm()
    # Six copies of the form (six tabs, or a script replaying the session cookie), each with
    # its own one-time form token, so that only the codename ties them together.
    tokens = [form_token(app.get("/report/new")) for _ in range(COPIES)]
    cookies = dict(app.cookies)
    start = threading.Barrier(COPIES)
    statuses: list[int] = []

    def send(token: str) -> None:
        # the same cookies, sent as they are (no cookie jar of its own to mix them up)
        browser = webtest.TestApp(app.app, extra_environ={
            "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in cookies.items())})
        params = [("csrf_token", cookies["csrf"]), ("form_token", token),
                  ("what", "Kepala pengadaan meminta sepuluh persen dari setiap kontrak.")]
        start.wait()
        res = browser.post("/report/new/send", params=params,
                           upload_files=[("files", "bukti.txt", b"bukti " * 1000)],
                           content_type="multipart/form-data", expect_errors=True)
        statuses.append(res.status_int)

    threads = [threading.Thread(target=send, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [409] * (COPIES - 1), statuses
    assert db.scalar(select(func.count()).select_from(Reporter)) == 1
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    # the one report's body and file, and nothing of the refused copies
    assert db.scalar(select(func.count()).select_from(Submission)) == 2
    from dropbox_app.store import Store

    stored = sorted(Store(config.store_dir).members())
    assert stored == sorted(db.scalars(select(Submission.member)))
    # the browser that sent them can follow its one report up
    res = app.get("/followup")
    assert res.status_int == 200
