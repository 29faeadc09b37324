"""The public "how to report safely" pages, for the organisation's ordinary website.

``peluit reporter-pages`` writes them from the deployment's configuration: one static HTML page
in Indonesian and one in English (no JavaScript, nothing loaded from elsewhere, the style
inline), saying what the channel is and is not, how to get Tor Browser, the onion address with
ways to check it and a QR code (inline SVG, made with segno), and a text file with the
``Onion-Location`` header for the organisation's web server, so that Tor Browser users of the
website are offered the onion. The pages hold nothing secret; they are meant to be published."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from peluit.ground.i18n import LANGUAGES, translations

from ..reporter.render import DOMAIN

ONION = re.compile(r"[a-z2-7]{56}\.onion")
FILES = {"id": "cara-melapor-dengan-aman.html", "en": "how-to-report-safely.html"}
HEADER_FILE = "onion-location.txt"


class PagesError(ValueError):
    """The pages cannot be made as asked (one clear line for the command)."""


@dataclass(frozen=True)
class Written:
    pages: dict[str, Path]
    header: Path


def check_onion(address: str) -> str:
    """A v3 onion address (56 base32 letters), with its checksum verified: a typo in the
    address printed for a whole organisation must not reach the website."""
    import base64
    import hashlib

    host = address.strip().lower().removeprefix("http://").rstrip("/")
    if not ONION.fullmatch(host):
        raise PagesError(f"not a v3 onion address: {address!r}")
    raw = base64.b32decode(host[:56].upper())
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    expected = hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2]
    if version != b"\x03" or checksum != expected:
        raise PagesError(f"the onion address {address!r} fails its own checksum: a typo?")
    return host


def qr_svg(url: str) -> Markup:
    """The URL as a QR code, an inline SVG element (no XML declaration, no external file)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, title=url, svgclass="qr", lineclass=None)
    return Markup(buf.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG


def groups(host: str, size: int = 8) -> list[str]:
    """The address in groups of eight letters, for reading aloud and comparing by eye."""
    name = host.removesuffix(".onion")
    return [name[i:i + size] for i in range(0, len(name), size)]


def render(language: str, host: str, organisation: str) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dropbox_app.publicpages", "."), autoescape=True,
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined)
    env.install_gettext_translations(translations("dropbox_app", DOMAIN, language),
                                     newstyle=True)
    url = f"http://{host}/"
    return env.get_template("how_to_report.jinja2").render(
        lang=language, other=FILES["en" if language == "id" else "id"],
        other_lang="en" if language == "id" else "id", url=url, host=host,
        groups=groups(host), qr=qr_svg(url), organisation=organisation,
        torproject=Markup('<a href="https://www.torproject.org/download/">'
                          "www.torproject.org/download</a>"))


def header_lines(host: str) -> str:
    return (
        "# Onion-Location: Tor Browser offers the onion service to visitors of the website.\n"
        "# Add ONE of these to the configuration of the organisation's HTTPS web server.\n"
        f"# nginx (server block):\nadd_header Onion-Location http://{host}$request_uri;\n"
        "# Apache (VirtualHost, mod_headers):\n"
        f'Header set Onion-Location "http://{host}%{{REQUEST_URI}}s"\n'
        "# Or as an HTML element in the <head> of the pages:\n"
        f'# <meta http-equiv="onion-location" content="http://{host}/">\n')


def write(out_dir: Path, host: str, organisation: str) -> Written:
    from peluit.ground.files import write_atomic

    host = check_onion(host)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = {}
    for lang in LANGUAGES:
        path = out_dir / FILES[lang]
        write_atomic(path, render(lang, host, organisation).encode("utf-8"), 0o644)
        pages[lang] = path
    header = out_dir / HEADER_FILE
    write_atomic(header, header_lines(host).encode("utf-8"), 0o644)
    return Written(pages, header)
