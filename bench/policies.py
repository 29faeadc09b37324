"""Compliance tools at a national channel's volume.

    python -m bench.policies [--cases 100000] [--entries 100000] [--envelopes 10000]

* statistics: load a workbench export of N cases (JSON), compute the report with suppression,
  render HTML and CSV;
* audit log: verify a chain of N entries (hash every entry, check every link) from a JSON Lines
  export, and sign and check a checkpoint;
* the STORE-1 control: check N small envelopes in a store directory for well-formedness.

Figures vary with the machine and its neighbours: each is the best of three runs."""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.envelope import check_well_formed, seal_bytes
from policies import auditlog, statistics

CATEGORIES = ("corruption", "pungli", "gratification", "abuse_of_authority", "public_service",
              "personnel", "land", "general")
CHANNELS = ("web", "letter", "copy", "email", "walk_in", "phone", "lapor", "social_media")
STATES = ("intake", "review", "verification", "forwarded", "investigation", "closed")
OUTCOMES = ("substantiated", "not_substantiated", "archived", "forwarded", "duplicate")


def _best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _export(n: int) -> dict:  # type: ignore[type-arg]
    cases = []
    for i in range(n):
        closed = STATES[i % len(STATES)] == "closed"
        cases.append({
            "category": CATEGORIES[(i * 7) % len(CATEGORIES)],
            "channel": CHANNELS[(i * 3) % len(CHANNELS)],
            "status": STATES[i % len(STATES)],
            "outcome": OUTCOMES[i % len(OUTCOMES)] if closed else None,
            "received": f"2026-{1 + i % 12:02d}",
            "closed": f"2026-{1 + i % 12:02d}" if closed else None,
            "deadlines": {"acknowledgment": ("met", "missed")[i % 9 == 0],
                          "verification": ("met", "missed", "open")[i % 3],
                          "completion": "met" if closed else "open"},
            "working_days_to_close": 20 + i % 60 if closed else None,
            "policy_improvement": i % 97 == 0, "retaliation": i % 211 == 0})
    return {"format": "peluit-stats-export", "version": 1, "cases": cases}


def bench_statistics(n: int, tmp: Path) -> None:
    path = tmp / "export.json"
    path.write_text(json.dumps(_export(n)))
    records: list = []  # type: ignore[type-arg]

    def load() -> None:
        records[:] = statistics.load_export(path)

    t_load = _best(load)
    t_compute = _best(lambda: statistics.compute(records))
    report = statistics.compute(records)
    t_render = _best(lambda: (statistics.to_html(report, "id"), statistics.to_csv(report)))
    print(f"statistics, {n} cases: load+validate {t_load * 1000:.0f} ms, compute "
          f"{t_compute * 1000:.0f} ms, HTML+CSV {t_render * 1000:.1f} ms")


def bench_auditlog(n: int, tmp: Path) -> None:
    entries, prev = [], None
    for i in range(n):
        prev = auditlog.append(prev, at="2026-11-23T10:00Z", actor="a" * 32,
                               action="case.note", case=f"{i % 5000:032x}", details={"n": i})
        entries.append(prev)
    path = tmp / "audit.jsonl"
    path.write_bytes(b"".join(auditlog.export_lines(entries)))
    loaded: list = []  # type: ignore[type-arg]

    def load() -> None:
        loaded[:] = auditlog.load_export(path)

    t_load = _best(load)
    key = SigningKey.generate()
    cp = auditlog.sign_checkpoint(loaded[-1], key, signer="bench", at="2026-11-23")
    t_verify = _best(lambda: auditlog.verify(loaded, [cp], [key.verify_key]))
    assert auditlog.verify(loaded, [cp], [key.verify_key]) == []
    print(f"audit log, {n} entries ({path.stat().st_size / 1e6:.1f} MB): load "
          f"{t_load * 1000:.0f} ms, verify with a checkpoint {t_verify * 1000:.0f} ms "
          f"({n / t_verify:,.0f} entries/s)")


def bench_store(n: int, tmp: Path) -> None:
    store = tmp / "store"
    store.mkdir()
    recipients = [PrivateKey.generate().public_key for _ in range(2)]
    blob = seal_bytes(b"x" * 1000, recipients, {"v": 1, "kind": "message"})
    for _ in range(n):
        (store / f"{secrets.token_hex(16)}.env").write_bytes(blob)

    def check() -> None:
        for p in store.iterdir():
            with p.open("rb") as f:
                check_well_formed(f, p.stat().st_size)

    t = _best(check)
    print(f"STORE-1, {n} envelopes: {t * 1000:.0f} ms ({n / t:,.0f} envelopes/s)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--envelopes", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_statistics(args.cases, Path(tmp))
        bench_auditlog(args.entries, Path(tmp))
        bench_store(args.envelopes, Path(tmp))


if __name__ == "__main__":
    main()
