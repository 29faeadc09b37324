"""Throughput and peak memory of ``peluit workbench import`` on a large inbox bundle.

    python -m bench.workbench_import [--count 10000] [--size 100000] [--dir DIR]

Builds a vault (cheap argon2: the KDF is not what is measured) and an inbox bundle of COUNT
submissions (one report in ten, the rest files of about SIZE bytes of random data: about 1 GB
with the defaults), signed by a fake server key, the way the gateway writes it. Then imports it
in a fresh child process, which reports its wall time and its peak resident memory (before and
after, so the interpreter's own baseline is visible). A second import of the same bundle measures
the refusal path. The bundle is read from the page cache (it was just written); the vault's
files and database go to the disk with fsync, which is what bounds the import."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from crypto import bundle, envelope
from crypto.encoding import b64encode
from crypto.identity import ServerKey
from crypto.kdf import TEST_PARAMS
from peluit.ground.clock import Clock

PASS = "benchmark passphrase, not secret"
DEPLOYMENT = "b" * 32


def build(root: Path, count: int, size: int) -> tuple[Path, Path, int, int]:
    from nacl.public import PrivateKey

    from workbench import vault
    server = ServerKey.generate()
    unlocked, _ = vault.init(root / "vault", "Bench Lead", PASS, server.card().to_bytes(),
                             DEPLOYMENT, params=TEST_PARAMS)
    recipients = [unlocked.identity.box.public_key]
    members_dir = root / "members"
    members_dir.mkdir()
    members, entries, plaintext = [], [], 0
    reporter = PrivateKey.generate().public_key
    report = os.urandom(16).hex()
    blob = os.urandom(size + 4096)
    for i in range(count):
        sid = os.urandom(16).hex()
        if i % 10 == 0:
            report = os.urandom(16).hex()
            reporter = PrivateKey.generate().public_key
            kind = "report"
            body = json.dumps({"category": "corruption", "what": f"laporan {i}",
                               "how": "x" * 2000, "language": "id"}).encode()
            meta = {"v": 1, "kind": kind, "report": report, "submission": sid}
        else:
            kind = "file"
            start = i % 4096
            body = blob[start:start + size - (i % 1000)]
            meta = {"v": 1, "kind": kind, "report": report, "submission": sid,
                    "name": f"bukti-{i}.bin", "content_type": "application/octet-stream"}
        plaintext += len(body)
        path = members_dir / f"{sid}.env"
        path.write_bytes(envelope.seal_bytes(body, recipients, meta))
        members.append(bundle.member_for_file(path.name, str(path)))
        entries.append({"id": sid, "report": report, "reporter_key": b64encode(bytes(reporter)),
                        "kind": kind, "member": path.name, "day": Clock().today().isoformat()})
    manifest = bundle.make_manifest("inbox", DEPLOYMENT, server.signing, 1, members,
                                    {"submissions": entries})
    out = root / "inbox.bundle"
    with open(out, "wb") as f:
        bundle.write_bundle(f, manifest, server.signing,
                            lambda name: open(members_dir / name, "rb"))  # noqa: SIM115
    shutil.rmtree(members_dir)
    return root / "vault", out, out.stat().st_size, plaintext


def calibrate() -> tuple[float, float]:
    """MB/s of secretstream push and SHA-256 right now, to compare with limits.md (the machines
    are shared: a loaded machine shows here first)."""
    from nacl.bindings import (
        crypto_secretstream_xchacha20poly1305_init_push,
        crypto_secretstream_xchacha20poly1305_push,
        crypto_secretstream_xchacha20poly1305_state,
    )
    data = os.urandom(65536)
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_push(state, os.urandom(32))
    t0 = time.perf_counter()
    for _ in range(1000):
        crypto_secretstream_xchacha20poly1305_push(state, data, None, 0)
    push = 1000 * len(data) / (time.perf_counter() - t0) / 1e6
    h = hashlib.sha256()
    t0 = time.perf_counter()
    for _ in range(1000):
        h.update(data)
    sha = 1000 * len(data) / (time.perf_counter() - t0) / 1e6
    return push, sha


def child(vault_dir: str, bundle_path: str) -> None:
    """Runs in a fresh process: import once, then again (refused), report figures as JSON."""
    from workbench import vault
    from workbench.importer import READ_BUFFER, ImportRefused, import_bundle
    # Unlock with cheap argon2 (TEST_PARAMS): what is left is the vault's own checks.
    t_unlock = time.perf_counter()
    unlocked = vault.unlock(Path(vault_dir), "Bench Lead", PASS)
    t_unlock = time.perf_counter() - t_unlock
    usage = resource.getrusage(resource.RUSAGE_SELF)
    base, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    with open(bundle_path, "rb", buffering=READ_BUFFER) as src:
        result = import_bundle(unlocked, src)
    t1 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu0
    t2 = time.perf_counter()
    try:
        with open(bundle_path, "rb") as src:
            import_bundle(unlocked, src)
        refused = False
    except ImportRefused:
        refused = True
    t3 = time.perf_counter()
    push, sha = calibrate()
    # Unlock again with the submissions in the vault: the median of 11 (the machines are shared).
    times = []
    for _ in range(11):
        t4 = time.perf_counter()
        vault.unlock(Path(vault_dir), "Bench Lead", PASS)
        times.append(time.perf_counter() - t4)
    t_unlock_full = sorted(times)[len(times) // 2]
    print(json.dumps({"unlock_seconds": t_unlock, "unlock_full_seconds": t_unlock_full,
                      "seconds": t1 - t0, "cpu_seconds": cpu, "imported": result.imported,
                      "push_mbs": push, "sha_mbs": sha,
                      "baseline_kib": base, "peak_kib": peak, "replay_refused": refused,
                      "replay_seconds": t3 - t2}))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--dir", type=Path, default=None, help="where to work (default: a temp dir)")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    root = Path(tempfile.mkdtemp(prefix="peluit-bench-", dir=args.dir))
    try:
        t0 = time.perf_counter()
        vault_dir, bundle_path, bundle_bytes, plaintext = build(root, args.count, args.size)
        print(f"built {args.count:,} submissions: bundle {bundle_bytes / 1e6:,.0f} MB "
              f"({plaintext / 1e6:,.0f} MB plaintext) in {time.perf_counter() - t0:.1f} s")
        proc = subprocess.run([sys.executable, "-m", "bench.workbench_import", "--child",
                               str(vault_dir), str(bundle_path)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return 1
        fig = json.loads(proc.stdout.strip().splitlines()[-1])
        secs = fig["seconds"]
        print(f"import: {fig['imported']:,} submissions in {secs:.2f} s = "
              f"{bundle_bytes / secs / 1e6:,.0f} MB/s of bundle "
              f"({plaintext / secs / 1e6:,.0f} MB/s of plaintext: envelopes pad to whole "
              f"64 KiB chunks), {fig['imported'] / secs:,.0f} submissions/s")
        print(f"unlock (argon2id at TEST_PARAMS, so the vault's own work): empty vault "
              f"{fig['unlock_seconds'] * 1000:.1f} ms (first in the process), after the import "
              f"{fig['unlock_full_seconds'] * 1000:.1f} ms (median of 11)")
        print(f"import rate as a share of this run's rates: "
              f"{bundle_bytes / secs / 1e6 / fig['push_mbs']:.0%} of secretstream, "
              f"{bundle_bytes / secs / 1e6 / fig['sha_mbs']:.0%} of SHA-256")
        print(f"CPU time of the import (both threads): {fig['cpu_seconds']:.2f} s = "
              f"{bundle_bytes / fig['cpu_seconds'] / 1e6:,.0f} MB of bundle per CPU-second")
        print(f"this machine right after the import: secretstream {fig['push_mbs']:,.0f} MB/s, "
              f"SHA-256 {fig['sha_mbs']:,.0f} MB/s (limits.md, idle: ~1,100 and ~1,570)")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"peak RSS of the importing process: {fig['peak_kib'] / 1024:,.0f} MiB "
              f"(interpreter and libraries before the import: {fig['baseline_kib'] / 1024:,.0f}"
              " MiB)")
        print(f"second import of the same bundle refused: {fig['replay_refused']} "
              f"({fig['replay_seconds'] * 1000:.0f} ms)")
        files = sum(f.stat().st_size for f in (vault_dir / "files").iterdir())
        print(f"vault: {files / 1e6:,.0f} MB of encrypted files, database "
              f"{(vault_dir / 'workbench.sqlite').stat().st_size / 1e6:,.1f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
