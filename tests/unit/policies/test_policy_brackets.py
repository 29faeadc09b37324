"""Found by fuzzing the policy texts: Python-Markdown takes time quadratic in the number of
unclosed ``[`` (8,000 took 9 s, a 256 KiB text of them hours), so a text nesting brackets
deeper than any policy does is refused when its version is loaded, before anything renders it."""

import shutil

import pytest

from policies.documents import DEFAULT_DIR, MAX_BRACKET_DEPTH, PolicyError, load_version, renderable


def _a_version(tmp_path):
    source = sorted(p for p in DEFAULT_DIR.iterdir() if p.is_dir())[-1]
    return shutil.copytree(source, tmp_path / source.name)


def test_every_shipped_text_is_renderable():
    for text in DEFAULT_DIR.rglob("*.md"):
        assert renderable(text.read_text("utf-8")), text


def test_a_text_with_brackets_nested_too_deep_is_refused(tmp_path):
    version = _a_version(tmp_path)
    (version / "en.md").write_text("[a" * (MAX_BRACKET_DEPTH + 1), "utf-8")
    with pytest.raises(PolicyError, match="nested deeper"):
        load_version(version)


def test_closed_brackets_do_not_count(tmp_path):
    version = _a_version(tmp_path)
    (version / "en.md").write_text("[a] " * 5000, "utf-8")
    load_version(version)
