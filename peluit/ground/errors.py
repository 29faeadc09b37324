"""The CLI's one error convention.

A command that fails for a reason the user can act on (a missing file, a wrong passphrase, a
refused bundle, a bad configuration) raises ``UserError`` or a subclass of it; ``peluit.cli``
prints ``peluit: <message>`` as one line on stderr and exits with status 1. Nothing else turns
an exception into a message: anything that is not a ``UserError`` is a bug and keeps its
traceback. Parts give their own typed errors this base (``class VaultError(UserError)``)
rather than catching and printing them in each command."""

from __future__ import annotations

import sys

EXIT_USER_ERROR = 1


class UserError(Exception):
    """A failure the user can act on: one line on stderr, exit status 1, no traceback."""


def report(exc: BaseException, prog: str = "peluit") -> int:
    """Print ``exc`` the house's way and return the exit status."""
    if isinstance(exc, OSError) and not isinstance(exc, UserError):
        # A path the user named cannot be read or written: say which.
        where = f" ({exc.filename})" if exc.filename else ""
        message = f"{exc.strerror or exc}{where}"
    else:
        message = str(exc) or type(exc).__name__
    print(f"{prog}: {message}", file=sys.stderr)
    return EXIT_USER_ERROR
