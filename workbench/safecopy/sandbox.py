"""The sandbox the untrusted stage runs in: bubblewrap plus resource limits.

Inside it there is:

- no network at all (``--unshare-all`` gives it a network namespace with nothing but a loopback
  of its own), no view of other processes (own PID namespace), no IPC, its own hostname;
- the system read-only (``/usr``, the few files of ``/etc`` the renderers need to find fonts
  and libraries), and nothing of the vault, the home directory or the workbench's TMPDIR:
  ``/home``, ``/root``, ``/tmp`` and ``/var`` are fresh, size-capped tmpfs mounts that live in
  memory and die with the sandbox (so a rendered page never reaches a disk in clear);
- the renderer's own code (this package's directory) and Pillow read-only, nothing else of the
  project;
- no capabilities, a new session (no terminal injection), ``--die-with-parent``;
- limits set with ``prlimit`` before the renderer starts and inherited by every program it runs:
  address space, CPU seconds, file size, open files, processes, no core dumps;
- never root: the kernel exempts root from the process limit (a fork bomb would not stop), so a
  workbench running as root starts each sandbox under a uid of its own, picked at random from a
  range no account uses (``setpriv``), which also makes the limit count that sandbox's
  processes only; bubblewrap then builds the namespaces as that ordinary user;
- a wall-clock timeout kept by the trusted side, which kills the whole sandbox.

The file goes in on stdin, the pixels come out on stdout; that pipe is the only way out."""

from __future__ import annotations

import os
import secrets
import shutil
import sys

MEMORY_LIMIT = 2 * 1024**3  # LibreOffice maps a lot of address space it never touches
CPU_SECONDS = 120
FILE_SIZE_LIMIT = 256 * 1024**2
OPEN_FILES = 256
PROCESSES = 64
TMPFS_BYTES = 512 * 1024**2
WALL_SECONDS = 240
SANDBOX_UIDS = (0x7F000000, 1 << 16)  # first uid, how many: far above any account's uid
INSIDE_TMP = "/tmp"  # noqa: S108 - the sandbox's own tmpfs, not the workbench's TMPDIR
INSIDE_CODE = "/opt/peluit-safecopy"
INSIDE_SITE = "/opt/peluit-site"
_ETC = ("/etc/fonts", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
        "/etc/alternatives", "/etc/libreoffice", "/etc/mime.types")


class SandboxUnavailable(Exception):
    """bubblewrap or a renderer is not installed (tests/install-deps.sh installs them)."""


def _site_packages() -> str:
    import PIL
    return os.path.dirname(os.path.dirname(os.path.abspath(PIL.__file__)))


def _unprivileged() -> list[str]:
    """As root: ``setpriv`` to a fresh unprivileged uid and gid, no groups, no capabilities, no
    way back (no_new_privs); otherwise nothing (the workbench's own uid is already ordinary)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if not setpriv:
        raise SandboxUnavailable("setpriv (util-linux) is needed to leave root for the sandbox")
    uid = str(SANDBOX_UIDS[0] + secrets.randbelow(SANDBOX_UIDS[1]))
    return [setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--inh-caps=-all",
            "--no-new-privs"]


def command(inner: list[str] | None = None) -> list[str]:
    """bwrap's argv; ``inner`` replaces the renderer (the tests probe the sandbox with it)."""
    bwrap, prlimit = shutil.which("bwrap"), shutil.which("prlimit")
    if not bwrap or not prlimit:
        raise SandboxUnavailable("bubblewrap (bwrap) and prlimit are needed for safe copies")
    python = os.path.realpath(sys.executable)
    if not python.startswith("/usr/"):
        python = "/usr/bin/python3"
    code = os.path.dirname(os.path.abspath(__file__))
    argv = [*_unprivileged(),
            bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox", "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", INSIDE_TMP,
            "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--ro-bind", "/usr", "/usr",
            "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
            "--proc", "/proc", "--dev", "/dev"]
    for path in _ETC:
        if os.path.exists(path):
            argv += ["--ro-bind", path, path]
    for path in (INSIDE_TMP, "/home", "/root", "/var", "/run"):
        argv += ["--size", str(TMPFS_BYTES), "--tmpfs", path]
    argv += ["--ro-bind", code, INSIDE_CODE, "--ro-bind", _site_packages(), INSIDE_SITE,
             "--remount-ro", "/", "--chdir", INSIDE_TMP, "--",
             prlimit, f"--as={MEMORY_LIMIT}", f"--cpu={CPU_SECONDS}",
             f"--fsize={FILE_SIZE_LIMIT}", f"--nofile={OPEN_FILES}", f"--nproc={PROCESSES}",
             "--core=0"]
    if inner is not None:
        return [*argv, *inner]
    return [*argv, python, "-I", "-c",
            f"import sys, runpy; sys.path.append({INSIDE_SITE!r}); "
            f"sys.argv = [{INSIDE_CODE + '/untrusted.py'!r}]; "
            f"runpy.run_path(sys.argv[0], run_name='__main__')"]
