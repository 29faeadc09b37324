"""Envelope throughput and memory, and codename-to-keys latency (docs/crypto.md §3, §5).

    python -m bench.crypto_envelope [--big-mib 500] [--runs 3]

* the cipher alone: libsodium secretstream push of 64 KiB chunks in memory (the ceiling);
* envelope encrypt and decrypt, file to file under $TMPDIR (page cache, no fsync: the code and
  the kernel's copying, not the disk), for 1 KB, 1 MB and 500 MiB plaintexts, and for the large
  size also without file I/O (synthetic source, discarding sink): the envelope code alone;
* peak memory of the 500 MiB case, each direction in a fresh child process: its peak resident
  set (VmHWM) next to that of a child that only imports the library, and the peak of Python
  allocations (tracemalloc) during the operation;
* codename -> lookup id and key pair at the default argon2id parameters (t=3, m=64 MiB, p=1);
* recipient slots (``--slots-only`` runs just this): sealing a small envelope with 16 slots
  (version 2) against clear key ids (version 1), and opening one by trying the slots: the
  reader's slot first, last, and an envelope sealed to someone else (every slot tried) with
  1 and 10 keys offered.

Figures vary with the machine and its neighbours: report them with the spread."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nacl.bindings import (
    crypto_secretstream_xchacha20poly1305_init_push,
    crypto_secretstream_xchacha20poly1305_push,
    crypto_secretstream_xchacha20poly1305_state,
)
from nacl.public import PrivateKey

from crypto import codename, envelope, kdf

MB = 1_000_000
MIB = 1 << 20
META = {"v": 1, "kind": "file", "report": "0" * 32, "submission": "1" * 32,
        "name": "bukti.bin", "content_type": "application/octet-stream"}


def _random_file(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        block = os.urandom(min(size, 4 * MIB))   # repeated: the cipher does not care
        while left:
            f.write(block[:min(left, len(block))])
            left -= min(left, len(block))


class _Clock:
    """Wall time and this process's CPU time: on a shared machine the CPU figure is the one
    that says what the code costs; the wall figure what a user waits."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def cipher_alone(total: int) -> tuple[float, float]:
    state = crypto_secretstream_xchacha20poly1305_state()
    crypto_secretstream_xchacha20poly1305_init_push(state, os.urandom(32))
    chunk = os.urandom(65536)
    n = total // len(chunk)
    with _Clock() as c:
        for _ in range(n):
            crypto_secretstream_xchacha20poly1305_push(state, chunk)
    return n * len(chunk) / c.wall, n * len(chunk) / c.cpu


def _encrypt(src: Path, dst: Path, pk) -> _Clock:
    with _Clock() as c, open(src, "rb") as f, open(dst, "wb") as out:
        envelope.seal_stream(f, out, [pk], META)
    return c


def _decrypt(src: Path, dst: Path, sk) -> _Clock:
    with _Clock() as c, open(src, "rb") as f, open(dst, "wb") as out:
        envelope.open_stream(f, out, [sk])
    return c


class _Repeat(io.RawIOBase):
    """A ``size``-byte source that repeats one random block: no file, no memory growth."""

    def __init__(self, size: int):
        self._left, self._block = size, os.urandom(MIB)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = min(self._left, MIB if n is None or n < 0 else n)
        self._left -= n
        return self._block if n == MIB else self._block[:n]


