"""The shared in-memory form parser: what it accepts, what it refuses (never a temp file)."""

import pytest

from peluit.ground.forms import FormError, UploadedFile, parse_body


def _multipart(parts, boundary="b0undary"):
    out = b""
    for name, value, filename in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + value + b"\r\n"
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_urlencoded_fields_are_cleaned_text():
    form = parse_body(b"a=1&text=baris+satu%0D%0Abaris%00dua&file=x&file=y",
                      "application/x-www-form-urlencoded", repeatable={"file"})
    assert form.text("text") == "baris satu\nbarisdua" and form.getall("file") == ["x", "y"]
    assert form.text("missing", "d") == "d" and "a" in form and form.as_dict()["a"] == "1"


@pytest.mark.parametrize("raw", [b"a=1&a=2", b"a=%ff", b"\xff=1", b"&".join([b"x=1"] * 65)])
def test_urlencoded_refusals(raw):
    with pytest.raises(FormError):
        parse_body(raw, "application/x-www-form-urlencoded")


def test_multipart_keeps_file_parts_in_memory():
    body, ctype = _multipart([("name", b"KPK", None),
                              ("key_file", b"-----BEGIN PGP", "kpk.asc")])
    form = parse_body(body, ctype)
    upload = form.get("key_file")
    assert isinstance(upload, UploadedFile) and upload.file.read() == b"-----BEGIN PGP"
    assert upload.filename == "kpk.asc" and form.text("name") == "KPK"
    assert form.text("key_file") == ""  # a file part is not a text value


@pytest.mark.parametrize("body,ctype", [
    (b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
     "multipart/form-data; boundary=b"),
    (b"x", "multipart/form-data"),
    (_multipart([("a", b"\xff", None)])[0], _multipart([])[1]),
    (b"{}", "application/json"),
])
def test_multipart_and_other_refusals(body, ctype):
    with pytest.raises(FormError):
        parse_body(body, ctype)


def test_no_body_is_an_empty_form():
    assert parse_body(b"", None).pairs == []
