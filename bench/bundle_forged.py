"""What a forged bundle costs its reader: verify before parse (crypto/bundle.py).

    python -m bench.bundle_forged [ENTRIES] [KEYS]   (defaults: 250000 entries, 1 and 10 keys)

A manifest of ENTRIES member entries (canonical JSON, naming the pinned server as sender, about
130 bytes an entry; 250,000 entries ≈ 32 MiB, the format's cap) is signed by a key nobody
trusts. The reader refuses it; the figures are the time and the Python memory peak of that
refusal with 1 and KEYS trusted keys, next to what parsing those bytes costs (what a reader
that parses first, as before, spent on every forgery), and the SHA-512 rate of this machine in
the same run (the floor: one pass over the manifest per trusted key)."""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import time
import tracemalloc

MiB = 1024 * 1024


def _forged(entries: int, sender: str) -> bytes:
    from nacl.signing import SigningKey

    from crypto import bundle
    from crypto.encoding import canonical_json

    members = [{"name": f"{i:032x}.env", "sha256": "0" * 64, "size": 1} for i in range(entries)]
    raw = canonical_json({
        "body": {"submissions": []}, "created": "2026-11-23", "deployment": "0" * 32,
        "format": "peluit-bundle", "kind": "inbox", "members": members, "seq": 9,
        "sender": sender, "version": 1})
    raw = raw[:bundle.MAX_MANIFEST]
    thief = SigningKey.generate()
    return (bundle.MAGIC + struct.pack(">B3xI", bundle.VERSION, len(raw)) + raw
            + thief.sign(bundle.DOMAIN + raw).signature)


def _measure(fn) -> tuple[float, int, str]:
    """Wall time (without tracing), then the Python memory peak (traced, a second run)."""
    def run() -> str:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - the refusal is the point
            return type(exc).__name__
        return "accepted"

    t0 = time.perf_counter()
    kind = run()
    elapsed = time.perf_counter() - t0
    tracemalloc.start()
    run()
    _cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak, kind


def main(argv: list[str]) -> int:
    from crypto import bundle
    from crypto.identity import ServerKey

    entries = int(argv[0]) if argv else 250_000
    many = int(argv[1]) if len(argv) > 1 else 10
    server = ServerKey.generate()
    blob = _forged(entries, server.key_id)
    size = len(blob) - 80
    print(f"forged manifest: {entries} entries, {size / MiB:.1f} MiB")

    t0 = time.perf_counter()
    hashlib.sha512(blob).digest()
    rate = len(blob) / (time.perf_counter() - t0) / MiB
    print(f"SHA-512 on this machine: {rate:.0f} MiB/s")

    others = [ServerKey.generate() for _ in range(many - 1)]
    for keys in (1, many):
        trusted = {server.key_id: server.signing.verify_key}
        trusted.update({k.key_id: k.signing.verify_key for k in others[:keys - 1]})
        elapsed, peak, kind = _measure(lambda t=trusted: bundle.BundleReader(
            io.BytesIO(blob), t, "inbox", lambda s: None, "0" * 32))
        print(f"refusal with {keys:2d} trusted key(s): {elapsed * 1000:7.1f} ms, "
              f"peak {peak / MiB:6.1f} MiB ({kind})")

    raw = blob[16:16 + size]
    elapsed, peak, kind = _measure(lambda: bundle.parse_manifest(raw))
    print(f"parsing those bytes (before: every forgery paid this): {elapsed * 1000:7.1f} ms, "
          f"peak {peak / MiB:6.1f} MiB ({kind})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
