"""The reporter's side of the proof of authorship (crypto/authorship.py, docs/reporter.md).

* When a live session sends a report or a message, its sealed body carries ``author_key``: the
  public half of the per-report authorship key, derived from the X25519 secret the session
  holds. Only the auditors read it; the server never sees it in clear.
* The workbench answers a request with an attestation inside an ordinary reply (kind
  ``message`` outside, so no row tells that a reporter asked for one).
* With the codename's session, the reporter signs the attestation and a purpose line: the
  statement, shown as text and a QR code on a printable page. Nothing of it is stored here."""

from __future__ import annotations

import io
import json
from typing import Any

from markupsafe import Markup
from nacl.public import PrivateKey

from crypto.authorship import Attestation, Statement, author_key, valid_purpose
from crypto.encoding import b64encode
from crypto.errors import CryptoError

MAX_PURPOSE = 200


def public_author_key(secret: PrivateKey, report_id: str) -> str:
    """base64 of the authorship public key for ``report_id``, as the sealed body carries it."""
    return b64encode(bytes(author_key(secret, report_id).verify_key))


def attestation_in(body: Any, report_id: str, secret: PrivateKey) -> Attestation | None:
    """The attestation a reply's body carries, if it is well formed and made for this report
    and this reporter's key (anything else is ignored: the page shows the reply's text only)."""
    raw = body.get("attestation") if isinstance(body, dict) else None
    if not isinstance(raw, str) or len(raw) > 8192:
        return None
    try:
        att = Attestation.from_bytes(raw.encode("utf-8"))
    except (CryptoError, ValueError, TypeError):
        return None
    mine = author_key(secret, report_id).verify_key
    if att.report != report_id or bytes(att.author_key) != bytes(mine):
        return None
    return att


def clean_purpose(text: str) -> str | None:
    """The purpose line as it will be signed (white space folded), or None if it cannot be."""
    import unicodedata

    line = unicodedata.normalize("NFC", " ".join(text.split()))
    return line if valid_purpose(line) else None


def sign(att: Attestation, secret: PrivateKey, purpose: str) -> Statement:
    return Statement.sign(att, author_key(secret, att.report), purpose)


def qr_svg(text: str) -> Markup:
    """The armoured statement as a QR code, an inline SVG element (segno's own output)."""
    import segno

    buf = io.BytesIO()
    # No width and height, a viewBox instead: the style sheet sizes it to the page or paper.
    segno.make(text, error="l", micro=False).save(
        buf, kind="svg", scale=1, border=4, xmldecl=False, svgns=True, svgclass="qr",
        lineclass=None, title="QR", omitsize=True)
    return Markup(buf.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG


def reply_body_attestation(raw_body: bytes, report_id: str, secret: PrivateKey
                           ) -> Attestation | None:
    try:
        body = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return attestation_in(body, report_id, secret)
