"""Image previews made safe: a reporter's file is decoded only in a separate, resource-limited
process that re-encodes it to a plain PNG, and only that PNG reaches the browser.

Image decoders are where hostile files strike (decompression bombs, parser bugs). So the child
process gets the bytes on stdin, has no way to write files (RLIMIT_FSIZE 0), bounded memory and
CPU time, a bounded number of pixels, and only the formats listed below; whatever it prints is
decoded again by nobody but the browser, as a fresh PNG without metadata.

Run as ``python -m workbench.cases.preview`` (the child side)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

MAX_INPUT = 32 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 1600
MEMORY_LIMIT = 768 * 1024 * 1024
CPU_SECONDS = 10
WALL_SECONDS = 20
FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
PREVIEWABLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff")


class PreviewError(Exception):
    """The file could not be previewed (not an allowed image, too large, or the child failed)."""


def _limit_self() -> None:
    """Limits the child puts on itself before it reads a single byte of the file (not
    ``preexec_fn``, which is unsafe in the threaded web server)."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))


def run_limited(module: str, function: str, data: bytes, wall_seconds: float = WALL_SECONDS
                ) -> subprocess.CompletedProcess[bytes]:
    """Run ``module.function()`` in a fresh interpreter that limits itself first (the function
    calls ``_limit_self``), with ``data`` on stdin; used for every parser of a reporter's file."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    code = (f"import sys; sys.path.insert(0, sys.argv[1]); from {module} import {function}; "
            f"{function}()")
    return subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
        [sys.executable, "-I", "-c", code, root], input=data, capture_output=True,
        timeout=wall_seconds, env=env, close_fds=True, check=False)


def render(data: bytes) -> bytes:
    """PNG bytes of a re-encoded, size-bounded copy of image ``data``."""
    if len(data) > MAX_INPUT:
        raise PreviewError("file too large to preview")
    try:
        proc = run_limited("workbench.cases.preview", "child", data)
    except subprocess.TimeoutExpired:
        raise PreviewError("preview took too long") from None
    if proc.returncode != 0 or not proc.stdout.startswith(b"\x89PNG\r\n\x1a\n"):
        raise PreviewError("not an image that can be previewed")
    return proc.stdout


def child() -> None:
    _limit_self()
    import warnings

    from PIL import Image
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    # Pillow only warns between MAX_IMAGE_PIXELS and twice that; here a warning is a refusal.
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    data = sys.stdin.buffer.read(MAX_INPUT + 1)
    if len(data) > MAX_INPUT:
        sys.exit(2)
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as img:
            img.seek(0)
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            out = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
            buf = io.BytesIO()
            out.save(buf, format="PNG")  # no metadata carried over
    except Exception:  # any decoder failure means "no preview"
        sys.exit(3)
    sys.stdout.buffer.write(buf.getvalue())


if __name__ == "__main__":
    child()
