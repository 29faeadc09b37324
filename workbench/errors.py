"""The workbench's user-facing error (its own module so that vault.py and trust.py, which use
each other, can both raise it)."""


class VaultError(Exception):
    """A vault operation failed for a reason the user can act on (message is one clear line)."""
