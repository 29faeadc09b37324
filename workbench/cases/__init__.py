"""Case management on the workbench: the inspectorate's process from intake to closing.

``workflow`` (states, decisions, roles), ``service`` (every step, roles enforced, audit-logged),
``index`` (in-memory full-text search), ``duplicates`` (keyed bottom-k sketches), ``forwarding``
(OpenPGP packages to outside agencies), ``attachments`` (sanitised names, sandboxed previews),
``export`` (per-case records for statistics), ``views`` (the local web UI)."""
