"""What a package to an outside agency holds (workbench/cases/forwarding.py): the complaint's
substance and the attachments under neutral names, never the sender, the day or a file name."""

import datetime as dt
import io
import json
import tarfile

from workbench.cases.forwarding import (
    FORWARD_FIELDS,
    OutgoingFile,
    build_tar,
    package_document,
    safe_extension,
)
from workbench.cases.models import Case


def _case():
    return Case(number="2026-000001", received_day=dt.date(2026, 3, 16), category="pungli",
                darwas=True)


def test_the_document_holds_the_forward_fields_only_and_the_month_not_the_day():
    fields = {k: f" {k} text " for k in FORWARD_FIELDS}
    fields["sender"] = "Ibu Sari, Jl. Mawar 3"  # never forwarded
    doc = package_document("ab" * 8, _case(), fields, {"pungli": "Pungli"},
                           dt.date(2026, 4, 1), [OutgoingFile(b"%PDF", "pdf")], ["safe-copy"])
    assert set(doc["complaint"]) == set(FORWARD_FIELDS)
    assert "sender" not in doc["complaint"] and "Sari" not in json.dumps(doc)
    assert doc["complaint"][FORWARD_FIELDS[0]] == f"{FORWARD_FIELDS[0]} text"
    assert doc["received_month"] == "2026-03" and "2026-03-16" not in json.dumps(doc)
    assert doc["attachments"] == ["lampiran-1.pdf"]
    assert doc["attachment_forms"] == {"lampiran-1.pdf": "safe-copy"}
    assert doc["category"] == {"code": "pungli", "name": "Pungli"}


def test_the_tar_names_files_neutrally_and_carries_no_owner_or_time():
    files = [OutgoingFile(b"one", "pdf"), OutgoingFile(b"two", "png")]
    raw = build_tar(package_document("cd" * 8, _case(), {}, {}, dt.date(2026, 4, 1), files),
                    files)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["complaint.json", "README.txt", "lampiran-1.pdf",
                                             "lampiran-2.png"]
        for m in members:
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        assert tar.extractfile("lampiran-2.png").read() == b"two"
    # The same package twice is the same bytes (nothing of the moment it was built).
    assert raw == build_tar(package_document("cd" * 8, _case(), {}, {}, dt.date(2026, 4, 2),
                                             files), files)


def test_an_extension_from_a_reporters_file_name_is_only_ever_a_short_plain_token():
    assert safe_extension("bukti.PDF") == "pdf"
    assert safe_extension(None) == "bin" and safe_extension("noextension") == "bin"
    for hostile in ("x.pdf/../../etc", "x.p df", "x." + "a" * 50, "x.tar.gz\n", "x.é"):
        ext = safe_extension(hostile)
        assert ext == "bin" or (ext.isalnum() and ext.isascii() and len(ext) <= 10), ext
