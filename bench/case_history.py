"""Time to read one case's history from the audit log (workbench/cases/history.py), which the
case page does on every view, against the size of the log.

    python -m bench.case_history [--entries 100000] [--cases 2000]

Builds a vault database whose audit log holds ENTRIES chained entries spread over CASES cases
(actions and actors as the workbench writes them; a tenth name a web report in their details),
then times ``case_history`` for a case in the middle of the log (median of 20 runs). The query
scans the log with SQLite's instr() over the canonical entry bytes: it grows with the log, not
with the case."""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from policies import auditlog


def build(path: Path, entries: int, cases: int) -> tuple[str, str]:
    from workbench import db

    engine = db.make_engine(path)
    db.create_schema(engine)
    actors = [os.urandom(16).hex() for _ in range(8)]
    reports = [os.urandom(16).hex() for _ in range(cases)]
    prev = None
    with Session(engine) as s, s.begin():
        rows = []
        for i in range(entries):
            c = i % cases
            number = f"2026-{c + 1:06d}"
            details = {"report": reports[c]} if i % 10 == 0 else {"event": i}
            prev = auditlog.append(prev, at="2026-12-02T02:00Z", actor=actors[i % 8],
                                   action="case.read", case=number if i % 10 else None,
                                   details=details)
            rows.append({"seq": prev.seq, "entry": prev.to_bytes(), "hash": prev.hash})
        s.execute(db.AuditLogRow.__table__.insert(), rows)
    engine.dispose()
    mid = cases // 2
    return f"2026-{mid + 1:06d}", reports[mid]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--cases", type=int, default=2000)
    args = p.parse_args()
    from workbench import db
    from workbench.cases.history import case_history

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        (path / "vault.json").write_text("{}")
        t0 = time.perf_counter()
        number, report = build(path, args.entries, args.cases)
        print(f"built {args.entries} entries over {args.cases} cases "
              f"in {time.perf_counter() - t0:.1f} s")
        engine = db.make_engine(path)
        times = []
        with Session(engine) as s:
            for _ in range(20):
                t = time.perf_counter()
                steps = case_history(s, number, report)
                times.append(time.perf_counter() - t)
        engine.dispose()
        print(f"case_history: {len(steps)} lines, median {statistics.median(times) * 1000:.1f} "
              f"ms, max {max(times) * 1000:.1f} ms over 20 runs")


if __name__ == "__main__":
    main()
