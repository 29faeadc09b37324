"""The process the crash tests kill the children of (``python -m tests.faults.zygote``).

Starting a Python process that imports Pyramid, SQLAlchemy and PyNaCl takes about a second; a
crash sweep kills hundreds of them. So this process imports everything once and then forks one
child per operation on request: the child is a real process running the real code on a real
deployment directory, and the test kills it with a real ``SIGKILL`` at a random moment. The
zygote itself never opens a database or starts a thread, so a fork copies nothing that matters.

Protocol, one JSON object per line on stdin / stdout:
  {"run": "<op>", "dir": "<path>", "log": "<path>"}  ->  {"pid": N}
  {"reap": N}                                         ->  {"status": "killed" | "ok" | "error"}
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback


def _child(op: str, workdir: str, log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    code = 0
    try:
        from tests.faults import ops

        ops.OPS[op](workdir)
    except BaseException:  # noqa: BLE001 - the child reports any failure by its exit status
        traceback.print_exc()
        code = 3
    finally:
        sys.stderr.flush()
        os._exit(code)


def main() -> int:
    from tests.faults import ops

    ops.preload()
    out = sys.stdout
    out.write(json.dumps({"ready": os.getpid()}) + "\n")
    out.flush()
    for line in sys.stdin:
        cmd = json.loads(line)
        if "run" in cmd:
            pid = os.fork()
            if pid == 0:
                _child(cmd["run"], cmd["dir"], cmd["log"])
            reply = {"pid": pid}
        else:
            _pid, status = os.waitpid(cmd["reap"], 0)
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                reply = {"status": "killed"}
            else:
                reply = {"status": "ok" if os.WEXITSTATUS(status) == 0 else "error"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