class _Null(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        return len(b)


def no_io(size: int, runs: int) -> tuple[float, float]:
    """The envelope code alone, without the kernel's file I/O: median CPU seconds to encrypt
    ``size`` bytes from a synthetic source into a discarding sink, and to decrypt as much (a
    64 MiB envelope held in memory, opened repeatedly, into a discarding sink)."""
    sk = PrivateKey.generate()
    enc, dec = [], []
    for _ in range(runs):
        with _Clock() as c:
            envelope.seal_stream(_Repeat(size), _Null(), [sk.public_key], META)
        enc.append(c.cpu)
    # for decryption, one in-memory envelope of 64 MiB opened repeatedly stands for the stream
    blob = envelope.seal_bytes(os.urandom(64 * MIB), [sk.public_key], META)
    for _ in range(runs):
        with _Clock() as c:
            for _ in range(max(1, size // (64 * MIB))):
                envelope.open_stream(io.BytesIO(blob), _Null(), [sk])
        dec.append(c.cpu * size / (max(1, size // (64 * MIB)) * 64 * MIB))
    return statistics.median(enc), statistics.median(dec)


def throughput(tmp: Path, size: int, repeat: int, runs: int) -> dict[str, float]:
    """Median seconds per envelope over ``runs`` runs of ``repeat`` envelopes each."""
    sk = PrivateKey.generate()
    src, env, back = tmp / "plain", tmp / "env", tmp / "back"
    _random_file(src, size)
    r: dict[str, list[float]] = {k: [] for k in ("enc", "enc_cpu", "dec", "dec_cpu")}
    for _ in range(runs):
        encs = [_encrypt(src, env, sk.public_key) for _ in range(repeat)]
        decs = [_decrypt(env, back, sk) for _ in range(repeat)]
        r["enc"].append(sum(c.wall for c in encs) / repeat)
        r["enc_cpu"].append(sum(c.cpu for c in encs) / repeat)
        r["dec"].append(sum(c.wall for c in decs) / repeat)
        r["dec_cpu"].append(sum(c.cpu for c in decs) / repeat)
    if size <= 16 * MIB:
        assert back.read_bytes() == src.read_bytes()
    assert back.stat().st_size == size
    out = {k: statistics.median(v) for k, v in r.items()}
    out.update(size=size, envelope=env.stat().st_size)
    return out


_CHILD = """
import resource, sys, time, tracemalloc
from pathlib import Path
from nacl.public import PrivateKey
from crypto import envelope
mode, src, dst, key = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
sk = PrivateKey(bytes.fromhex(key))
tracemalloc.start()
with open(src, "rb") as f, open(dst, "wb") as out:
    if mode == "encrypt":
        envelope.seal_stream(f, out, [sk.public_key], {"v": 1})
    elif mode == "decrypt":
        envelope.open_stream(f, out, [sk])
peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
# VmHWM: this process's own peak resident set. (ru_maxrss seen by the parent is not: Linux
# carries the parent's resident size at fork over into the child's figure.)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(hwm * 1024, peak)
"""


def child_memory(mode: str, src: Path, dst: Path, sk: PrivateKey) -> tuple[int, int]:
    """(peak resident set, tracemalloc peak), in bytes, of a fresh child doing ``mode``."""
    out = subprocess.run([sys.executable, "-c", _CHILD, mode, str(src), str(dst),
                          bytes(sk).hex()], capture_output=True, check=True,
                         cwd=Path(__file__).resolve().parent.parent).stdout
    hwm, peak = out.split()
    return int(hwm), int(peak)


def codename_latency(runs: int) -> list[float]:
    salt = os.urandom(32)
    typed = str(codename.generate("en"))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        kdf.reporter_keys(codename.normalise(typed), salt, kdf.DEFAULT_PARAMS)
        times.append(time.perf_counter() - t)
    return times


def _per_call(fn, n: int) -> float:
    """Median CPU seconds per call over five batches of ``n`` calls."""
    times = []
    for _ in range(5):
        with _Clock() as c:
            for _ in range(n):
                fn()
        times.append(c.cpu / n)
    return statistics.median(times)


def slots(n: int) -> None:
    sk = PrivateKey.generate()
    others = [PrivateKey.generate() for _ in range(10)]
    print(f"recipient slots ({envelope.DEFAULT_SLOTS} per envelope), 1 KB plaintext, "
          f"CPU per envelope, median of 5 x {n}:")
    data = os.urandom(1000)
    seal2 = _per_call(lambda: envelope.seal_bytes(data, [sk.public_key], META), n)
    seal1 = _per_call(lambda: envelope.seal_bytes(data, [sk.public_key], META,
                                                  clear_recipients=True), n)
    print(f"  seal, 1 recipient + 15 dummies (v2): {seal2 * 1e3:6.2f} ms"
          f"   clear key id (v1): {seal1 * 1e3:6.2f} ms")
    blobs = [envelope.seal_bytes(data, [sk.public_key], META) for _ in range(64)]

    def place(blob: bytes) -> int:
        _header, boxes = envelope.read_header(io.BytesIO(blob))
        for i, box in enumerate(boxes):
            try:
                envelope._try_slots([box], [sk])
                return i
            except envelope.NotARecipientError:
                continue
        raise AssertionError("not sealed to sk")

    first, last = min(blobs, key=place), max(blobs, key=place)
    v1 = envelope.seal_bytes(data, [sk.public_key], META, clear_recipients=True)
    stranger = envelope.seal_bytes(data, [PrivateKey.generate().public_key], META)
    for label, blob, keys in (
            (f"open, own slot at {place(first) + 1}", first, [sk]),
            (f"open, own slot at {place(last) + 1}", last, [sk]),
            ("open, clear key id (v1)", v1, [sk]),
            ("not a recipient, 1 key", stranger, [sk]),
            ("not a recipient, 10 keys", stranger, others)):
        def attempt(blob=blob, keys=keys):
            with contextlib.suppress(envelope.NotARecipientError):
                envelope.open_bytes(blob, keys)
        print(f"  {label:<28} {_per_call(attempt, n) * 1e3:6.2f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big-mib", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--slots-only", action="store_true")
    args = ap.parse_args(argv)
    if args.slots_only:
        slots(50)
        return 0

    ceilings = [cipher_alone(256 * MIB) for _ in range(args.runs)]
    ceiling = statistics.median(c[0] for c in ceilings)
    ceiling_cpu = statistics.median(c[1] for c in ceilings)
    print(f"cipher alone (secretstream push, 64 KiB chunks): {ceiling / MB:,.0f} MB/s wall, "
          f"{ceiling_cpu / MB:,.0f} MB/s per CPU second")
    print()
    print("plaintext      envelope   encrypt wall / CPU    decrypt wall / CPU"
          "   % of cipher (CPU) enc / dec")
    with tempfile.TemporaryDirectory(prefix="peluit-bench-") as d:
        tmp = Path(d)
        cases = [(1000, 200), (MB, 20), (args.big_mib * MIB, 1)]
        for size, repeat in cases:
            r = throughput(tmp, size, repeat, args.runs)
            label = f"{size // MIB:,} MiB" if size >= 10 * MIB else f"{size:,} B"
            if size < MB:
                print(f"{label:<12} {r['envelope']:>10,}   {r['enc'] * 1e3:6.2f} / "
                      f"{r['enc_cpu'] * 1e3:5.2f} ms    {r['dec'] * 1e3:6.2f} / "
                      f"{r['dec_cpu'] * 1e3:5.2f} ms   (per envelope)")
                continue
            mbs = {k: size / r[k] / MB for k in ("enc", "enc_cpu", "dec", "dec_cpu")}
            print(f"{label:<12} {r['envelope']:>10,}   {mbs['enc']:5,.0f} / {mbs['enc_cpu']:5,.0f}"
                  f" MB/s   {mbs['dec']:5,.0f} / {mbs['dec_cpu']:5,.0f} MB/s"
                  f"   {100 * mbs['enc_cpu'] * MB / ceiling_cpu:5.0f}% /"
                  f" {100 * mbs['dec_cpu'] * MB / ceiling_cpu:4.0f}%")

        big = args.big_mib * MIB
        enc_s, dec_s = no_io(big, args.runs)
        print(f"{'  no file I/O':<23}   {'':>5}   {big / enc_s / MB:5,.0f} MB/s   {'':>5}   "
              f"{big / dec_s / MB:5,.0f} MB/s   {100 * big / enc_s / ceiling_cpu:5.0f}% /"
              f" {100 * big / dec_s / ceiling_cpu:4.0f}%   (envelope code alone, CPU)")
        print()
        sk = PrivateKey.generate()
        src, env, back = tmp / "plain", tmp / "env", tmp / "back"
        _random_file(src, big)
        base_rss, _ = child_memory("none", src, env, sk)
        enc_rss, enc_py = child_memory("encrypt", src, env, sk)
        dec_rss, dec_py = child_memory("decrypt", env, back, sk)
        print(f"peak memory, {args.big_mib} MiB, fresh child process each:")
        print(f"  child that only imports:  peak RSS {base_rss / MIB:6.1f} MiB")
        print(f"  encrypt:                  peak RSS {enc_rss / MIB:6.1f} MiB"
              f"   Python allocations peak {enc_py / MIB:5.2f} MiB")
        print(f"  decrypt:                  peak RSS {dec_rss / MIB:6.1f} MiB"
              f"   Python allocations peak {dec_py / MIB:5.2f} MiB")

    print()
    times = codename_latency(max(5, args.runs * 2))
    p = kdf.DEFAULT_PARAMS
    print(f"codename -> lookup id + X25519 keys (argon2id t={p.time_cost}, "
          f"m={p.memory_kib // 1024} MiB, p={p.parallelism}): median "
          f"{statistics.median(times) * 1e3:.0f} ms, min {min(times) * 1e3:.0f} ms, "
          f"max {max(times) * 1e3:.0f} ms over {len(times)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
