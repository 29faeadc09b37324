"""Serving the workbench UI with waitress, on loopback only: there is no option to listen
anywhere else."""

from __future__ import annotations

import sys
from pathlib import Path

HOST = "127.0.0.1"


def serve(vault_dir: Path, port: int, demo_not_air_gapped: bool = False) -> None:
    import waitress

    from .web import make_app
    app = make_app(vault_dir, demo_not_air_gapped=demo_not_air_gapped)
    print(f"Workbench on http://{HOST}:{port}/ (Ctrl-C stops it and forgets every key)",
          file=sys.stderr)
    # Small bodies only (questions); nothing is ever spooled to a temp file.
    waitress.serve(app, host=HOST, port=port, threads=4, max_request_body_size=1 << 20,
                   inbuf_overflow=2 << 20, ident="peluit-workbench", _quiet=True)
