"""Safe copies: any evidence file turned into a PDF of nothing but page pixels.

Two stages, as Dangerzone does it (its design, not its code): ``untrusted.py`` renders the file
inside a bubblewrap sandbox (``sandbox.py``) and hands back raw pixels in a bounded stream
(``pixels.py``); ``build.py`` makes the PDF from those pixels in the workbench's own process.
A file that cannot be rendered within the limits is refused with a reason, never half-copied."""

from __future__ import annotations

import contextlib
import io
import subprocess
import threading
from dataclasses import dataclass

from . import build, pixels, sandbox
from .sandbox import SandboxUnavailable

__all__ = ["SafeCopy", "SafeCopyError", "SandboxUnavailable", "make"]

MAX_INPUT = 64 * 1024 * 1024
REASONS = {2: "too-large", 3: "unsupported", 4: "unreadable", 5: "too-many-pages"}


class SafeCopyError(Exception):
    """The file was refused; ``reason`` is one of REASONS' values, "timeout" or "broken"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SafeCopy:
    pdf: bytes
    pages: int


def make(data: bytes, wall_seconds: float = sandbox.WALL_SECONDS) -> SafeCopy:
    """The safe copy of ``data`` (a reporter's file, in memory) as PDF bytes, in memory."""
    if len(data) > MAX_INPUT:
        raise SafeCopyError("too-large")
    if not data:
        raise SafeCopyError("unsupported")
    proc = subprocess.Popen(sandbox.command(), stdin=subprocess.PIPE,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()  # bwrap dies, and with it the sandbox's PID namespace

    timer = threading.Timer(wall_seconds, kill)
    timer.start()
    feeder = threading.Thread(target=_feed, args=(proc, data), daemon=True)
    feeder.start()
    out = io.BytesIO()
    error: str | None = None
    try:
        pages = build.build(proc.stdout, out)
    except pixels.PixelStreamError:
        error, pages = "broken", 0
    finally:
        proc.stdout.close()
        code = proc.wait()
        timer.cancel()
        feeder.join()
    if timed_out.is_set():
        raise SafeCopyError("timeout")
    if code != 0:
        raise SafeCopyError(REASONS.get(code, "unreadable"))
    if error:
        raise SafeCopyError(error)
    return SafeCopy(out.getvalue(), pages)


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
    except (BrokenPipeError, OSError):
        pass  # the renderer stopped reading: its exit code tells why
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
