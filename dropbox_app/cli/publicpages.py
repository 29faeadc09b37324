"""``peluit reporter-pages``: the public "how to report safely" pages for the organisation's
website (the logic is dropbox_app/publicpages)."""

from __future__ import annotations

import argparse
from pathlib import Path

from peluit.ground.errors import UserError

from .common import config_arg, config_path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "reporter-pages",
        help="write the public 'how to report safely' pages (id, en) and the Onion-Location "
             "header for the organisation's website")
    config_arg(p)
    p.add_argument("--out", required=True, metavar="DIR", help="where to write the pages")
    p.add_argument("--organisation", required=True, metavar="NAME",
                   help="the organisation's name as the pages show it")
    p.add_argument("--onion", metavar="ADDRESS",
                   help="the reporter onion address (default: the hostname file of the "
                        "reporter onion service under [tor] data_dir)")
    p.set_defaults(func=cmd_reporter_pages)


def cmd_reporter_pages(args: argparse.Namespace) -> int:
    from ..publicpages import PagesError, write

    onion = args.onion
    if not onion:
        from tor.services import ServiceError, layout_from_config, onion_address

        path = config_path(args)
        try:
            layout = layout_from_config(path if path.is_file() else None)
        except ServiceError as exc:
            raise UserError(str(exc)) from None
        onion = onion_address(layout.reporter_dir)
        if not onion:
            raise UserError(f"no onion address in {layout.reporter_dir / 'hostname'}: start "
                            "Tor with the reporter service first, or pass --onion")
    try:
        written = write(Path(args.out), onion, args.organisation.strip() or "—")
    except PagesError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write to {args.out}: {exc.strerror}") from None
    for lang, page in written.pages.items():
        print(f"page ({lang}): {page}")
    print(f"header:    {written.header} (add its line to the website's server configuration)")
    return 0
