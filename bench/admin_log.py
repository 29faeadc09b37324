"""The gateway's admin log: what it costs to write, to carry in every inbox bundle, and to check
on the workbench.

    python -m bench.admin_log [ENTRIES]     (default: 1000, the window a bundle carries)

A real gateway database (SQLite, migrated) takes ENTRIES appends, one transaction each as the
admin page does; then the window is serialised as the inbox manifest carries it; then a vault
checks and keeps it twice: the first import (everything new) and the next one (the same window
again, nothing new: the usual case)."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from crypto.encoding import canonical_json


def main(argv: list[str]) -> int:
    from sqlalchemy.orm import Session

    from crypto.identity import ServerKey
    from crypto.kdf import TEST_PARAMS
    from dropbox_app.db import make_engine, session_factory, upgrade
    from dropbox_app.gateway import adminlog
    from policies import auditlog
    from workbench import db as wdb
    from workbench import gatewaylog, vault

    count = int(argv[0]) if argv else adminlog.WINDOW
    with tempfile.TemporaryDirectory(prefix="peluit-bench-adminlog-") as tmp:
        base = Path(tmp)
        url = f"sqlite:///{base / 'gateway.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        factory = session_factory(engine)
        t0 = time.perf_counter()
        for n in range(count):
            with factory() as db, db.begin():
                adminlog.record(db, "2026-11-23", "root", "card.enroll",
                                {"key_id": f"{n:032x}", "name": f"Auditor {n}",
                                 "fingerprint": "12345 " * 12})
        append = time.perf_counter() - t0
        t0 = time.perf_counter()
        with factory() as db:
            window = adminlog.for_bundle(db)
        size = len(canonical_json({"admin_log": window}))
        build = time.perf_counter() - t0
        engine.dispose()

        unlocked, _card = vault.init(base / "vault", "Lead", "correct horse battery staple",
                                     ServerKey.generate().card().to_bytes(), "0" * 32,
                                     params=TEST_PARAMS, today="2026-11-23")
        wengine = wdb.make_engine(unlocked.path)
        timings = []
        for _ in range(2):
            t0 = time.perf_counter()
            with Session(wengine) as session, session.begin():
                entries = gatewaylog.parse(window)
                outcome = gatewaylog.merge(session, entries, "2026-11-23")
            timings.append((time.perf_counter() - t0, len(outcome.new), outcome.problems))
        wengine.dispose()
        assert auditlog.verify_window(gatewaylog.parse(window)) == []

    print(f"admin log, {count} entries")
    print(f"  gateway append:       {append / count * 1000:.2f} ms per entry "
          f"(own transaction each, SQLite)")
    print(f"  window in a bundle:   {size / 1024:.0f} KiB of manifest, built in "
          f"{build * 1000:.0f} ms")
    for label, (secs, new, problems) in zip(("first import", "next import"), timings,
                                            strict=True):
        print(f"  workbench {label}: {secs * 1000:.0f} ms, {new} new, "
              f"{len(problems)} problem(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
