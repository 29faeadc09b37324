"""A policy's Markdown rendered to sanitised HTML (bleach: a short list of tags, https links
only), with the header's values filled in."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import bleach
import markdown

from .model import Header

# What a policy text may contain once rendered: structure and emphasis, links to https only.
ALLOWED_TAGS = frozenset({"h1", "h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a",
                          "blockquote", "table", "thead", "tbody", "tr", "th", "td", "hr", "br",
                          "code"})


ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"https"})


@dataclass(frozen=True)
class RenderedPolicy:
    """What a page needs to show a signed policy."""

    html: str
    language: str
    version: str
    effective: str
    fingerprint: str          # of the signed document: digits a reader can compare
    signer: str               # the officer's name on their card
    signer_fingerprint: str   # of the officer's keys
    header: Header

    @property
    def conflict_members(self) -> list[tuple[str, str]]:
        """(name, key fingerprint) of each conflict-group member the signed header names
        (``[conflict]``): the parties who alone read reports about the inspectorate itself,
        shown with the signer wherever the policy is."""
        return [(c.name, c.fingerprint) for c in self.header.conflict_members() or ()]


def _rendered(verified: Any, language: str) -> RenderedPolicy:
    """A verified version's text in ``language`` as sanitised HTML, with what it says of
    itself (version, dates, signer)."""
    v = verified.version
    return RenderedPolicy(
        html=render_markdown(v.filled(language)), language=language,
        version=v.header.version, effective=v.header.effective.isoformat(),
        fingerprint=v.fingerprint, signer=verified.signer,
        signer_fingerprint=verified.signer_fingerprint, header=v.header)


@functools.lru_cache(maxsize=16)
def render_markdown(text: bytes | str) -> str:
    """Markdown to HTML, then bleach with a strict allow-list: whatever a text contains (raw
    HTML, scripts, event handlers, javascript: links), only structure and https links survive."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    html = markdown.markdown(text, extensions=["tables"], output_format="html")
    return bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        protocols=ALLOWED_PROTOCOLS, strip=True, strip_comments=True)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
