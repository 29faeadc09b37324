"""dropbox_app/ingest.py on its own: a multipart body read in blocks, each file sealed to the
recipients as it arrives into a store slot, the text fields kept in memory; anything malformed
is refused with the store left as it was (no slot keeps a byte of the upload)."""

from __future__ import annotations

import io
import os

import pytest
from nacl.public import PrivateKey

from crypto.envelope import open_bytes
from dropbox_app.ingest import Limits, boundary_of, check_file_name, ingest
from dropbox_app.store import Store
from peluit.ground.forms import FormError

BOUNDARY = "peluitboundary"
CTYPE = f"multipart/form-data; boundary={BOUNDARY}"
SECRET = b"%PDF-1.4 kuitansi pungli loket 3 " * 40_000  # spans several read blocks
LIMITS = Limits(text_fields=frozenset({"what", "concerns"}))


def _body(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n".encode()
                + (b"Content-Type: application/pdf\r\n" if filename is not None else b"")
                + b"\r\n" + data + b"\r\n")
    return out + f"--{BOUNDARY}--\r\n".encode()


def _run(store, body, recipients, limits=LIMITS, csrf=lambda token: None):
    return ingest(io.BytesIO(body), CTYPE, len(body), store, recipients, "r" * 32, limits, csrf)


def _nonempty(path) -> list[str]:
    return [n for n in os.listdir(path) if os.path.getsize(path / n)]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "store")
    s.ensure()
    return s


def test_files_are_sealed_as_they_arrive_and_fields_stay_in_memory(store, tmp_path):
    key = PrivateKey.generate()
    form = _run(store, _body(("csrf_token", None, b"tok"), ("what", None, b"Pungli di loket"),
                             ("files", "kuitansi.pdf", SECRET)), [key.public_key])
    assert form.fields == {"csrf_token": "tok", "what": "Pungli di loket"}
    [stored] = form.files
    assert stored.size == len(SECRET) and stored.name == "kuitansi.pdf"
    stored.pending.commit()
    sealed = store.read(stored.pending.member)
    assert SECRET[:64] not in sealed and b"kuitansi" not in sealed  # ciphertext only, name too
    meta, plain = open_bytes(sealed, [key])
    assert plain == SECRET
    assert meta["name"] == "kuitansi.pdf" and meta["submission"] == stored.submission_id
    with pytest.raises(Exception):  # noqa: B017 - only the recipients can open it
        open_bytes(sealed, [PrivateKey.generate()])
    stored.pending.release()


@pytest.mark.parametrize(("parts", "reason"), [
    # The token must be the first field: nothing is stored for a forged request.
    ([("files", "a.pdf", SECRET), ("csrf_token", None, b"tok")], "csrf"),
    ([("what", None, b"x"), ("csrf_token", None, b"tok")], "csrf"),
    ([("csrf_token", None, b"tok"), ("files", "../../etc/passwd", SECRET)], "filename"),
    ([("csrf_token", None, b"tok"), ("files", "a\x07.pdf", SECRET)], "filename"),
    ([("csrf_token", None, b"tok"), ("evil", "a.pdf", SECRET)], "malformed"),
    ([("csrf_token", None, b"tok"), ("unknown", None, b"x")], "malformed"),
    ([("csrf_token", None, b"tok"), ("what", None, b"a"), ("what", None, b"b")], "malformed"),
    ([("csrf_token", None, b"tok"), ("files", "a.pdf", SECRET), ("what", None, b"\xff\xfe")],
     "encoding"),
    ([("csrf_token", None, b"tok"), ("files", "a.pdf", SECRET),
      ("what", None, b"x" * (LIMITS.max_text_bytes + 1))], "text_too_long"),
])
def test_a_malformed_upload_is_refused_and_leaves_no_byte_in_the_store(store, parts, reason):
    before = sorted(os.listdir(store.path))
    with pytest.raises(FormError) as err:
        _run(store, _body(*parts), [PrivateKey.generate().public_key])
    assert err.value.reason == reason
    assert _nonempty(store.path) == [] and sorted(os.listdir(store.path)) == before


def test_a_body_cut_short_is_refused_and_its_file_goes(store):
    body = _body(("csrf_token", None, b"tok"), ("files", "a.pdf", SECRET))
    cut = body[: len(body) // 2]
    with pytest.raises(FormError) as err:
        ingest(io.BytesIO(cut), CTYPE, len(body), store, [PrivateKey.generate().public_key],
               "r" * 32, LIMITS, lambda token: None)
    assert err.value.reason == "incomplete" and _nonempty(store.path) == []


def test_a_wrong_token_stops_before_any_file_is_read(store):
    def refuse(token):
        raise FormError("csrf")

    with pytest.raises(FormError):
        _run(store, _body(("csrf_token", None, b"forged"), ("files", "a.pdf", SECRET)),
             [PrivateKey.generate().public_key], csrf=refuse)
    assert _nonempty(store.path) == []


def test_the_group_is_chosen_from_the_fields_before_the_first_file(store):
    inspectorate, conflict = PrivateKey.generate(), PrivateKey.generate()

    def choose(fields):
        if fields.get("concerns") not in ("yes", "no"):
            raise FormError("route")  # nothing is ever sealed to a group by default
        return [conflict.public_key if fields["concerns"] == "yes" else inspectorate.public_key]

    form = _run(store, _body(("csrf_token", None, b"t"), ("concerns", None, b"yes"),
                             ("files", "a.pdf", b"bukti")), choose)
    form.files[0].pending.commit()
    sealed = store.read(form.files[0].pending.member)
    assert open_bytes(sealed, [conflict])[1] == b"bukti"
    with pytest.raises(Exception):  # noqa: B017
        open_bytes(sealed, [inspectorate])
    form.files[0].pending.release()
    with pytest.raises(FormError) as err:  # a file before the answer: refused, nothing kept
        _run(store, _body(("csrf_token", None, b"t"), ("files", "a.pdf", b"bukti")), choose)
    assert err.value.reason == "route"


def test_too_many_files_is_a_413(store):
    limits = Limits(text_fields=frozenset(), max_files=2)
    parts = [("csrf_token", None, b"t")] + [("files", f"{i}.pdf", b"x") for i in range(3)]
    with pytest.raises(FormError) as err:
        _run(store, _body(*parts), [PrivateKey.generate().public_key], limits=limits)
    assert (err.value.reason, err.value.status) == ("too_many_files", 413)
    assert _nonempty(store.path) == []


def test_no_recipients_is_refused_before_reading():
    with pytest.raises(ValueError):
        ingest(io.BytesIO(b""), CTYPE, 0, None, [], "r" * 32, LIMITS, lambda t: None)


@pytest.mark.parametrize("header", ["text/plain", "multipart/form-data",
                                    "multipart/form-data; boundary=" + "x" * 201, ""])
def test_only_multipart_with_a_sane_boundary(header):
    with pytest.raises(FormError):
        boundary_of(header)
    assert boundary_of(CTYPE) == BOUNDARY


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "x" * 256, "a\u202eb", "a\nb"])
def test_file_names_a_browser_never_sends_are_refused(name):
    with pytest.raises(FormError):
        check_file_name(name)
    assert check_file_name("Lapora\u0301n.pdf") == "Laporán.pdf"  # NFC
