"""The supply chain: hash-pinned locks that agree with pyproject.toml, reproducible builds,
static analysis (bandit; ruff's S rules run with `ruff check .`). docs/supply-chain.md."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
LOCKS = REPO / "requirements"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# The machines Peluit installs on: Debian 12's Python on x86_64 and aarch64 (CI runs both).
TARGETS = [
    {"python_version": "3.11", "python_full_version": "3.11.2", "sys_platform": "linux",
     "platform_system": "Linux", "os_name": "posix", "platform_machine": machine,
     "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    for machine in ("x86_64", "aarch64")
]


def parse_lock(path: Path) -> dict[str, list[tuple[Requirement, list[str]]]]:
    """{name: [(pinned requirement, hashes)]}; a name may appear once per marker."""
    text = path.read_text().replace("\\\n", " ")
    entries: dict[str, list[tuple[Requirement, list[str]]]] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
        req = Requirement(re.sub(r"\s*--hash=\S+", "", line).strip())
        entries.setdefault(canonicalize_name(req.name), []).append((req, hashes))
    return entries


def pinned(lock, name: str, env: dict) -> Version | None:
    for req, _ in lock.get(canonicalize_name(name), []):
        if req.marker is None or req.marker.evaluate(env):
            return Version(next(iter(req.specifier)).version)
    return None


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    reqs = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"][extra]]
    reqs += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    return reqs


LOCK_FILES = {"runtime.lock": (), "test.lock": ("test",)}


@pytest.mark.parametrize("lock_name", sorted(LOCK_FILES))
def test_every_entry_is_pinned_exactly_with_hashes(lock_name):
    lock = parse_lock(LOCKS / lock_name)
    assert lock
    for name, entries in lock.items():
        for req, hashes in entries:
            (spec,) = req.specifier
            assert spec.operator == "==", f"{name} is not pinned: {req}"
            assert hashes, f"{name} has no hash"


@pytest.mark.parametrize("lock_name", sorted(LOCK_FILES))
@pytest.mark.parametrize("env", TARGETS, ids=lambda env: env["platform_machine"])
def test_lock_agrees_with_pyproject(lock_name, env):
    """Every declared dependency (and each extra it asks for) is in the lock, at a version its
    specifier allows, for each machine we install on."""
    lock = parse_lock(LOCKS / lock_name)
    for req in declared(LOCK_FILES[lock_name]):
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        version = pinned(lock, req.name, env)
        assert version is not None, \
            f"{req.name} is declared but not locked ({lock_name}): run make lock"
        assert req.specifier.contains(version, prereleases=True), \
            f"{req.name}=={version} does not satisfy {req} ({lock_name}): run make lock"
        for extra in req.extras:  # psycopg[binary] -> psycopg-binary
            dist = metadata.distribution(req.name)
            if Version(dist.version) != version:
                continue
            for sub in map(Requirement, dist.requires or []):
                if sub.marker and sub.marker.evaluate({**env, "extra": extra}) \
                        and not sub.marker.evaluate({**env, "extra": ""}):
                    assert pinned(lock, sub.name, env) is not None, \
                        f"{req.name}[{extra}] needs {sub.name}, not locked"


@pytest.mark.parametrize("lock_name", sorted(LOCK_FILES))
def test_lock_is_closed_under_dependencies(lock_name):
    """Nothing missing: what each locked package requires is locked too (read from the
    installed metadata of this environment, which `make` installs from the lock)."""
    env = TARGETS[0]
    lock = parse_lock(LOCKS / lock_name)
    checked = 0
    for name in lock:
        version = pinned(lock, name, env)
        if version is None:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # e.g. only in the test lock's extras of another machine
        if Version(dist.version) != version:
            continue
        checked += 1
        for sub in map(Requirement, dist.requires or []):
            if sub.marker is not None and not sub.marker.evaluate({**env, "extra": ""}):
                continue
            sub_version = pinned(lock, sub.name, env)
            assert sub_version is not None, f"{name} needs {sub}, which {lock_name} lacks"
            assert sub.specifier.contains(sub_version, prereleases=True), \
                f"{name} needs {sub}, {lock_name} has {sub_version}"
    assert checked >= len(lock) // 2, "this environment was not installed from the lock (make)"


def test_installs_go_through_the_lock_with_hashes():
    makefile = (REPO / "Makefile").read_text()
    assert "--require-hashes -r requirements/test.lock" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    install = (REPO / "deploy/install.sh").read_text()
    assert '--require-hashes -r "$SRC/requirements/runtime.lock"' in install
    assert re.search(r'--no-deps --no-build-isolation[^\n]*"\$SRC"', install)
    for line in install.splitlines() + makefile.splitlines():
        if "pip install" in line or "pip\" install" in line or "/pip\" install" in line:
            assert "--require-hashes" in line or "--no-deps" in line \
                or "uv.lock" in line, f"unpinned install: {line.strip()}"


def test_markers_in_the_locks_parse():
    for lock_name in LOCK_FILES:
        for entries in parse_lock(LOCKS / lock_name).values():
            for req, _ in entries:
                if req.marker is not None:
                    Marker(str(req.marker))


def _bandit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bandit", "-q", "-c", "pyproject.toml",
                           "-r", ".", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=240)


def test_bandit_finds_no_high_severity_issue():
    if importlib.util.find_spec("bandit") is None:
        pytest.fail("bandit missing: make venv installs it from requirements/test.lock")
    result = _bandit("--severity-level", "high", "--format", "custom", "--msg-template",
                     "{relpath}:{line} {test_id} {msg}")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]


def test_every_nosec_names_its_check_and_says_why():
    """A `# nosec` silences bandit: it must name the check (BXXX) and a comment on the same
    line or just above must say why it is safe."""
    sources = [p for p in REPO.rglob("*.py")
               if not {".venv", "tests", "build", "dist"} & set(p.relative_to(REPO).parts)]
    for path in sources:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "# nosec" not in line:
                continue
            where = f"{path.relative_to(REPO)}:{i + 1}"
            assert re.search(r"# nosec B\d{3}", line), f"{where}: nosec without a check id"
            before = line.split("# nosec", 1)[0]
            context = [before, *lines[max(0, i - 3):i]]
            assert any("#" in c and len(c.split("#", 1)[1].strip()) > 10 for c in context), \
                f"{where}: nosec without a reason"


@pytest.mark.slow
def test_wheel_and_sdist_build_to_the_same_bytes_twice(tmp_path):
    spec = importlib.util.spec_from_file_location("supply_chain",
                                                  REPO / "tools/supply_chain.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    epoch = tool.source_date_epoch()
    first = tool.build_once(tmp_path / "1", epoch)
    second = tool.build_once(tmp_path / "2", epoch)
    assert sorted(first) == ["peluit-0.1.0-py3-none-any.whl", "peluit-0.1.0.tar.gz"]
    assert first == second
