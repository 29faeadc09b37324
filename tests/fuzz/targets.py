"""Fuzz targets: every parser that reads input from outside the process, each behind one
function ``target(data: bytes) -> None``.

A target feeds the bytes to the parser and lets through only the parser's documented refusal
(``crypto.errors.CryptoError``, ``FormError``, ``PolicyError``, ``ImportRefused``, …). Any other
exception, a hang or a crash is a finding: the fuzzer (tests/fuzz/run.py, atheris) saves the input
and a regression test (tests/fuzz/test_fuzz_regressions.py) keeps it.

Where a signature stands before the parser (bundles, cards), the harness signs what the fuzzer
made with a fixed test key, so the mutations reach the code behind the signature check: a signed
bundle from a buggy or compromised workbench must still be refused cleanly. Keys are derived from
fixed seeds so that a saved corpus stays meaningful from one campaign to the next.

``SEEDS`` gives each target a few valid inputs to start from (the campaign's corpus directory
keeps what the fuzzer found on top of them)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto import bundle, envelope, identity, sealed
from crypto.encoding import canonical_json, parse_canonical_json
from crypto.errors import CryptoError
from crypto.keys import sign_key_id

DAY = dt.date(2026, 11, 23)
DEPLOYMENT = "fuzz-deployment"
_SIGNER = SigningKey(hashlib.sha256(b"peluit fuzz signer").digest())
_SIGNER_ID = sign_key_id(_SIGNER.verify_key)
_BOX = PrivateKey(hashlib.sha256(b"peluit fuzz box").digest())
_AUDITOR = identity.AuditorIdentity("Fuzz Auditor", _BOX, _SIGNER)
_SEAL_KEY = hashlib.sha256(b"peluit fuzz seal").digest()
_TRUSTED = {_SIGNER_ID: _SIGNER.verify_key}
_HEX = "0123456789abcdef"


def _id(n: int) -> str:
    return hashlib.md5(str(n).encode()).hexdigest()  # noqa: S324 - an id shape, not a hash


# --- envelope ---------------------------------------------------------------------------------

def envelope_target(data: bytes) -> None:
    """A stored or imported envelope: header, key block, metadata, chunks, trailer."""
    with contextlib.suppress(CryptoError):
        envelope.check_well_formed(io.BytesIO(data), len(data))
    try:
        reader = envelope.EnvelopeReader(io.BytesIO(data), [_BOX])
        for _ in reader.chunks():
            pass
    except CryptoError:
        pass


def _envelope_seeds() -> list[bytes]:
    pub = _BOX.public_key
    return [envelope.seal_bytes(b"", [pub], {"v": 1}),
            envelope.seal_bytes(b"isi laporan " * 40, [pub], {"v": 1, "kind": "file"}),
            envelope.seal_bytes(b"x", [pub, PrivateKey(bytes(range(32))).public_key], {})]


# --- canonical JSON (the envelope's metadata, manifests, cards, signatures) --------------------

def json_target(data: bytes) -> None:
    try:
        value = parse_canonical_json(data)
    except CryptoError:
        return
    # What parses must write back to the same bytes (one spelling per value).
    assert canonical_json(value) == data, "canonical JSON parsed a non-canonical spelling"


# --- bundles ----------------------------------------------------------------------------------

def _bundle_bytes(manifest_raw: bytes, members: bytes) -> bytes:
    signature = _SIGNER.sign(bundle.DOMAIN + manifest_raw).signature
    return (bundle.MAGIC + struct.pack(">B3xI", bundle.VERSION, len(manifest_raw))
            + manifest_raw + signature + members)


def _read_bundle(raw: bytes, kind: str) -> bundle.BundleReader | None:
    try:
        reader = bundle.BundleReader(io.BytesIO(raw), _TRUSTED, kind, lambda _s: 2, DEPLOYMENT)
        for member in reader.members():
            member.drain()
    except CryptoError:
        return None
    return reader


def bundle_target(data: bytes) -> None:
    """A bundle as it arrives on removable media: the bytes as they are (nothing verifies but
    what the fuzzer cannot forge), then the same bytes as a manifest signed by a trusted key
    followed by member data, so the parse behind the signature check is reached too."""
    _read_bundle(data, "inbox")
    split = data.find(b"\n")
    manifest_raw, members = (data, b"") if split < 0 else (data[:split], data[split + 1:])
    for kind in ("inbox", "reply"):
        reader = _read_bundle(_bundle_bytes(manifest_raw, members), kind)
        if reader is not None:
            _bundle_bodies(reader.manifest)


def _bundle_bodies(manifest: bundle.Manifest) -> None:
    """The bodies behind a verified signature: the gateway's reply plan, the workbench's inbox
    entries."""
    from dropbox_app.gateway.replyplan import BadReplyBundle, plan
    from workbench.importer import ImportRefused, _parse_entries

    if manifest.kind == "reply":
        with contextlib.suppress(BadReplyBundle):
            plan(manifest)
    else:
        with contextlib.suppress(ImportRefused):
            _parse_entries(manifest.body, [m.name for m in manifest.members])


def _bundle_seeds() -> list[bytes]:
    seeds = []
    member = envelope.seal_bytes(b"laporan", [_BOX.public_key], {"v": 1})
    m = bundle.Member("a" * 32 + ".env", len(member), hashlib.sha256(member).hexdigest())
    bodies = {
        "inbox": {"submissions": [{"id": _id(1), "report": _id(2),
                                   "reporter_key": "A" * 43 + "=", "kind": "submission",
                                   "member": m.name, "day": "2026-11-23"}],
                  "admin_log": []},
        "reply": {"acks": [_id(3)], "replies": [{"id": "a" * 32, "report": _id(2),
                                                 "kind": "question", "member": m.name}],
                  "statuses": [{"report": _id(2), "status": "verification"}],
                  "server_key": _id(4)},
    }
    for kind, body in bodies.items():
        manifest = bundle.make_manifest(kind, DEPLOYMENT, _SIGNER, 3, [m], body, DAY)
        raw = manifest.to_bytes()
        seeds.append(raw + b"\n" + member)
        seeds.append(_bundle_bytes(raw, member))
    return seeds


# --- cards ------------------------------------------------------------------------------------

def card_target(data: bytes) -> None:
    """An auditor or server card (enrolment, pinning, key rotation)."""
    with contextlib.suppress(CryptoError):
        identity.Card.from_bytes(data)
    # The same fields self-signed by the fuzz key reach every check behind the signature.
    try:
        obj = parse_canonical_json(data.strip())
    except CryptoError:
        return
    if isinstance(obj, dict) and "sign_key" in obj:
        from crypto.encoding import b64encode
        from crypto.identity import CARD_DOMAIN

        obj = {**obj, "sign_key": b64encode(bytes(_SIGNER.verify_key))}
        unsigned = {k: v for k, v in obj.items() if k != "signature"}
        obj["signature"] = b64encode(_SIGNER.sign(CARD_DOMAIN + canonical_json(unsigned))
                                     .signature)
        with contextlib.suppress(CryptoError):
            identity.Card.from_bytes(canonical_json(obj))


def _card_seeds() -> list[bytes]:
    return [_AUDITOR.card(DAY).to_bytes(),
            identity.ServerKey(name="fuzz-server", signing=_SIGNER).card(DAY).to_bytes()]


# --- protection policy ------------------------------------------------------------------------

def policy_target(data: bytes) -> None:
    """A policy version's header (policy.toml), its signature file, and its Markdown text."""
    from policies.documents import (
        PolicyError,
        Signature,
        _parse_header,
        render_markdown,
        renderable,
    )

    with contextlib.suppress(PolicyError):
        _parse_header(data, Path("policy.toml"))
    with contextlib.suppress(PolicyError):
        Signature.from_bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if not renderable(text):  # load_version refuses such a text before anything renders it
        return
    html = render_markdown.__wrapped__(text)
    assert "<script" not in html.lower(), "script survived the policy text's cleaning"


