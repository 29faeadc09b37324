"""The import's progress bar (tqdm) on stderr: drawn on a terminal, silent elsewhere."""

import io

from workbench.cli import ProgressBar


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_and_ends_the_line():
    out = _Tty()
    bar = ProgressBar(out, label="kiriman")
    bar(1, 4, 1_000_000)
    bar(4, 4, 4_000_000)
    text = out.getvalue()
    assert "kiriman" in text and "0/4" in text
    assert "4/4" in text and "4.0 MB" in text and "100%" in text and text.endswith("\n")


def test_progress_bar_is_silent_when_not_a_terminal():
    out = io.StringIO()
    ProgressBar(out)(1, 1, 10)
    assert out.getvalue() == ""
