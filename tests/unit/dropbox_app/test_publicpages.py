"""The public "how to report safely" pages: both languages, no script, nothing loaded from
elsewhere, the onion address checked by its checksum, shown, grouped and as an inline QR code,
and the Onion-Location line for the website's server; ``peluit reporter-pages`` end to end."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from dropbox_app.publicpages import FILES, HEADER_FILE, PagesError, check_onion, write


def onion() -> str:
    pk = bytes(SigningKey.generate().verify_key)
    checksum = hashlib.sha3_256(b".onion checksum" + pk + b"\x03").digest()[:2]
    return base64.b32encode(pk + checksum + b"\x03").decode().lower() + ".onion"


def test_pages_in_both_languages(tmp_path: Path):
    host = onion()
    written = write(tmp_path, host, "Inspektorat Jenderal <Contoh>")
    assert set(written.pages) == {"id", "en"}
    for lang, path in written.pages.items():
        page = path.read_text("utf-8")
        assert f'<html lang="{lang}">' in page
        assert page.count("<h1>") == 1
        assert f"http://{host}/" in page
        assert host[:8] in page and host[48:56] in page  # the grouped form
        assert re.search(r"<svg[^>]*class=\"qr\"", page)  # the QR code, inline
        assert "Inspektorat Jenderal &lt;Contoh&gt;" in page  # escaped
        low = page.lower()
        assert "<script" not in low and not re.search(r"\son[a-z]+\s*=", low)
        assert not re.search(r"""(src|href)=["'](?!https://www\.torproject\.org/|"""
                             + re.escape(FILES["en" if lang == "id" else "id"]) + ")", low)
    assert "Cara melapor dengan aman" in written.pages["id"].read_text("utf-8")
    assert "How to report safely" in written.pages["en"].read_text("utf-8")
    header = (tmp_path / HEADER_FILE).read_text()
    assert f"add_header Onion-Location http://{host}$request_uri;" in header
    assert f'Header set Onion-Location "http://{host}%{{REQUEST_URI}}s"' in header


def test_a_mistyped_onion_address_is_refused(tmp_path: Path):
    host = onion()
    typo = host[:10] + ("a" if host[10] != "a" else "b") + host[11:]
    with pytest.raises(PagesError, match="checksum"):
        check_onion(typo)
    with pytest.raises(PagesError, match="v3"):
        check_onion("example.com")
    assert list(tmp_path.iterdir()) == []


def test_command_reads_the_address_from_the_onion_service(tmp_path: Path, capsys):
    from peluit.cli import main

    host = onion()
    hs = tmp_path / "tor" / "peluit-reporter"
    hs.mkdir(parents=True)
    (hs / "hostname").write_text(host + "\n")
    cfg = tmp_path / "peluit.toml"
    cfg.write_text('[tor]\ndata_dir = "tor"\n')
    out = tmp_path / "pages"
    assert main(["reporter-pages", "--config", str(cfg), "--out", str(out),
                 "--organisation", "Itjen"]) == 0
    assert host in (out / FILES["id"]).read_text("utf-8")
    (hs / "hostname").write_text("")
    assert main(["reporter-pages", "--config", str(cfg), "--out", str(out),
                 "--organisation", "Itjen"]) != 0
    assert "no onion address" in capsys.readouterr().err
