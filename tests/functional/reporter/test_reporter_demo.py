"""``peluit demo`` refuses bad arguments with one line (tests/functional/test_demo.py runs the
demo itself)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_refuses_a_bad_port(tmp_path):
    res = subprocess.run([sys.executable, "-m", "peluit", "demo", "--data-dir",
                          str(tmp_path / "d"), "--reporter-port", "70000"],
                         capture_output=True, text=True)
    assert res.returncode == 1
    assert res.stderr.strip().startswith("peluit") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
