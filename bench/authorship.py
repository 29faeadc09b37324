"""Proof of authorship: what each step costs (crypto/authorship.py, docs/crypto.md §13).

    python -m bench.authorship [--n 2000]

* derive: the per-report authorship key from a reporter's X25519 secret (one keyed BLAKE2b and
  an Ed25519 key pair; no argon2id);
* attest: the workbench signs an attestation;
* sign: the reporter's session signs the statement and armours it;
* qr: the statement as an inline SVG QR code (segno), as the statement page makes it;
* verify: parse the card and the text and check both signatures (what verify-authorship does);
* cli: `peluit verify-authorship` as a verifier runs it, a fresh process (best of three).

Figures vary with the machine and its neighbours: each is the best of three runs."""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import authorship


def _best(fn, n: int) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.authorship")
    parser.add_argument("--n", type=int, default=2000)
    n = parser.parse_args().n
    deployment = secrets.token_hex(16)
    dk = SigningKey.generate()
    card = authorship.AuthorshipCard.make(dk, deployment, "Inspektorat Bench", "2026-12-02")
    reporter = PrivateKey.generate()
    report = secrets.token_hex(16)
    author = authorship.author_key(reporter, report)
    att = authorship.Attestation.issue(dk, deployment, report, "2026-11-20", "corruption",
                                       author.verify_key, "2026-12-02")
    text = authorship.Statement.sign(att, author, "untuk LPSK, 3 Maret 2027").armor()
    card_bytes = card.to_bytes()
    rows = [
        ("derive", _best(lambda: authorship.author_key(reporter, report), n)),
        ("attest", _best(lambda: authorship.Attestation.issue(
            dk, deployment, report, "2026-11-20", "corruption", author.verify_key,
            "2026-12-02"), n)),
        ("sign", _best(lambda: authorship.Statement.sign(att, author, "untuk LPSK").armor(), n)),
        ("verify", _best(lambda: authorship.verify_text(text, card_bytes), n)),
    ]
    from dropbox_app.reporter.authorship import qr_svg

    rows.append(("qr", _best(lambda: qr_svg(text), max(1, n // 100))))
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "s.txt").write_text(text)
        (Path(tmp) / "c.json").write_bytes(card_bytes)
        argv = [sys.executable, "-m", "peluit", "verify-authorship", str(Path(tmp) / "s.txt"),
                "--card", str(Path(tmp) / "c.json"), "--language", "en"]
        rows.append(("cli", _best(lambda: subprocess.run(argv, check=True, capture_output=True),
                                  1)))
    print(f"statement: {len(text)} characters of text; card {len(card_bytes)} bytes")
    for name, seconds in rows:
        print(f"{name:8s} {seconds * 1000:9.3f} ms")


if __name__ == "__main__":
    main()
