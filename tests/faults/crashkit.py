"""The crash sweep: copy a prepared deployment, start an operation on it in a real process,
``kill -9`` that process at a seeded random moment, then check what a restart finds.

Not a fixture module: the tests import ``Zygote`` and ``sweep`` from here (tests/faults/)."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).parents[2]
#: Kills per operation: the suite's default, raised by ``make crash-sweep``.
KILLS = int(os.environ.get("PELUIT_CRASH_KILLS", "50"))
SEED = int(os.environ.get("PELUIT_CRASH_SEED", "17"))


class Zygote:
    """A pre-imported process that forks one child per operation (tests/faults/zygote.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults.zygote"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        ready = self._read()
        assert "ready" in ready, ready

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self.proc.wait()})")
        return json.loads(line)

    def _ask(self, cmd: dict) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def start(self, op: str, workdir: Path) -> int:
        return self._ask({"run": op, "dir": str(workdir), "log": str(workdir / "child.log")})["pid"]

    def reap(self, pid: int) -> str:
        return self._ask({"reap": pid})["status"]

    def run(self, op: str, workdir: Path) -> tuple[str, float]:
        """The operation to its end, unkilled: (status, seconds)."""
        started = time.monotonic()
        status = self.reap(self.start(op, workdir))
        return status, time.monotonic() - started

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@dataclass
class SweepResult:
    op: str
    kills: int = 0              # children killed before they finished
    finished: int = 0           # children that finished before the kill came
    restarts: int = 0           # operations run again to the end after a kill
    duration: float = 0.0       # one unkilled run of the operation, seconds
    seconds: float = 0.0        # the whole sweep
    failures: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"crash sweep {self.op}: {self.kills} kills mid-operation survived, "
                f"{self.finished} runs finished before the kill, {self.restarts} restarts run "
                f"to the end; one run {self.duration * 1000:.0f} ms; sweep {self.seconds:.1f} s")


def sweep(zygote: Zygote, op: str, template: Path, work: Path,
          check: Callable[[Path, str], None], *, kills: int = KILLS, seed: int = SEED,
          restart_every: int = 10, rerun: Callable[[Path], None] | None = None) -> SweepResult:
    """Kill ``op`` ``kills`` times (counting only kills that landed before the operation
    finished), each on a fresh copy of ``template``, at a moment drawn uniformly from an
    unkilled run's duration (narrowed each time a run finishes before its kill). After every
    kill, ``check(copy, status)`` is the restart: it runs the next start's sweep and asserts the
    invariants. Every ``restart_every`` kills the operation is then run again to its end on the
    same copy (``rerun`` checks what it left)."""
    result = SweepResult(op)
    began = time.monotonic()
    rng = random.Random(f"{seed}:{op}")
    probe = work / "probe"
    shutil.copytree(template, probe, symlinks=True)
    status, result.duration = zygote.run(op, probe)
    assert status == "ok", (probe / "child.log").read_text()
    shutil.rmtree(probe)
    window = result.duration
    i = 0
    while result.kills < kills:
        i += 1
        assert i < kills * 20, "the kills keep missing the operation"
        copy = work / f"k{i}"
        shutil.copytree(template, copy, symlinks=True)
        delay = rng.uniform(0, window)
        pid = zygote.start(op, copy)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        status = zygote.reap(pid)
        if status == "error":
            raise AssertionError(f"{op} failed by itself: {(copy / 'child.log').read_text()}")
        try:
            check(copy, status)
            if status == "killed":
                result.kills += 1
                if result.kills % restart_every == 0:
                    again, _ = zygote.run(op, copy)
                    assert again == "ok", (copy / "child.log").read_text()
                    check(copy, "ok")
                    if rerun is not None:
                        rerun(copy)
                    result.restarts += 1
            else:
                result.finished += 1
                # The probe ran slow (a busy machine): the operation is shorter than the window
                # the kills are drawn from; narrow it, so fewer runs finish unkilled.
                window = max(window * 0.9, result.duration / 10)
        except AssertionError as exc:
            result.failures.append(f"kill {i} after {delay * 1000:.0f} ms ({status}): {exc}")
            if len(result.failures) >= 3:
                break
            continue
        shutil.rmtree(copy)
    result.seconds = time.monotonic() - began
    return result
