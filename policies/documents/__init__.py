"""The protection policy: versioned Markdown in Indonesian and English, signed by a compliance
officer, rendered sanitised.

Layout of a policy directory (``policies/documents/protection-policy/`` ships version 1.0)::

    protection-policy/<version>/policy.toml     the structured header (see HEADER_KEYS)
    protection-policy/<version>/id.md           Indonesian text
    protection-policy/<version>/en.md           English text
    protection-policy/<version>/signature.json  written by ``peluit policy sign``

The signature is Ed25519 by the officer's auditor identity (crypto.identity.AuditorIdentity: the
one they hold on the workbench, or a standalone one from ``peluit policy new-signer``) over
``SIGNATURE_DOMAIN`` + canonical JSON ``{"policy", "version", "files": {name: sha256}}`` of the
*exact bytes* of policy.toml, id.md and en.md. Change a byte in any of them and the version no
longer verifies. ``signature.json`` also carries the signer's card, so a verifier can show who
signed and, given ``trusted`` keys, insist on a particular officer.

The reporter app calls::

    rendered = signed_policy(policy_dir, "id")   # RenderedPolicy, or raises PolicyError
    rendered.html, rendered.version, rendered.fingerprint, rendered.signer

which returns the newest version that is signed, verifies, and is in force today; unsigned
drafts are skipped, and a version whose signature fails to verify is an error, never shown.

The code: ``model`` (header, versions, errors), ``signing``, ``rendering``, ``installation``
(in force, diff, reductions, install), ``landing`` (what the landing pages show); all of it is
re-exported here."""

from __future__ import annotations

from .installation import (  # noqa: F401 - the package's API
    chain_reductions,
    current,
    diff,
    install,
    reductions,
    signed_policy,
)
from .landing import (  # noqa: F401 - the package's API
    LandingPolicy,
    PolicyBlock,
    _log,
    _PolicyDeadlines,
)
from .model import (  # noqa: F401 - the package's API
    _PLACEHOLDER,
    _VERSION,
    DEADLINES,
    DEFAULT_DIR,
    FINGERPRINT_DOMAIN,
    HEADER_FILE,
    HEADER_KEYS,
    LANGUAGES,
    MAX_BRACKET_DEPTH,
    MAX_CONFLICT_MEMBERS,
    MAX_FILE_BYTES,
    OPTIONAL_DEADLINES,
    OPTIONAL_HEADER_KEYS,
    SIGNATURE_DOMAIN,
    SIGNATURE_FILE,
    SIGNATURE_FORMAT,
    Header,
    PolicyError,
    PolicyVersion,
    _parse_conflict,
    _parse_escrow,
    _parse_header,
    _posint,
    _version_key,
    conflict_section,
    load_version,
    policy_fingerprint,
    renderable,
    version_dirs,
    write_atomic,
)
from .rendering import (  # noqa: F401 - the package's API
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    RenderedPolicy,
    _flatten,
    _rendered,
    render_markdown,
)
from .signing import (  # noqa: F401 - the package's API
    Signature,
    VerifiedPolicy,
    sign_version,
    verify_version,
)
