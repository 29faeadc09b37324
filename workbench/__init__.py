"""The air-gapped workbench: the vault, bundle import and export, case management, and a local
UI bound to loopback. Never imports dropbox_app: the two meet only through crypto/'s bundles."""