def _policy_seeds() -> list[bytes]:
    from policies.documents import DEFAULT_DIR

    seeds = []
    for version in sorted(Path(DEFAULT_DIR).iterdir()):
        for name in ("policy.toml", "signature.json", "en.md"):
            if (version / name).is_file():
                seeds.append((version / name).read_bytes()[:8192])
    return seeds or [b'id = "x"\n']


# --- forms and multipart (peluit/ground/forms.py) ---------------------------------------------

def _content_type_and_body(data: bytes) -> tuple[str, bytes]:
    """The first line is the Content-Type header, the rest the body."""
    head, _, body = data.partition(b"\n")
    return head.decode("latin-1"), body


def forms_target(data: bytes) -> None:
    from peluit.ground.forms import FormError, parse_body, parse_urlencoded

    with contextlib.suppress(FormError):
        parse_urlencoded(data, repeatable=("files",))
    content_type, body = _content_type_and_body(data)
    try:
        form = parse_body(body, content_type)
    except FormError:
        return
    assert len(form.pairs) <= 64


def _multipart(boundary: str, parts: list[tuple[str, str | None, bytes]]) -> bytes:
    out = []
    for name, filename, value in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode())
        if filename is not None:
            out.append(b"Content-Type: application/pdf\r\n")
        out.append(b"\r\n" + value + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _forms_seeds() -> list[bytes]:
    boundary = "----b0undary"
    body = _multipart(boundary, [("csrf_token", None, b"t" * 40), ("text", None, b"halo"),
                                 ("files", "bukti.pdf", b"%PDF-1.4 isi")])
    return [b"csrf_token=abc&text=halo+dunia&files=a&files=b",
            f"multipart/form-data; boundary={boundary}\n".encode() + body,
            b"application/x-www-form-urlencoded\nlang=id&x=%E2%82%AC"]


# --- the server's streaming upload parser (dropbox_app/ingest.py) -----------------------------

_STORE: list = []


def _store():
    if not _STORE:
        from dropbox_app.store import Store

        _STORE.append(Store(Path(tempfile.mkdtemp(prefix="peluit-fuzz-store-"))))
    return _STORE[0]


def ingest_target(data: bytes) -> None:
    from dropbox_app.forms import FormError
    from dropbox_app.ingest import Limits, ingest

    content_type, body = _content_type_and_body(data)

    def csrf(value: str) -> None:
        if value != "t" * 40:
            raise FormError("csrf")

    limits = Limits(frozenset({"text", "what"}))
    try:
        form = ingest(io.BytesIO(body), content_type, len(body), _store(), [_BOX.public_key],
                      _id(9), limits, csrf)
    except FormError:
        return
    form.discard()


# --- cookies and URLs (peluit/ground/wsgi.py) -------------------------------------------------

def cookies_target(data: bytes) -> None:
    from webob import Request

    from peluit.ground.wsgi import MAX_COOKIE_PAIRS, clean_cookie_header, url_is_utf8

    text = data.decode("latin-1")
    cookie, _, url = text.partition("\n")
    path, _, query = url.partition("?")
    environ = {"HTTP_COOKIE": cookie, "PATH_INFO": path, "QUERY_STRING": query,
               "REQUEST_METHOD": "GET", "SERVER_NAME": "x", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http"}
    clean_cookie_header(environ)
    # What the guard lets through WebOb must parse, and within the pair cap.
    cookies = Request(environ).cookies
    assert len(cookies) <= MAX_COOKIE_PAIRS
    if url_is_utf8(environ):
        request = Request(environ)
        request.path_info  # noqa: B018 - WebOb decodes here; it must not raise
        dict(request.GET)


def _cookies_seeds() -> list[bytes]:
    return [b"peluit_session=abcDEF123-_; lang=id\n/followup?lang=en",
            b'a="b"; c=d; e\n/%E2%82%AC?q=%FF']


# --- the vault's records (workbench/vault.py) and sealed files (crypto/sealed.py) -------------

def vault_target(data: bytes) -> None:
    """An auditor record file, a sealed identity, and an audit-log line (of a vault or of an
    export file that ``peluit audit verify`` reads)."""
    from policies.auditlog import AuditFormatError, parse_line
    from workbench.vault import AuditorRecord

    with contextlib.suppress(AuditFormatError):
        parse_line(data, "fuzz")

    with contextlib.suppress(CryptoError):
        AuditorRecord.from_bytes(data)
    with contextlib.suppress(CryptoError):
        sealed.open_with_key(data, _SEAL_KEY, "auditor-identity")
    with contextlib.suppress(CryptoError):
        sealed.kdf_of(data, "auditor-identity")


def _vault_seeds() -> list[bytes]:
    from workbench.vault import AuditorRecord

    sealed_identity = _AUDITOR.seal_with_key(_SEAL_KEY)
    record = AuditorRecord(_SIGNER_ID, "Fuzz Auditor", "lead", sealed_identity, bytes(80),
                           version=2, vault_id=_id(5), seal_key=bytes(32), key_check=bytes(32))
    return [record.to_bytes(), sealed_identity]


# --- proof of authorship (peluit verify-authorship, the workbench's receipt form) --------------

_AUTHOR = SigningKey(hashlib.sha256(b"peluit fuzz author").digest())


def _authorship_card():
    from crypto.authorship import AuthorshipCard

    return AuthorshipCard.make(_SIGNER, DEPLOYMENT, "Fuzz Inspektorat", DAY.isoformat())


def authorship_target(data: bytes) -> None:
    """A statement as text (the armoured block among other lines), a statement's and a card's
    bytes, a receipt: parsed and checked against a fixed card."""
    from crypto import authorship

    card = _authorship_card()
    text = data.decode("utf-8", errors="replace")
    with contextlib.suppress(CryptoError):
        authorship.Statement.from_armor(text).verify(card)
    with contextlib.suppress(CryptoError):
        authorship.Statement.from_bytes(data).verify(card)
    with contextlib.suppress(CryptoError):
        authorship.AuthorshipCard.from_bytes(data)
    with contextlib.suppress(CryptoError):
        authorship.Receipt.from_bytes(data).verify(card)


def _authorship_seeds() -> list[bytes]:
    from crypto import authorship

    att = authorship.Attestation.issue(_SIGNER, DEPLOYMENT, _id(1), DAY.isoformat(),
                                       "corruption", _AUTHOR.verify_key, DAY.isoformat())
    st = authorship.Statement.sign(att, _AUTHOR, "untuk LPSK")
    card = _authorship_card()
    return [("Pernyataan\n" + st.armor()).encode(), st.to_bytes(), card.to_bytes(),
            authorship.Receipt.issue(_SIGNER, card, st, "LPSK", DAY.isoformat()).to_bytes()]


TARGETS: dict[str, Callable[[bytes], None]] = {
    "envelope": envelope_target,
    "json": json_target,
    "bundle": bundle_target,
    "card": card_target,
    "policy": policy_target,
    "forms": forms_target,
    "ingest": ingest_target,
    "cookies": cookies_target,
    "vault": vault_target,
    "authorship": authorship_target,
}

SEEDS: dict[str, Callable[[], list[bytes]]] = {
    "envelope": _envelope_seeds,
    "json": lambda: [canonical_json({"a": [1, "b", None, True], "k": {"x": -3}})],
    "bundle": _bundle_seeds,
    "card": _card_seeds,
    "policy": _policy_seeds,
    "forms": _forms_seeds,
    "ingest": lambda: [s for s in _forms_seeds() if s.startswith(b"multipart")],
    "cookies": _cookies_seeds,
    "vault": _vault_seeds,
    "authorship": _authorship_seeds,
}

#: The modules whose code each campaign instruments for coverage (and reports coverage of).
MODULES: dict[str, tuple[str, ...]] = {
    "envelope": ("crypto.envelope", "crypto.encoding", "crypto.padding"),
    "json": ("crypto.encoding",),
    "bundle": ("crypto.bundle", "crypto.encoding", "dropbox_app.gateway.replyplan",
               "workbench.importer"),
    "card": ("crypto.identity", "crypto.encoding", "crypto.keys"),
    "policy": ("policies.documents.model", "policies.documents.signing",
               "policies.documents.rendering"),
    "forms": ("peluit.ground.forms", "multipart"),
    "ingest": ("dropbox_app.ingest", "multipart"),
    "cookies": ("peluit.ground.wsgi",),
    "vault": ("workbench.vault", "crypto.sealed", "crypto.encoding"),
    "authorship": ("crypto.authorship", "crypto.encoding"),
}
