"""Supply-chain checks run by make targets (docs/supply-chain.md).

    python tools/supply_chain.py reproducible [--out dist]
        builds the wheel and the sdist twice, each time from a fresh copy of the tracked files
        with SOURCE_DATE_EPOCH set to the last commit's time, and fails unless both builds are
        the same bytes.
    python tools/supply_chain.py sbom [--out dist/sbom.cdx.json]
        installs what a deployment installs (requirements/runtime.lock with its hashes, then
        the wheel without dependencies) into a throw-away virtual environment and writes a
        CycloneDX SBOM of that environment with cyclonedx-py.

Not part of the installed package: this is release tooling, run from a checkout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil

# Runs git, build, pip and cyclonedx-py with fixed argument lists, never a shell.
import subprocess  # nosec B404
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    # No shell; the programs and arguments are this script's own.
    return subprocess.run(args, check=True, **kwargs)  # nosec B603  # noqa: S603


def source_date_epoch() -> str:
    """The last commit's time: the same tree builds to the same bytes on any day."""
    if "SOURCE_DATE_EPOCH" in os.environ:
        return os.environ["SOURCE_DATE_EPOCH"]
    out = _run(["git", "-C", str(REPO), "log", "-1", "--format=%ct"], capture_output=True,
               text=True)
    return out.stdout.strip()


def export_tree(dest: Path, epoch: int) -> Path:
    """Copy the tracked files (as they are in the work tree) to dest, every time set to epoch.

    A build from the work tree itself would pick up whatever lies around (a .venv, an old
    egg-info, .pyc files), and the sdist records each file's mtime.
    """
    listed = _run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True).stdout
    for name in sorted(filter(None, listed.decode().split("\0"))):
        src = REPO / name
        if not src.is_file():  # deleted in the work tree, not yet committed
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        os.chmod(target, 0o755 if os.access(src, os.X_OK) else 0o644)
    for path in sorted(dest.rglob("*"), reverse=True):
        os.utime(path, (epoch, epoch), follow_symlinks=False)
    os.utime(dest, (epoch, epoch))
    return dest


def normalize_sdist(path: Path, epoch: int) -> None:
    """Rewrite the sdist so that nothing of the moment of the build stays in it.

    The wheel is reproducible as setuptools writes it (it honours SOURCE_DATE_EPOCH); the sdist
    is not: setuptools stages the tree in a fresh directory and writes PKG-INFO at build time,
    so those carry the build's clock, and gzip stamps its header with it too. Rewritten here:
    members sorted by name, every time clamped to the epoch, owner root/root without names,
    gzip header time the epoch. The files' bytes are left as they are.
    """
    with tarfile.open(path, "r:gz") as src:
        members = [(m, src.extractfile(m).read() if m.isfile() else None)
                   for m in src.getmembers()]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as dst:
        for member, data in sorted(members, key=lambda item: item[0].name):
            member.mtime = min(int(member.mtime), epoch)
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            member.mode = 0o755 if member.isdir() or member.mode & 0o111 else 0o644
            member.pax_headers = {}
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    tmp.replace(path)


def build_once(workdir: Path, epoch: str) -> dict[str, str]:
    """Build wheel and sdist from a fresh export; return {file name: sha256}."""
    tree = export_tree(workdir / "src", int(epoch))
    out = workdir / "dist"
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch, PYTHONHASHSEED="0", TZ="UTC", LC_ALL="C")
    # --no-isolation: setuptools and wheel come from the hash-pinned lock already installed,
    # never fetched unpinned at build time.
    _run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel",
          "--outdir", str(out), str(tree)], env=env, capture_output=True)
    for sdist in out.glob("*.tar.gz"):
        normalize_sdist(sdist, int(epoch))
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())}


def reproducible(out: Path) -> int:
    epoch = source_date_epoch()
    old_umask = os.umask(0o022)
    try:
        with tempfile.TemporaryDirectory(prefix="peluit-build-") as tmp:
            first = build_once(Path(tmp) / "1", epoch)
            second = build_once(Path(tmp) / "2", epoch)
            out.mkdir(parents=True, exist_ok=True)
            for name in first:
                shutil.copyfile(Path(tmp) / "1" / "dist" / name, out / name)
    finally:
        os.umask(old_umask)
    print(f"SOURCE_DATE_EPOCH={epoch}")
    for name, digest in first.items():
        same = "same" if second.get(name) == digest else f"DIFFERS ({second.get(name)})"
        print(f"{digest}  {name}  {same}")
    if first != second:
        print("not reproducible: the two builds differ", file=sys.stderr)
        return 1
    return 0


def sbom(out: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="peluit-sbom-") as tmp:
        dist = Path(tmp) / "dist"
        if reproducible(dist) != 0:
            return 1
        venv = Path(tmp) / "venv"
        _run([sys.executable, "-m", "venv", str(venv)])
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        _run([*pip, "--require-hashes", "-r", str(REPO / "requirements" / "runtime.lock")])
        wheel = next(dist.glob("*.whl"))
        _run([*pip, "--no-deps", str(wheel)])
        out.parent.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "cyclonedx_py", "environment", "--output-format", "JSON",
              "--output-reproducible", "--pyproject", str(REPO / "pyproject.toml"),
              "--output-file", str(out), str(venv / "bin" / "python")])
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("reproducible", help="build twice and compare")
    rep.add_argument("--out", type=Path, default=REPO / "dist")
    bom = sub.add_parser("sbom", help="CycloneDX SBOM of a deployment's environment")
    bom.add_argument("--out", type=Path, default=REPO / "dist" / "sbom.cdx.json")
    args = parser.parse_args(argv)
    return reproducible(args.out) if args.command == "reproducible" else sbom(args.out)


if __name__ == "__main__":
    sys.exit(main())
