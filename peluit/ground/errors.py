"""The CLI's one error convention.

A command that fails for a reason the user can act on (a missing file, a wrong passphrase, a
refused bundle, a bad configuration) raises ``UserError`` or a subclass of it; ``peluit.cli``
prints ``peluit: <message>`` as one line on stderr and exits with status 1. Nothing else turns
an exception into a message: anything that is not a ``UserError`` is a bug and keeps its
traceback. Parts give their own typed errors this base (``class VaultError(UserError)``)
rather than catching and printing them in each command."""

from __future__ import annotations

import errno
import os
import sys

EXIT_USER_ERROR = 1


def N_(message: str) -> str:  # gettext marker, as i18n.N_ (not imported here: see below)
    return message


# peluit.ground.i18n (Babel) is imported only when a message is shown: `peluit --help` stays
# light, and this module is imported by every command.
#: SQLSTATE of PostgreSQL's disk_full (class 53, insufficient resources).
PG_DISK_FULL = "53100"
# SQLite's codes for a full disk: SQLITE_FULL (13), and SQLITE_IOERR_SHMSIZE (4874), which is
# what opening a WAL database gives when its -shm file cannot be made on a full disk.
_SQLITE_DISK_FULL = (13, 4874)
DISK_FULL = N_("the disk is full: nothing of this command was kept. Free space on it, then run "
               "the same command again")


class UserError(Exception):
    """A failure the user can act on: one line on stderr, exit status 1, no traceback."""


def disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or what it wraps or was raised while handling, says the disk (or the
    quota) is full: ENOSPC or EDQUOT, SQLite's SQLITE_FULL or IOERR_SHMSIZE, PostgreSQL's
    disk_full (SQLAlchemy keeps the driver's error as ``orig``)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        sqlite3 = sys.modules.get("sqlite3")  # no SQLite error without the module loaded
        if sqlite3 is not None and isinstance(exc, sqlite3.Error) and \
                getattr(exc, "sqlite_errorcode", None) in _SQLITE_DISK_FULL:
            return True
        if getattr(exc, "sqlstate", None) == PG_DISK_FULL:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


def cli_language() -> str:
    """The language of the CLI's messages: ``PELUIT_LANGUAGE``, else the locale's
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``id_ID.UTF-8`` gives id), else the house's."""
    from .i18n import DEFAULT_LANGUAGE, LANGUAGES

    for name in ("PELUIT_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")[:2].lower()
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


def report(exc: BaseException, prog: str = "peluit") -> int:
    """Print ``exc`` the house's way and return the exit status."""
    if disk_full(exc):
        # Whatever layer said it (the store, SQLite, a UserError wrapping an OSError): the
        # user can act on one thing only, in their language.
        from .i18n import translations

        _ = translations("peluit", "peluit", cli_language()).gettext
        print(f"{prog}: {_(DISK_FULL)}", file=sys.stderr)
        return EXIT_USER_ERROR
    if isinstance(exc, OSError) and not isinstance(exc, UserError):
        # A path the user named cannot be read or written: say which.
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"{exc.strerror or exc}{where}"
    else:
        message = str(exc) or type(exc).__name__
    print(f"{prog}: {message}", file=sys.stderr)
    return EXIT_USER_ERROR
