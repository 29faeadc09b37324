"""peluit.ground.errors: the CLI's one error convention."""

from peluit.ground.errors import UserError, report


def test_a_user_error_is_one_line_on_stderr(capsys):
    assert report(UserError("no such vault")) == 1
    assert capsys.readouterr().err == "peluit: no such vault\n"


def test_an_os_error_names_the_path(capsys):
    assert report(FileNotFoundError(2, "No such file or directory", "/x/y")) == 1
    assert capsys.readouterr().err == "peluit: No such file or directory (/x/y)\n"
