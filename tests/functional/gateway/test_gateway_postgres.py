"""The gateway's transactional paths on a real PostgreSQL server: sequence numbers taken with
row locks, a reply bundle applied in one transaction and refused when replayed, and retention
followed by VACUUM."""

import io

import pytest
from sqlalchemy import select

from crypto import replyentry
from crypto.bundle import BundleReader
from dropbox_app.gateway import retention
from dropbox_app.gateway.adminlog import SHELL
from dropbox_app.models import Reply, Report, Submission
from tests.fixtures.gateway import (
    add_submission,
    create_account,
    login,
    page_csrf,
    reply_bundle,
    server_trust,
)

pytestmark = pytest.mark.postgres


def test_round_trip_on_postgres(pg_deployment):
    dep = pg_deployment
    login(dep, create_account(dep, "ani"))
    sub = add_submission(dep, b"laporan")
    for seq in (1, 2):
        data = dep.app.post("/inbox", {"csrf_token": page_csrf(dep)}).body
        reader = BundleReader(io.BytesIO(data), server_trust(dep), "inbox", lambda s: None,
                              dep.cfg.deployment_id)
        assert reader.manifest.seq == seq
    bundle = reply_bundle(dep, replies=[(sub.report_id, sub.reporter_key, "Siapa?")],
                          acks=[sub.submission_id], statuses=[(sub.report_id, "forwarded")])
    upload = [("bundle", "r.bundle", bundle)]
    dep.app.post("/replies", {"csrf_token": page_csrf(dep)}, upload_files=upload)
    page = dep.app.post("/replies", {"csrf_token": page_csrf(dep)}, upload_files=upload,
                        status=422)
    assert "already accepted" in page.text
    with dep.db() as db:
        assert len(db.scalars(select(Reply)).all()) == 1
        # The status is sealed in the entry: the server's row never learns it.
        assert db.get(Report, sub.report_id).status == "received"
        [reply] = db.scalars(select(Reply)).all()
        opened = replyentry.open_entry((dep.store_dir / reply.member).read_bytes(),
                                       sub.reporter_key, sub.report_id, reply.id)
        assert ([i["kind"] for i in opened.items], opened.status) == (["question"], "forwarded")
        assert db.get(Submission, sub.submission_id).acked_day == dep.clock.day()
    dep.clock.advance(31 * 86400)
    with dep.db() as db, db.begin():
        assert retention.run(db, dep.store_dir, dep.clock.today(), 30, actor=SHELL).deleted == 1
    retention.compact(dep.engine)
    with dep.db() as db:
        assert db.get(Submission, sub.submission_id) is None


def test_failures_counted_and_code_spent_on_postgres(pg_deployment):
    from dropbox_app.gateway import accounts
    from dropbox_app.gateway.totpseal import key_for
    from dropbox_app.models import GatewayUser
    from tests.fixtures.gateway import code

    dep = pg_deployment
    acct = create_account(dep, "ani")
    now = dep.clock.timestamp()
    with dep.db() as db, db.begin():
        for _ in range(5):
            assert accounts.check_credentials(db, dep.hasher, "ani", "salah", "000000",
                                              now, totp_key=key_for(dep.cfg)
                                              ).reason == "passphrase"
    with dep.db() as db:
        user = db.scalar(select(GatewayUser))
        assert user.failures == 5 and user.locked_until > now
    typed = code(dep, acct)  # during the delay: a fresh code and the passphrase still pass
    with dep.db() as db, db.begin():
        assert accounts.check_credentials(db, dep.hasher, "ani", acct.passphrase, typed, now,
                                          totp_key=key_for(dep.cfg)).ok
    with dep.db() as db, db.begin():
        assert accounts.check_credentials(db, dep.hasher, "ani", acct.passphrase, typed,
                                          now, totp_key=key_for(dep.cfg)
                                          ).reason == "code_reused"


def test_admin_log_entries_from_parallel_transactions_stay_one_chain_on_postgres(pg_deployment):
    import threading

    from dropbox_app.gateway import adminlog
    from policies import auditlog

    dep = pg_deployment
    start = threading.Barrier(4)
    errors = []

    def act(n: int) -> None:
        try:
            start.wait()
            for i in range(5):
                with dep.db() as db, db.begin():
                    adminlog.record(db, dep.clock.day(), adminlog.SHELL, "account.unlock",
                                    {"user": f"u{n}-{i}"})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=act, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with dep.db() as db:
        log = adminlog.newest(db)
    # The head row's lock made every append wait for the one before: no number twice, no gap.
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert len([e for e in log if e.action == "account.unlock"]) == 20
    assert auditlog.verify(log) == []
