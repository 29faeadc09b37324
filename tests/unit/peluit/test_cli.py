"""The ``peluit`` command: light parsers and the one error convention."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from peluit.cli import main

WEB_STACK = ("pyramid", "sqlalchemy", "webob")

_PROBE = """
import json, sys
from peluit.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


@pytest.mark.parametrize("argv", [["--help"], ["workbench", "--help"], ["policy", "--help"],
                                  ["verify-authorship", "--help"]])
def test_help_loads_no_web_stack(argv):
    """The air-gapped workbench's commands, and every --help, start without Pyramid,
    SQLAlchemy or WebOb: the parsers import nothing heavy (a fresh interpreter each time)."""
    run = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv)], capture_output=True,
                         text=True, check=True, timeout=60)
    loaded = set(json.loads(run.stdout.strip().splitlines()[-1]))
    assert "usage: peluit" in run.stdout
    assert not loaded & set(WEB_STACK), sorted(loaded & set(WEB_STACK))


def test_building_the_parser_imports_no_web_stack():
    from peluit.cli import build_parser

    before = {m for m in sys.modules if m.split(".")[0] in WEB_STACK}
    code = ("import sys; from peluit.cli import build_parser; build_parser(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB_STACK!r}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert run.stdout.strip() == "[]"
    assert build_parser() is not None and before is not None


@pytest.mark.parametrize("argv", [
    ["backup", "OUT", "--config", "/nonexistent/peluit.toml", "--without-secrets"],
    ["db", "current", "--config", "/nonexistent/peluit.toml"],
    ["gateway-user", "list", "--config", "/nonexistent/peluit.toml"],
    ["restore", "/nonexistent/backup.tar", "--config", "/nonexistent/x/peluit.toml"],
    ["audit", "verify", "/nonexistent/vault"],
    ["workbench", "export-replies", "/nonexistent/out", "--vault", "/nonexistent/vault",
     "--demo-not-air-gapped"],
    ["tor", "add-client", "alice", "--tor-dir", "/nonexistent/tor"],
])
def test_a_user_error_is_one_line_and_exit_1_in_every_group(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if not line.startswith("***")]  # demo banner
    assert len(lines) == 1 and lines[0].startswith("peluit: "), err
    assert "Traceback" not in err
