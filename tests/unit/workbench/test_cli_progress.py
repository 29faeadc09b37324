import io

from workbench.cli import ProgressBar


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_and_ends_the_line():
    out = _Tty()
    bar = ProgressBar(out, width=10)
    bar(1, 4, 1_000_000)
    bar(4, 4, 4_000_000)
    text = out.getvalue()
    assert text.startswith("\r[##........] 1/4 submissions")
    assert "[##########] 4/4 submissions, 4.0 MB" in text and text.endswith("\n")


def test_progress_bar_is_silent_when_not_a_terminal():
    out = io.StringIO()
    ProgressBar(out)(1, 1, 10)
    assert out.getvalue() == ""
