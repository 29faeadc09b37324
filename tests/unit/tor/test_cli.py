from __future__ import annotations

import pytest

from peluit.cli import main
from tor import services


@pytest.fixture
def tor_dir(tmp_path):
    services.setup(services.Layout(tmp_path))
    (tmp_path / "peluit-gateway" / "hostname").write_text("b" * 56 + ".onion\n")
    return tmp_path


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_status_remove(tor_dir, capsys):
    code, out, _ = _run(capsys, "tor", "add-client", "alice", "--tor-dir", str(tor_dir))
    assert code == 0
    assert "Tor Browser key:" in out and "b" * 56 + ":descriptor:x25519:" in out
    code, out, _ = _run(capsys, "tor", "status", "--tor-dir", str(tor_dir))
    assert code == 0 and "alice" in out and "gateway clients: 1" in out
    assert "_sealed" not in out
    code, out, _ = _run(capsys, "tor", "remove-client", "alice", "--tor-dir", str(tor_dir))
    assert code == 0 and "restart" in out


def test_out_file_gets_the_client_line_and_no_key_is_printed(tor_dir, tmp_path, capsys):
    out_file = tmp_path / "alice.auth_private"
    code, out, _ = _run(capsys, "tor", "add-client", "alice", "--tor-dir", str(tor_dir),
                        "--out", str(out_file))
    assert code == 0
    secret = out_file.read_text().strip().rsplit(":", 1)[1]
    assert secret not in out and "Tor Browser key" not in out


@pytest.mark.parametrize("argv, message", [
    (["add-client", "Bad Name"], "invalid client name"),
    (["remove-client", "nobody"], "no client named"),
    (["remove-client", "_sealed"], "invalid client name"),
])
def test_user_errors_are_one_clear_line(tor_dir, capsys, argv, message):
    code, _, err = _run(capsys, "tor", *argv, "--tor-dir", str(tor_dir))
    assert code == 1
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_commands_refuse_an_unprepared_directory(tmp_path, capsys):
    code, _, err = _run(capsys, "tor", "add-client", "alice", "--tor-dir", str(tmp_path))
    assert code == 1 and "peluit tor setup" in err


def test_duplicate_client_is_refused(tor_dir, capsys):
    assert _run(capsys, "tor", "add-client", "alice", "--tor-dir", str(tor_dir))[0] == 0
    code, _, err = _run(capsys, "tor", "add-client", "alice", "--tor-dir", str(tor_dir))
    assert code == 1 and "already exists" in err


def test_torrc_refuses_a_public_listen_address(tmp_path, capsys):
    cfg = tmp_path / "peluit.toml"
    cfg.write_text('[reporter]\nlisten = "0.0.0.0:8080"\n')
    code, _, err = _run(capsys, "tor", "torrc", "--config", str(cfg))
    assert code == 1 and "loopback" in err
