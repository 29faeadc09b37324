"""A Debian 12 system booted under systemd-nspawn, for tests/deploy/test_nspawn.py.

The root file system is made once with debootstrap from Debian's packages and cached (with the
wheels of requirements/runtime.lock) under /var/cache/peluit-test, or PELUIT_NSPAWN_CACHE; each
test module boots a copy. The container has a private network (only its own loopback, plus the
dummy interface a test adds): the host's firewall and routes are never touched, and nothing
inside reaches the Internet, so pip installs from the cached wheels (still with the lock's
hashes) and the Debian packages install.sh needs are already in the image.

No host systemd is needed: `--register=no --keep-unit`. `--system-call-filter=bpf` lets the
container's systemd attach its BPF programs: without it IPAddressDeny= is silently not
enforced. Commands run inside through nsenter into the container's PID 1.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
MIRROR = os.environ.get("PELUIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# What install.sh installs (so it finds them present) and what the tests use inside.
PACKAGES = ["systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "tor", "nftables",
            "gnupg", "unattended-upgrades", "adduser", "iproute2", "curl", "ca-certificates",
            "util-linux"]


def cache_dir() -> Path:
    return Path(os.environ.get("PELUIT_NSPAWN_CACHE", "/var/cache/peluit-test"))


def _key(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def rootfs() -> Path:
    """The cached Debian 12 root file system, made by debootstrap if missing."""
    target = cache_dir() / f"debian12-{_key(MIRROR, *PACKAGES)}"
    if (target / "etc/os-release").exists():
        return target
    tmp = target.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                    "bookworm", str(tmp), MIRROR], check=True, capture_output=True,
                   timeout=1800)
    # The image boots without asking anything: no machine id yet (systemd makes one), a
    # hostname, no getty on a console nobody reads.
    (tmp / "etc/hostname").write_text("peluit-test\n")
    (tmp / "etc/machine-id").write_text("")
    shutil.rmtree(tmp / "var/cache/apt/archives", ignore_errors=True)
    (tmp / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)
    tmp.rename(target)
    return target


def wheelhouse() -> Path:
    """The files of requirements/runtime.lock, downloaded once (pip checks them against the
    lock's hashes at install time inside the container, as on a real server)."""
    lock = REPO / "requirements/runtime.lock"
    target = cache_dir() / f"wheels-{_key(lock.read_text())}"
    if target.is_dir():
        return target
    tmp = target.with_suffix(".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    # For this machine's Python and platform: the tests run on Debian 12, as the container
    # does (same glibc; no marker in the runtime lock depends on the Python patch level).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    subprocess.run(["python3", "-m", "pip", "download", "--quiet", "--no-deps",
                    "--require-hashes", "--isolated", "--index-url", "https://pypi.org/simple",
                    "-r", str(lock), "-d", str(tmp)],
                   check=True, capture_output=True, timeout=900, env=env)
    tmp.rename(target)
    return target


def export_source(dest: Path) -> None:
    """The tracked files of this checkout, as they are in the work tree."""
    # Tracked files and new ones not yet committed (not the ignored: .venv, caches).
    listed = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


@dataclass
class Container:
    root: Path
    log: Path
    proc: subprocess.Popen | None = None
    leader: int | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def boot(self, binds: list[tuple[Path, str]]) -> None:
        t0 = time.monotonic()
        args = ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
                "--system-call-filter=bpf", "--private-network", "--console=passive",
                "--machine=peluit-test", "-D", str(self.root)]
        args += [f"--bind-ro={src}:{dst}" for src, dst in binds]
        # A cgroup v2 hierarchy inside, whatever the host mounts: on a host with the hybrid
        # layout (v1 controllers, no host systemd) the container's systemd otherwise runs on
        # v1 and, without saying so above debug level, attaches no BPF firewall at all.
        env = dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log, start_new_session=True, env=env)
        deadline = time.monotonic() + 120
        while self.leader is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"container did not start: {self.log.read_text()[-3000:]}")
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                if child.name() == "systemd":
                    self.leader = child.pid
            time.sleep(0.2)
        state = ""
        while time.monotonic() < deadline:
            state = self.run("systemctl is-system-running --wait", check=False,
                             timeout=120).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        self.timings["boot"] = time.monotonic() - t0
        if state not in ("running", "degraded"):
            raise RuntimeError(f"container not up ({state}): {self.log.read_text()[-3000:]}")

    def run(self, script: str, check: bool = True, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run a shell script inside the container as root; returns the completed process."""
        assert self.leader is not None
        environ = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "LANG": "C.UTF-8", "HOME": "/root", **(env or {})}
        args = ["nsenter", "--target", str(self.leader), "--mount", "--uts", "--ipc",
                "--net", "--pid", "--cgroup", "--", "/usr/bin/env", "-i",
                *(f"{k}={v}" for k, v in environ.items()), "/bin/sh", "-c", script]
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"inside the container, `{script}` failed "
                                 f"({result.returncode}):\n{result.stdout[-4000:]}\n"
                                 f"{result.stderr[-4000:]}")
        return result

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        if self.leader is not None:
            # SIGRTMIN+4 asks systemd for a clean power-off (as `machinectl poweroff` would).
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.leader, signal.SIGRTMIN + 4)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=30)
