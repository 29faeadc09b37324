"""``python -m bench``: list the benchmarks; ``python -m bench all`` or ``python -m bench NAME
...`` runs them, each in its own process so one's memory figures do not colour another's."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path


def names() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    available = names()
    if not argv:
        print("benchmarks:", " ".join(available))
        print("run: python -m bench all | python -m bench NAME ... | python -m bench.NAME")
        return 0
    wanted = available if argv == ["all"] else argv
    unknown = [n for n in wanted if n not in available]
    if unknown:
        print(f"unknown benchmark: {' '.join(unknown)}", file=sys.stderr)
        return 2
    status = 0
    for name in wanted:
        print(f"== bench.{name}", flush=True)
        status |= subprocess.call([sys.executable, "-m", f"bench.{name}"])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
