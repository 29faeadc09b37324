"""The dropbox_app commands: init, db, auditor enroll/list/disable; user errors are one line on
stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import pytest

from crypto.identity import AuditorIdentity, ServerKey
from peluit.cli import main


@pytest.fixture
def deployment(tmp_path, capsys):
    assert main(["init", "--data-dir", str(tmp_path / "d")]) == 0
    capsys.readouterr()
    return tmp_path / "d" / "peluit.toml"


def _one_line_error(capsys, code, *words):
    out = capsys.readouterr()
    assert code == 1
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("peluit: "), out.err
    for w in words:
        assert w in lines[0]


def test_enroll_list_disable(deployment, tmp_path, capsys):
    ident = AuditorIdentity.generate("Inspektur Satu")
    card = tmp_path / "card"
    card.write_bytes(ident.card().to_bytes())
    assert main(["auditor", "enroll", str(card), "--config", str(deployment)]) == 0
    out = capsys.readouterr().out
    assert ident.card().fingerprint in out and ident.key_id in out
    assert main(["auditor", "enroll", str(card), "--config", str(deployment)]) == 0
    assert "already enrolled" in capsys.readouterr().out
    assert main(["auditor", "list", "--config", str(deployment)]) == 0
    assert "active" in capsys.readouterr().out
    assert main(["auditor", "disable", ident.key_id, "--config", str(deployment)]) == 0
    capsys.readouterr()
    assert main(["auditor", "list", "--config", str(deployment)]) == 0
    assert "disabled" in capsys.readouterr().out


def test_enroll_refuses_bad_cards(deployment, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.write_bytes(b"{not a card")
    _one_line_error(capsys, main(["auditor", "enroll", str(bad), "--config", str(deployment)]),
                    "not a valid card")
    server = tmp_path / "server"
    server.write_bytes(ServerKey.generate().card().to_bytes())
    _one_line_error(capsys, main(["auditor", "enroll", str(server), "--config",
                                  str(deployment)]), "server card")
    tampered = tmp_path / "tampered"
    tampered.write_bytes(AuditorIdentity.generate("A").card().to_bytes()
                         .replace(b'"name":"A"', b'"name":"B"'))
    _one_line_error(capsys, main(["auditor", "enroll", str(tampered), "--config",
                                  str(deployment)]), "not a valid card")
    _one_line_error(capsys, main(["auditor", "enroll", str(tmp_path / "missing"), "--config",
                                  str(deployment)]), "cannot read")
    _one_line_error(capsys, main(["auditor", "disable", "f" * 32, "--config", str(deployment)]),
                    "no enrolled card")


def test_config_errors_are_one_line(tmp_path, capsys):
    _one_line_error(capsys, main(["auditor", "list", "--config", str(tmp_path / "x.toml")]),
                    "peluit init")
    assert main(["init", "--data-dir", str(tmp_path / "d"), "--reporter-listen",
                 "0.0.0.0:80"]) == 1
    assert "loopback" in capsys.readouterr().err
    assert main(["init", "--data-dir", str(tmp_path / "e")]) == 0
    capsys.readouterr()
    _one_line_error(capsys, main(["init", "--data-dir", str(tmp_path / "e")]), "overwrite")


def test_database_must_be_upgraded_before_use(tmp_path, capsys):
    from dropbox_app.config import initialise

    cfg = initialise(tmp_path / "d")  # no migration run
    _one_line_error(capsys, main(["auditor", "list", "--config", str(cfg)]), "db upgrade")
    _one_line_error(capsys, main(["serve", "reporter", "--config", str(cfg)]), "db upgrade")
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    assert "revision" in capsys.readouterr().out
    assert main(["auditor", "list", "--config", str(cfg)]) == 0
    assert "no auditor card" in capsys.readouterr().out


def test_migrations_match_the_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from dropbox_app.db import make_engine, upgrade
    from dropbox_app.models import Base

    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_enroll_in_the_conflict_group(deployment, tmp_path, capsys):
    """`--group conflict`: the card reads reports about the inspectorate only; a card is in one
    group, and the second enrolment in the other group is a one-line refusal."""
    officer = AuditorIdentity.generate("Pejabat Menteri")
    card = tmp_path / "officer.card"
    card.write_bytes(officer.card().to_bytes())
    assert main(["auditor", "enroll", str(card), "--group", "conflict", "--config",
                 str(deployment)]) == 0
    assert "(conflict group)" in capsys.readouterr().out
    assert main(["auditor", "list", "--config", str(deployment)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if officer.key_id in x)
    assert "conflict" in line
    _one_line_error(capsys, main(["auditor", "enroll", str(card), "--config", str(deployment)]),
                    "one group only")
