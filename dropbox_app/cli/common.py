"""What the server's commands share: where the configuration is, and opening it and the
database with one clear line when they are not usable."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from peluit.ground.errors import UserError

DEFAULT_CONFIG = "/etc/peluit/peluit.toml"


def config_arg(p: argparse.ArgumentParser, help: str | None = None) -> None:  # noqa: A002
    p.add_argument("--config", metavar="PATH",
                   help=help or f"peluit.toml (default: $PELUIT_CONFIG or {DEFAULT_CONFIG})")


def group(subparsers: argparse._SubParsersAction, name: str, help: str  # noqa: A002
          ) -> argparse._SubParsersAction:
    """``peluit NAME ACTION …``: a command group whose actions are required."""
    return subparsers.add_parser(name, help=help).add_subparsers(
        dest=f"{name.replace('-', '_')}_command", metavar="ACTION", required=True)


def command(sub: argparse._SubParsersAction, name: str, func: Any, help: str,  # noqa: A002
            *args: tuple[str, dict[str, Any]], **defaults: Any) -> argparse.ArgumentParser:
    """A command that takes ``--config`` and runs ``func``; ``args`` are (name, add_argument
    keywords) pairs, added before ``--config``."""
    p = sub.add_parser(name, help=help)
    for arg, kw in args:
        p.add_argument(arg, **kw)
    config_arg(p)
    p.set_defaults(func=func, **defaults)
    return p


def config_path(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("PELUIT_CONFIG") or DEFAULT_CONFIG)


def load_config(args: argparse.Namespace) -> Any:
    from ..config import load

    return load(config_path(args))


def check_db(cfg: Any) -> None:
    """Refuse to work on a database that cannot be opened or is not at the newest revision."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..db import current_revision, head_revision

    try:
        current = current_revision(cfg.database_url)
    except SQLAlchemyError as exc:
        raise UserError(f"cannot open the database: {type(exc).__name__}") from None
    if current != head_revision():
        raise UserError("the database is not up to date; run `peluit db upgrade` first")


def session(cfg: Any) -> Any:
    from ..db import make_engine, session_factory

    return session_factory(make_engine(cfg.database_url))()


def open_db(args: argparse.Namespace) -> tuple[Any, tuple[Any, Any]]:
    """The configuration, and an engine with its session factory (dispose the engine)."""
    from ..db import make_engine, session_factory

    cfg = load_config(args)
    check_db(cfg)
    engine = make_engine(cfg.database_url)
    return cfg, (engine, session_factory(engine))
