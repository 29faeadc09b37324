"""A real reporter's codename login while guessers post wrong codenames at full rate.

    python -m bench.login_flood [--attackers 32] [--seconds 40]

``peluit serve reporter`` (production argon2id: t=3, m=64 MiB) runs in its own process with one
reporter in its database. ``--attackers`` threads post wrong (well-formed) codenames back to back
for ``--seconds``. Five seconds in, when the budget for failed logins (dropbox_app/loginbudget.py)
is long spent, the reporter logs in, pressing reload after a "busy" page as a person would.
Reported: how long the reporter took, the guesses the server answered per minute (before the
budget: as many as the key derivation allows), and the "busy" answers."""

from __future__ import annotations

import argparse
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.reporter_login import _reporters
from tests.fixtures.liveserver import Client
from tests.fixtures.liveserver import start_server as start


def _give_a_report(cfg_path: Path) -> None:
    """The reporter as of today, with a report (a reporter row without one is purged after a
    week, and one from 2026-01-01 is older than that)."""
    from dropbox_app.config import load
    from dropbox_app.db import make_engine, session_factory
    from dropbox_app.models import Report, Reporter, new_id
    from peluit.ground.clock import Clock

    cfg = load(cfg_path)
    engine = make_engine(cfg.database_url)
    day = Clock().day()
    with session_factory(engine)() as db, db.begin():
        for reporter in db.query(Reporter):
            reporter.created_day = day
            db.add(Report(id=new_id(), reporter_id=reporter.id, status="received",
                          created_day=day))
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--attackers", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=40.0)
    args = ap.parse_args()
    from crypto import codename as codenames

    with TemporaryDirectory(prefix="peluit-bench-") as tmp:
        server, cfg, port = start(Path(tmp))
        try:
            [codename] = _reporters(cfg, 1)
            _give_a_report(cfg)
            stop = threading.Event()
            answers: list[tuple[float, int]] = []

            def guess() -> None:
                client = Client(port)
                token = client.csrf
                while not stop.is_set():
                    status, _ = client.post_form("/login", {
                        "csrf_token": token, "codename": str(codenames.generate("en"))})
                    answers.append((time.monotonic(), status))

            threads = [threading.Thread(target=guess) for _ in range(args.attackers)]
            t0 = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(5)
            real = Client(port)
            token = real.csrf
            r0 = time.monotonic()
            tries = 0
            while True:
                tries += 1
                status, _ = real.post_form("/login", {"csrf_token": token, "codename": codename})
                if status != 503:
                    break
                time.sleep(0.2)
            took = time.monotonic() - r0
            time.sleep(max(0.0, args.seconds - (time.monotonic() - t0)))
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
        finally:
            server.stop()
    first_minute = [s for at, s in answers if at - t0 < 5]
    later = [(at, s) for at, s in answers if at - t0 >= 5]
    later_span = max(1e-9, elapsed - 5)
    print(f"{args.attackers} guessing threads for {elapsed:.0f} s")
    print(f"reporter: status {status} after {took:.1f} s ({tries} tries)")
    print(f"guesses answered in the first 5 s: {first_minute.count(400)}; after: "
          f"{sum(1 for _, s in later if s == 400) / later_span * 60:.0f} a minute; "
          f"'busy' answers {sum(1 for _, s in answers if s == 503)}, "
          f"other {sorted({s for _, s in answers} - {400, 503})}")


if __name__ == "__main__":
    main()
