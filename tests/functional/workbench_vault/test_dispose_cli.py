"""``peluit workbench dispose``: a lead disposes of closed cases past the retention period from a
shell (the same as /cases/retention), keeps the ones named with --keep, and --dry-run only
lists them."""

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crypto.identity import ServerKey
from peluit.cli import main
from peluit.ground.clock import Clock
from policies.calendar import WorkingCalendar
from tests.fixtures.workbench_vault import DEPLOYMENT, PASS
from workbench import db, vault
from workbench.cases.models import Case, CaseEvent
from workbench.cases.search import CaseSearch
from workbench.cases.service import CaseService, User, sketch_key

DEMO = "--demo-not-air-gapped"


def _closed_cases(path, n):
    by = vault.unlock(path, "Ani", PASS)
    lead = User(by.key_id, "Ani", "lead")
    engine = db.make_engine(path)
    db.create_schema(engine)
    try:
        with db.unlocked(by.vault_key), Session(engine) as s, s.begin():
            svc = CaseService(s, CaseSearch(), WorkingCalendar(), Clock(),
                              sketch_key(by.vault_key))
            numbers = []
            for i in range(n):
                case = svc.intake_offline(lead, "letter", dt.date(2020, 3, 2),
                                          {"what": f"Rahasiakasus{i} pungutan di loket"})
                svc.save_review(lead, case.id, {"darwas": True, "category": "pungli"},
                                submit=True)
                svc.decide(lead, case.id, "not_processed", "di pengadilan")
                numbers.append(case.number)
            s.execute(update(Case).values(closed_day=dt.date(2020, 3, 2)))
        return numbers
    finally:
        engine.dispose()
        by.lock()


def test_dispose_from_the_shell(tmp_path, capsys):
    (tmp_path / "server.card").write_bytes(ServerKey.generate().card().to_bytes())
    (tmp_path / "p").write_text(PASS + "\n")
    path = tmp_path / "v"
    assert main(["workbench", "init", str(path), "--name", "Ani", "--server-card",
                 str(tmp_path / "server.card"), "--deployment-id", DEPLOYMENT,
                 "--passphrase-file", str(tmp_path / "p"), DEMO]) == 0
    first, second = _closed_cases(path, 2)
    args = ["--vault", str(path), "--as", "Ani", "--passphrase-file", str(tmp_path / "p"), DEMO]
    capsys.readouterr()
    assert main(["workbench", "dispose", "--dry-run", *args]) == 0
    out = capsys.readouterr().out
    assert "Would dispose of 2 case(s)" in out and first in out and second in out
    assert main(["workbench", "dispose", "--keep", second, *args]) == 0
    out = capsys.readouterr().out
    assert "Disposed of 1 case(s)" in out and first in out and f"Kept as asked: {second}" in out

    by = vault.unlock(path, "Ani", PASS)
    engine = db.make_engine(path)
    try:
        with db.unlocked(by.vault_key), Session(engine) as s:
            cases = {c.number: c for c in s.scalars(select(Case))}
            assert cases[first].content == {"case": cases[first].id}
            assert "Rahasiakasus1" in cases[second].content["what"]
            kinds = s.scalars(select(CaseEvent.kind).where(
                CaseEvent.case_id == cases[first].id)).all()
            assert kinds == ["disposed"]
            log = b"".join(bytes(r.entry) for r in s.scalars(select(db.AuditLogRow)))
            assert b"case.dispose" in log and first.encode() in log
    finally:
        engine.dispose()
        by.lock()
    assert main(["workbench", "dispose", "--dry-run", *args]) == 0
    assert "Would dispose of 1 case(s)" in capsys.readouterr().out
