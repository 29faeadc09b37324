"""peluit.ground.files: the one atomic write."""

import os
import stat

import pytest

from peluit.ground import files


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_write_atomic_is_private_by_default_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        files.write_atomic(tmp_path / "key", b"secret")
    finally:
        os.umask(old)
    assert (tmp_path / "key").read_bytes() == b"secret"
    assert _mode(tmp_path / "key") == 0o600


def test_write_atomic_replaces_and_takes_the_asked_mode(tmp_path):
    target = tmp_path / "words.txt"
    target.write_bytes(b"old")
    files.write_atomic(target, b"new", mode=files.PUBLIC)
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["words.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "config"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), files.atomic_writer(target) as f:
        f.write(b"half")
        raise RuntimeError("crash")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["config"]


def test_replacing_hands_out_a_hidden_temp_name_and_renames_on_success(tmp_path):
    target = tmp_path / "db.sqlite"
    with files.replacing(target) as tmp:
        assert tmp.parent == tmp_path and files.is_temp_name(tmp.name)
        assert _mode(tmp) == 0o600
        tmp.write_bytes(b"restored")
        assert not target.exists()
    assert target.read_bytes() == b"restored"
    assert not tmp.exists()


def test_replacing_removes_the_temp_on_error(tmp_path):
    with pytest.raises(OSError), files.replacing(tmp_path / "x") as tmp:
        tmp.write_bytes(b"partial")
        raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_replacing_keeps_the_mode_when_a_writer_recreated_the_file(tmp_path):
    with files.replacing(tmp_path / "out.gpg") as tmp:
        tmp.unlink()
        tmp.write_bytes(b"gpg output")
        os.chmod(tmp, 0o644)
    assert _mode(tmp_path / "out.gpg") == 0o600


def test_fsync_dir_accepts_a_directory_only(tmp_path):
    files.fsync_dir(tmp_path)
    (tmp_path / "f").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        files.fsync_dir(tmp_path / "f")


def test_wipe_and_remove_overwrites_the_content_before_removing_the_name(tmp_path):
    path = tmp_path / "record.json"
    secret = b"sealed identity " * 100_000  # more than one wipe block
    path.write_bytes(secret)
    # A second name for the same inode shows what is left in the file's blocks afterwards.
    os.link(path, tmp_path / "other-name")
    assert files.wipe_and_remove(path) is True
    assert not path.exists()
    left = (tmp_path / "other-name").read_bytes()
    assert len(left) == len(secret) and left == bytes(len(secret))


def test_wipe_and_remove_of_a_missing_file_is_false(tmp_path):
    assert files.wipe_and_remove(tmp_path / "absent") is False
