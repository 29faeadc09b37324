"""The fuzz targets in the suite: every saved finding (tests/fuzz/regressions/<target>/) replayed,
the seeds accepted, and a short coverage-guided smoke run of each target. The long campaign is
``make fuzz`` (FUZZ_SECONDS per target; docs/engineering.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import SEEDS, TARGETS

REGRESSIONS = Path(__file__).parent / "regressions"
SMOKE_RUNS = int(os.environ.get("FUZZ_SMOKE_RUNS", "1000"))


def _saved() -> list[tuple[str, Path]]:
    return [(d.name, f) for d in sorted(REGRESSIONS.iterdir()) if d.is_dir()
            for f in sorted(d.iterdir())] if REGRESSIONS.is_dir() else []


@pytest.mark.parametrize(("target", "path"), _saved(), ids=lambda v: getattr(v, "name", v))
def test_saved_finding_is_refused_cleanly(target, path):
    TARGETS[target](path.read_bytes())


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_seeds_pass(target):
    for seed in SEEDS[target]():
        TARGETS[target](seed)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_smoke_campaign(target, tmp_path):
    pytest.importorskip("atheris")
    env = {**os.environ, "FUZZ_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "tests.fuzz.run", target, f"--runs={SMOKE_RUNS}",
                           "--max-len=4096"], capture_output=True, text=True, errors="replace",
                          env=env, cwd=Path(__file__).parents[2], timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"stat::number_of_executed_units: {SMOKE_RUNS}" in proc.stderr
