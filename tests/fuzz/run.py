"""Run a coverage-guided fuzzing campaign (atheris, i.e. libFuzzer over Python bytecode) on the
targets of tests/fuzz/targets.py.

    python -m tests.fuzz.run envelope --seconds 600      # one target
    python -m tests.fuzz.run all --seconds 600           # each target in turn, then a summary
    python -m tests.fuzz.run envelope --runs 2000        # a bounded smoke run (the suite's)

Each target keeps its corpus under ``FUZZ_DIR`` (default ``build/fuzz``)/<target>/corpus, seeded
with the target's valid inputs, so a campaign starts where the last one stopped. An input that
makes a target raise anything but its documented refusal is written to
``FUZZ_DIR/<target>/crash-<sha1>``; copy it to tests/fuzz/regressions/<target>/ so the suite
keeps it (tests/fuzz/test_fuzz.py), and fix the parser.

``all`` prints one line per target: executions, libFuzzer's coverage counters (``cov``: covered
edges of the instrumented code; ``ft``: features) and the corpus size."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

# Instrumented for coverage: our parsers and the multipart package they stand on.
INSTRUMENTED = ["crypto", "peluit", "dropbox_app", "workbench", "policies", "multipart"]
FUZZ_DIR = Path(os.environ.get("FUZZ_DIR", "build/fuzz"))


def _corpus(target: str, seeds: list[bytes]) -> Path:
    corpus = FUZZ_DIR / target / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        path = corpus / hashlib.sha1(seed).hexdigest()  # noqa: S324 - libFuzzer's naming
        if not path.exists():
            path.write_bytes(seed)
    return corpus


def fuzz_one(target: str, seconds: int | None, runs: int | None, max_len: int) -> None:
    """Runs in this process and never returns (libFuzzer exits)."""
    import atheris

    with atheris.instrument_imports(include=INSTRUMENTED):
        from tests.fuzz import targets

        func = targets.TARGETS[target]
        seeds = targets.SEEDS[target]()
        for seed in seeds:  # also imports what the target loads lazily, instrumented
            func(seed)
    corpus = _corpus(target, seeds)
    args = [sys.argv[0], str(corpus), f"-max_len={max_len}", "-print_final_stats=1",
            f"-artifact_prefix={FUZZ_DIR / target}/", "-timeout=20", "-rss_limit_mb=1024"]
    if seconds:
        args.append(f"-max_total_time={seconds}")
    if runs is not None:
        args.append(f"-runs={runs}")
    atheris.Setup(args, func)
    atheris.Fuzz()


_DONE = re.compile(r"#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)")
_STAT = re.compile(r"stat::number_of_executed_units: (\d+)")


def campaign(names: list[str], seconds: int | None, runs: int | None, max_len: int) -> int:
    """Each target in its own process, one after the other; a summary line per target."""
    failed = 0
    summary = []
    for name in names:
        cmd = [sys.executable, "-m", "tests.fuzz.run", name, f"--max-len={max_len}"]
        cmd += [f"--seconds={seconds}"] if seconds else []
        cmd += [f"--runs={runs}"] if runs is not None else []
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        took = time.monotonic() - started
        log = FUZZ_DIR / name / "last.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(proc.stderr)
        done = _DONE.findall(proc.stderr)
        stat = _STAT.findall(proc.stderr)
        execs = stat[-1] if stat else (done[-1][0] if done else "?")
        cov, ft, _corp = done[-1][1:] if done else ("?", "?", "?")
        corpus = len(list((FUZZ_DIR / name / "corpus").iterdir()))
        status = "ok" if proc.returncode == 0 else f"FOUND (exit {proc.returncode}, see {log})"
        failed += proc.returncode != 0
        summary.append(f"{name:9} {took:7.0f} s  execs {execs:>10}  cov {cov:>5}  ft {ft:>6}  "
                       f"corpus {corpus:>5}  {status}")
        print(summary[-1], flush=True)
    print("\n".join(["", "fuzz campaign summary:", *summary]))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    # The targets module is imported only inside fuzz_one's instrumentation block (a module
    # imported before it would not be instrumented), so the names are not checked here.
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run")
    parser.add_argument("target", help="a name of tests/fuzz/targets.py TARGETS, or all")
    parser.add_argument("--seconds", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--max-len", type=int, default=16384)
    args = parser.parse_args(argv)
    if args.target == "all":
        from tests.fuzz.targets import TARGETS

        return campaign(list(TARGETS), args.seconds, args.runs, args.max_len)
    fuzz_one(args.target, args.seconds, args.runs, args.max_len)
    return 0


if __name__ == "__main__":
    sys.exit(main())
