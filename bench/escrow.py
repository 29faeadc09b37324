"""Identity in escrow: what a deposit costs (docs/crypto.md §12).

    python -m bench.escrow [--runs 200]

For 1, 3, 5 and 16 custodians (k = 1 and k = n/2 + 1, with and without approval shares): the
size of the deposit document and of the envelope that carries it next to a short message's (a
seized server must not tell them apart: both one chunk), the time to seal a deposit (in the
reporter app's request) and to open it (on the workbench, with k custodians). Medians and the
spread over ``--runs`` repetitions."""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import time

from nacl.public import PrivateKey

from crypto import envelope, escrow
from crypto.identity import CustodianIdentity

IDENTITY = {"name": "Siti Rahma Wulandari", "nip": "198703122010012001",
            "unit": "Biro Keuangan dan Barang Milik Negara", "contact": "Signal 0812-0000-1111"}


def _timed(fn, runs: int) -> tuple[float, float, float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[len(out) // 10], out[-1 - len(out) // 10]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    auditors = [PrivateKey.generate().public_key for _ in range(3)]
    message = envelope.seal_bytes(json.dumps({"text": "x" * 200, "in_reply_to": None}).encode(),
                                  auditors, {"v": 1, "kind": "message"})
    print(f"short message envelope: {len(message):,} bytes")
    print("custodians  k  approval  document  envelope   seal ms (p10-p90)   open ms (p10-p90)")
    for n in (1, 3, 5, 16):
        people = [CustodianIdentity.generate(f"K{i}") for i in range(n)]
        cards = [p.card() for p in people]
        for k, approval in ((1, None), (n // 2 + 1, n // 2 + 1)):
            rule = escrow.Rule(k, approval)
            reporter = PrivateKey.generate()
            dep, rep = secrets.token_hex(16), secrets.token_hex(16)

            def seal(dep=dep, rep=rep, rule=rule, reporter=reporter, cards=cards):
                return escrow.seal_deposit(IDENTITY, deposit_id=dep, report_id=rep,
                                           reporter_secret=reporter, custodians=cards,
                                           rule=rule)
            doc = seal()
            env = envelope.seal_bytes(doc, auditors, {"v": 1, "kind": "deposit"})
            release = escrow.release_key(reporter, dep)

            def opened(doc=doc, rep=rep, reporter=reporter, k=k, people=people,
                       release=release):
                return escrow.open_deposit(doc, report_id=rep,
                                           reporter_key=bytes(reporter.public_key),
                                           custodians=people[:k], release=release)
            assert opened() == IDENTITY
            s, o = _timed(seal, args.runs), _timed(opened, args.runs)
            print(f"{n:10}  {k:2}  {approval or '-'!s:>8}  {len(doc):8,}  {len(env):8,}"
                  f"   {s[0]:6.2f} ({s[1]:.2f}-{s[2]:.2f})   {o[0]:6.2f} ({o[1]:.2f}-{o[2]:.2f})")


if __name__ == "__main__":
    main()
