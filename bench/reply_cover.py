"""What the cover costs (crypto/replyentry.py, docs/cases.md "What comes back: cover entries").

    python -m bench.reply_cover [--reports 1000] [--days 250]

* export: a vault that has imported ``--reports`` reports writes one reply bundle (one entry per
  report, one real question among them): the time, the bundle's size and each entry's size;
* read: a reporter whose report got an entry from each of two groups every working day for
  ``--days`` days opens the follow-up page's thread (``services.read_thread``): the time, and the
  bytes it reads;
* the server's growth per year for that many reports and two groups exporting every working day.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import tempfile
import time
from pathlib import Path

from nacl.public import PrivateKey

from crypto import replyentry
from tests.fixtures.workbench_vault import build_inbox, in_vault, make_vault, report_item
from workbench import outbox
from workbench.exporter import export_replies
from workbench.importer import import_bundle


def bench_export(reports: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tv = make_vault(Path(tmp))
        items = [report_item() for _ in range(reports)]
        import_bundle(tv.lead, io.BytesIO(build_inbox(tv, items, seq=1)))
        times, sizes = [], []
        for n in range(runs):
            in_vault(tv, lambda s: outbox.queue_reply(s, items[0].report, tv.lead.key_id,
                                                     "Kapan kejadiannya? " * 20))
            out = Path(tmp) / f"r{n}.bundle"
            start = time.perf_counter()
            result = export_replies(tv.lead, out)
            times.append(time.perf_counter() - start)
            sizes.append(out.stat().st_size)
        assert result.entries == reports
    entry = replyentry.OVERHEAD + replyentry.MIN_BODY
    return {"reports": reports, "export_s": statistics.median(times),
            "bundle_bytes": statistics.median(sizes), "entry_bytes": entry}


def bench_read(days: int) -> dict:
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.models import Reply, Report, Reporter, new_id
    from dropbox_app.models.base import Base
    from dropbox_app.reporter import services
    from dropbox_app.store import Store
    from peluit.ground.clock import Clock

    key = PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/db.sqlite")
        Base.metadata.create_all(engine)
        store = Store(Path(tmp) / "store")
        store.ensure()
        factory = session_factory(engine)
        day0 = dt.date(2026, 1, 1)
        with factory() as db, db.begin():
            reporter = Reporter(id=new_id(), lookup_id=bytes(32), public_key=bytes(key.public_key),
                                created_day=day0.isoformat())
            report = Report(id=new_id(), reporter_id=reporter.id, status="received",
                            created_day=day0.isoformat())
            db.add_all([reporter, report])
            db.flush()
            total = 0
            for d in range(days):
                day = (day0 + dt.timedelta(days=d)).isoformat()
                for group in range(2):
                    items = ([{"id": new_id(), "kind": "question", "text": "Kapan?", "n": d}]
                             if group == 0 and d % 20 == 0 else [])
                    (body,) = replyentry.uniform([replyentry.body(items, None)])
                    eid = new_id()
                    data = replyentry.seal(body, key.public_key, report.id, eid)
                    pending = store.begin()
                    pending.sink.write(data)
                    size, _sha = pending.commit()
                    pending.release()
                    total += size
                    db.add(Reply(id=eid, report_id=report.id, kind=replyentry.KIND,
                                 member=pending.member, padded_size=size, created_day=day))
        times = []
        for _ in range(5):
            with factory() as db, db.begin():
                start = time.perf_counter()
                thread = services.read_thread(db, store, Clock(), db.get(Report, report.id), key)
                times.append(time.perf_counter() - start)
        engine.dispose()
    return {"entries": days * 2, "shown": len(thread.replies), "read_s": statistics.median(times),
            "bytes": total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ex = bench_export(args.reports, args.runs)
    print(f"export: {ex['reports']} covered reports -> {ex['export_s'] * 1000:.0f} ms, bundle "
          f"{ex['bundle_bytes'] / 1e6:.2f} MB, entry {ex['entry_bytes']} B "
          f"({ex['export_s'] / ex['reports'] * 1e6:.0f} µs per report)")
    per_year = ex["entry_bytes"] * ex["reports"] * 2 * 250
    print(f"server growth, two groups exporting every working day: "
          f"{ex['entry_bytes'] * ex['reports'] * 2 / 1e6:.1f} MB a day, {per_year / 1e9:.2f} GB "
          "a year (plus the database rows)")
    rd = bench_read(args.days)
    print(f"read: {rd['entries']} entries ({rd['shown']} real) -> "
          f"{rd['read_s'] * 1000:.0f} ms, {rd['bytes'] / 1e3:.0f} kB read")


if __name__ == "__main__":
    main()
