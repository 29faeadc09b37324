"""The ``peluit`` command: one entry point whose sub-command groups belong to the parts.

This package is the only place allowed to import both the server side (dropbox_app) and the
air-gapped side (workbench): it wires commands together and runs the local demo."""
