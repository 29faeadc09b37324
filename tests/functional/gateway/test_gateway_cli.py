"""The gateway's commands, run in-process through the real ``peluit`` entry point against a
real deployment directory."""

from sqlalchemy import select

from crypto.identity import Card
from dropbox_app.models import GatewayUser, Submission
from peluit.cli import main
from tests.fixtures.gateway import add_submission, make_deployment


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_gateway_user_lifecycle(tmp_path, capsys):
    dep = make_deployment(tmp_path, app=False)
    conf = str(dep.data_dir / "peluit.toml")
    code, out, err = _run(capsys, "gateway-user", "add", "kepala", "--role", "admin",
                          "--config", conf)
    assert code == 0, err
    phrase = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                  if line.startswith("passphrase:"))
    assert len(phrase.split()) == 7
    with dep.db() as db:
        user = db.scalar(select(GatewayUser).where(GatewayUser.username == "kepala"))
        assert user.role == "admin" and phrase not in user.passphrase_hash
        assert user.passphrase_hash.startswith("$argon2id$v=19$m=65536,t=4,p=2$")
    code, out, _ = _run(capsys, "gateway-user", "list", "--config", conf)
    assert "kepala" in out and "admin" in out
    assert _run(capsys, "gateway-user", "disable", "kepala", "--config", conf)[0] == 0
    with dep.db() as db:
        assert db.scalar(select(GatewayUser.active)) is False
    code, out, err = _run(capsys, "gateway-user", "add", "kepala", "--config", conf)
    assert code == 1 and err.strip() == "peluit: This user name is already taken."
    code, _, err = _run(capsys, "gateway-user", "unlock", "nobody", "--config", conf)
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    dep.engine.dispose()


def test_server_key_show_and_rotate(tmp_path, capsys):
    dep = make_deployment(tmp_path, app=False)
    conf = str(dep.data_dir / "peluit.toml")
    code, out, err = _run(capsys, "server-key", "show", "--config", conf)
    card = Card.from_bytes(out.encode())
    assert card.fingerprint in err and dep.cfg.deployment_id in err
    assert code == 0 and card.kind == "server" and card.key_id == dep.server_key().key_id
    assert _run(capsys, "server-key", "rotate", "--config", conf)[0] == 0
    code, _, err = _run(capsys, "server-key", "rotate", "--config", conf)
    assert code == 1 and "already waiting" in err
    dep.engine.dispose()


def test_retention_run_command(tmp_path, capsys):
    dep = make_deployment(tmp_path, app=False)
    conf = str(dep.data_dir / "peluit.toml")
    sub = add_submission(dep)
    with dep.db() as db, db.begin():
        db.get(Submission, sub.submission_id).acked_day = "2000-01-01"
    code, out, _ = _run(capsys, "retention", "run", "--config", conf)
    assert code == 0 and out.startswith("deleted 1 submissions")
    with dep.db() as db:
        assert db.get(Submission, sub.submission_id) is None
    dep.engine.dispose()


def test_commands_with_a_missing_configuration_say_so_in_one_line(tmp_path, capsys):
    code, _, err = _run(capsys, "gateway-user", "list", "--config", str(tmp_path / "none.toml"))
    assert code == 1 and err.startswith("peluit: no configuration at")
