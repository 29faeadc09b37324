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
import time
from dataclasses import dataclass, field

from PIL import Image

from . import build, pixels, sandbox
from .ocr import words as ocr_words
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
    text: list[str] = field(default_factory=list)  # each page's OCR words, with ``ocr=True``


def make(data: bytes, wall_seconds: float = sandbox.WALL_SECONDS, ocr: bool = False
         ) -> SafeCopy:
    """The safe copy of ``data`` (a reporter's file, in memory) as PDF bytes, in memory; with
    ``ocr`` each page is read by Tesseract (in its own sandbox) for a text layer."""
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

    # OCR reads each page while the renderer waits on the pipe: its time counts too, so the
    # limit is larger with OCR, and pages left when OCR has used its budget get no text layer
    # (a long document still gets its safe copy).
    timer = threading.Timer(wall_seconds * (3 if ocr else 1), kill)
    ocr_deadline = time.monotonic() + wall_seconds * 2

    def budgeted(img: Image.Image) -> list:
        return ocr_words(img) if time.monotonic() < ocr_deadline else []

    timer.start()
    feeder = threading.Thread(target=_feed, args=(proc, data), daemon=True)
    feeder.start()
    out = io.BytesIO()
    error: str | None = None
    try:
        pages, text = build.build(proc.stdout, out, budgeted if ocr else None)
    except pixels.PixelStreamError:
        error, pages, text = "broken", 0, []
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
    return SafeCopy(out.getvalue(), pages, text)


def _feed(proc: subprocess.Popen, data: bytes) -> None:
    try:
        proc.stdin.write(data)
    except (BrokenPipeError, OSError):
        pass  # the renderer stopped reading: its exit code tells why
    finally:
        with contextlib.suppress(OSError):
            proc.stdin.close()
