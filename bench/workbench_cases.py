"""Case management at a national channel's volume: 100,000 cases in a real vault.

Measures, in one process:
* filling the vault (bulk insert; every content column encrypted as the app does),
* unlocking: the passphrase (argon2id at the default parameters) and building the in-memory
  search index from the decrypted cases, and the process's memory afterwards,
* search and list pages through the case service (p50 / p95 / max over repeated queries),
* the same pages through the real WSGI app (WebTest), templates included,
* the duplicate check when a new complaint is taken in.

``python -m bench.workbench_cases [--cases N] [--repeat R]``. Synthetic Indonesian text: words
of the codename list drawn with a Zipf-like law, so common words match most cases (the hard case
for search) and rare ones a handful."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random  # synthetic benchmark data only; nothing secret comes from it
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

PASS = "bench passphrase that is long enough"
CHANNELS = ("web", "letter", "copy", "email", "walk_in", "phone", "lapor")
STATES = ("intake", "review", "decision", "verification", "forwarded", "investigation", "closed")


def words() -> list[str]:
    text = resources.files("crypto").joinpath("wordlists/id.txt").read_text("utf-8")
    return [w for w in text.split() if w.isalpha()][:6000]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def fmt(name: str, xs: list[float], cpu: list[float] | None = None) -> str:
    ms = [x * 1000 for x in xs]
    line = (f"  {name:<44} p50 {statistics.median(ms):7.1f} ms   p95 {pct(ms, 95):7.1f} ms"
            f"   max {max(ms):7.1f} ms")
    if cpu:
        line += f"   cpu p95 {pct([c * 1000 for c in cpu], 95):6.1f} ms"
    return line


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(vault_path: Path, key: bytes, n: int, rng: random.Random, vocab: list[str]) -> None:
    from policies.calendar import WorkingCalendar
    from workbench import db
    from workbench.cases.models import Case
    from workbench.cases.workflow import COARSE, DEFAULT_CATEGORIES, State

    cal = WorkingCalendar()
    cats = list(DEFAULT_CATEGORIES)
    cum, total = [], 0.0
    for i in range(len(vocab)):
        total += 1 / (i + 1)
        cum.append(total)
    start = dt.date(2024, 1, 1)
    engine = db.make_engine(vault_path)
    now = dt.datetime(2026, 11, 23, 3, 0)
    with db.unlocked(key), Session(engine) as session:
        rows = []
        for i in range(1, n + 1):
            day = start + dt.timedelta(days=int(i * 1000 / n))
            due = cal.due_dates(day)
            text = lambda k: " ".join(rng.choices(vocab, cum_weights=cum, k=k))  # noqa: E731
            content = {"case": i, "what": text(60), "who_name": text(2), "who_unit": text(3),
                       "where": text(3), "when": text(2), "how": text(25), "evidence": text(8)}
            state = STATES[i % len(STATES)]
            rows.append({"id": i, "number": f"{day.year}-{i:06d}", "channel": CHANNELS[i % 7],
                         "state": state, "coarse": COARSE[State(state)].value,
                         "category": cats[i % len(cats)], "received_day": day,
                         "due_acknowledge": due.acknowledge, "due_verify": due.verify,
                         "due_complete": due.complete, "eu_acknowledge": due.eu_acknowledge,
                         "eu_feedback": due.eu_feedback, "content": content,
                         "policy_improvement": False, "created_at": now, "updated_at": now,
                         "rev": i})
            if len(rows) == 5000:
                session.execute(insert(Case), rows)
                rows = []
        if rows:
            session.execute(insert(Case), rows)
        session.commit()
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workbench_cases")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)

    from crypto.identity import ServerKey
    from crypto.kdf import DEFAULT_PARAMS
    from peluit.ground.clock import FixedClock
    from policies.calendar import WorkingCalendar
    from workbench import db, vault
    from workbench.cases.search import CaseSearch
    from workbench.cases.service import CaseService, Filters, User, sketch_key

    rng = random.Random(20261123)
    vocab = words()
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as tmp:
        path = Path(tmp) / "vault"
        unlocked, _ = vault.init(path, "Bench Lead", PASS, ServerKey.generate().card().to_bytes(),
                                 os.urandom(16).hex(), params=DEFAULT_PARAMS, today="2026-11-23")
        engine = db.make_engine(path)
        db.create_schema(engine)
        engine.dispose()
        t = time.perf_counter()
        fill(path, unlocked.vault_key, args.cases, rng, vocab)
        print(f"filled {args.cases} cases in {time.perf_counter() - t:.1f} s "
              f"(database {os.path.getsize(path / db.DB_FILE) / 2**20:.0f} MiB)")

        rss0 = rss_mib()
        t = time.perf_counter()
        unlocked = vault.unlock(path, unlocked.key_id, PASS)
        t_pass = time.perf_counter() - t
        engine = db.make_engine(path)
        search = CaseSearch()
        t, c = time.perf_counter(), time.process_time()
        with db.unlocked(unlocked.vault_key), Session(engine) as session:
            search.catalog.refresh(session)
            t_cat, c_cat = time.perf_counter() - t, time.process_time() - c
            search.refresh(session)
        t_index, c_index = time.perf_counter() - t - t_cat, time.process_time() - c - c_cat
        print(f"unlock: passphrase (argon2id default) {t_pass * 1000:.0f} ms; "
              f"list catalog {t_cat:.1f} s (cpu {c_cat:.1f} s); "
              f"search index of {args.cases} cases {t_index:.1f} s (cpu {c_index:.1f} s), "
              f"{len(search.index._postings)} distinct words; "
              f"max RSS {rss0:.0f} → {rss_mib():.0f} MiB")
        print(f"  (load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
              "wall times grow with it, cpu times much less)")

        user = User(unlocked.key_id, "Bench Lead", "lead")
        clock = FixedClock(dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.UTC))
        cal = WorkingCalendar()
        common, mid, rare = vocab[0], vocab[200], vocab[5000]
        queries = {
            f"search: one common word ({common})": Filters(q=common),
            f"search: one mid-frequency word ({mid})": Filters(q=mid),
            f"search: one rare word ({rare})": Filters(q=rare),
            "search: three words": Filters(q=f"{vocab[3]} {vocab[40]} {vocab[300]}"),
            "search: prefix of 3 letters": Filters(q=vocab[7][:3]),
            "search: common word + channel + state": Filters(q=common, channel="letter",
                                                            state="review"),
            "list: page 1, no filter": Filters(),
            "list: page 1000 (deep)": Filters(page=1000, per_page=50),
            "list: state=review": Filters(state="review"),
            "list: category + channel": Filters(category="corruption", channel="email"),
            "list: overdue": Filters(deadline="overdue"),
            "list: due soon": Filters(deadline="due_soon"),
        }
        print("through the service (decrypting the 50 summaries of each page):")
        with db.unlocked(unlocked.vault_key), Session(engine) as session:
            svc = CaseService(session, search, cal, clock,
                              sketch_key(unlocked.vault_key))
            for name, f in queries.items():
                def one(f: Filters = f) -> object:
                    session.expunge_all()
                    page = svc.list_cases(user, f)
                    for c in page.items:
                        svc.case_clock(c)
                    return page
                wall, cpu = timed(one, args.repeat)
                print(fmt(name, wall, cpu) + f"   ({svc.list_cases(user, f).total} matches)")
            # Intake with the duplicate check (no sketches were bulk-loaded, so this is the
            # cost of hashing and one indexed lookup, not of comparing many candidates).
            times = []
            for i in range(20):
                t = time.perf_counter()
                svc.intake_offline(user, "letter", dt.date(2026, 11, 20),
                                   {"what": " ".join(rng.choices(vocab, k=80)) + f" {i}"})
                session.flush()
                times.append(time.perf_counter() - t)
            print(fmt("intake of one complaint (sketch, audit, index)", times))
            session.rollback()
        engine.dispose()

        print("through the WSGI app (WebTest; routing, permission, template):")
        import webtest

        from peluit.ground.clock import Clock
        from peluit.ground.services import replace_service
        from workbench.web import make_app
        app = make_app(path, demo_not_air_gapped=True)
        replace_service(app, clock, Clock)
        client = webtest.TestApp(app)
        form = client.get("/login").forms[0]
        form["auditor"] = unlocked.key_id
        form["passphrase"] = PASS
        form.submit(status=303)
        t = time.perf_counter()
        client.get("/cases")  # the catalog; the text index builds in a background thread
        print(f"  first list page after login                  {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        client.get(f"/cases?q={rare}")  # waits for the background build to finish
        print(f"  first search after login (waits for the index) {time.perf_counter() - t:.1f} s")
        pages = {"GET /cases": "/cases", f"GET /cases?q={common}": f"/cases?q={common}",
                 f"GET /cases?q={rare}": f"/cases?q={rare}",
                 "GET /cases?page=500": "/cases?page=500",
                 "GET /cases?state=review&channel=email": "/cases?state=review&channel=email",
                 "GET /cases/deadlines": "/cases/deadlines", "GET /cases/1234": "/cases/1234"}
        for name, url in pages.items():
            wall, cpu = timed(lambda url=url: client.get(url), args.repeat)
            print(fmt(name, wall, cpu))
        print(f"max RSS at the end: {rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
