"""Acknowledgments per recipient group: what a reply bundle's acknowledgments cost the gateway.

    python -m bench.gateway_acks [SUBMISSIONS]     (default: 20000, one full inbox bundle)

A real server database (SQLite, migrated) in a temporary directory with one card in each
recipient group and N submission rows (rows only: acknowledging never touches the store). Then
the inspectorate's and the conflict group's acknowledgments of all N are recorded, each in its
own transaction as the gateway does when it accepts a reply bundle (gateway/acks.py), the second
one settling all N. Reports the time of each and the rows written."""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

from dropbox_app.gateway.adminlog import SHELL


def main(count: int) -> None:
    from nacl.public import PrivateKey
    from sqlalchemy import func, insert, select

    from crypto.identity import AuditorIdentity
    from dropbox_app import routing
    from dropbox_app.auditors import enroll
    from dropbox_app.db import make_engine, session_factory, upgrade
    from dropbox_app.gateway import acks
    from dropbox_app.models import Report, Reporter, Submission, SubmissionAck

    with tempfile.TemporaryDirectory(prefix="peluit-bench-acks-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'peluit.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        factory = session_factory(engine)
        day = "2026-12-01"
        with factory() as db, db.begin():
            for name, group in (("Inspektorat", routing.INSPECTORATE),
                                ("Pejabat", routing.CONFLICT)):
                enroll(db, AuditorIdentity.generate(name).card().to_bytes(), day, actor=SHELL,
                       group=group)
            reporter = Reporter(lookup_id=secrets.token_bytes(32),
                                public_key=bytes(PrivateKey.generate().public_key),
                                created_day=day)
            db.add(reporter)
            db.flush()
            report = Report(reporter_id=reporter.id, status="received", created_day=day)
            db.add(report)
            db.flush()
            ids = [secrets.token_hex(16) for _ in range(count)]
            db.execute(insert(Submission), [
                {"id": sid, "report_id": report.id, "kind": "submission",
                 "member": f"{sid}.env", "padded_size": 65536, "sha256": "0" * 64,
                 "created_day": day, "acked_day": None} for sid in ids])
        for group in (routing.INSPECTORATE, routing.CONFLICT):
            start = time.perf_counter()
            with factory() as db, db.begin():
                added = acks.record(db, ids, group, day)
            took = time.perf_counter() - start
            with factory() as db:
                settled = db.scalar(select(func.count(Submission.id))
                                    .where(Submission.acked_day.is_not(None)))
                rows = db.scalar(select(func.count()).select_from(SubmissionAck))
            print(f"{group:12s} acknowledges {count} submissions: {took:.2f} s "
                  f"({added} new, {rows} ack rows, {settled} acknowledged by every group)")
        engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
