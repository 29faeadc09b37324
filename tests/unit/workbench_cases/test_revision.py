"""The list catalog's revision counter under two sessions (two processes on one vault: the UI
and ``peluit workbench dispose``, or the UI restarting while an import runs).

The catalog re-reads only rows whose ``rev`` is above the last one it saw, so two changes that
commit with the same ``rev`` lose one of them from the case list until the next restart. A
``max(rev) + 1`` read before the session holds the write lock is such a race: the other session
commits the same number in between."""

import datetime as dt

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from peluit.ground.clock import FixedClock
from policies.calendar import DeadlinePolicy
from tests.fixtures.cases import AUDITOR, CALENDAR
from workbench import db
from workbench.cases.catalog import CaseCatalog
from workbench.cases.deadlines import recompute_deadlines
from workbench.cases.models import Case
from workbench.cases.search import CaseSearch
from workbench.cases.service import CaseService, sketch_key

D = dt.date
CLOCK = FixedClock(dt.datetime(2026, 3, 16, 3, 0, tzinfo=dt.UTC))


def _service(session, vault_key):
    return CaseService(session, CaseSearch(), CALENDAR, CLOCK, sketch_key(vault_key))


def test_recompute_racing_another_session_keeps_revisions_apart(engine, vault_key):
    with db.unlocked(vault_key):
        with Session(engine) as s:
            first = _service(s, vault_key).intake_offline(AUDITOR, "letter", D(2026, 3, 16),
                                                          {"what": "satu"})
            _service(s, vault_key).intake_offline(AUDITOR, "letter", D(2026, 3, 16),
                                                           {"what": "dua"})
            s.commit()
            first_id = first.id
        catalog = CaseCatalog()
        with Session(engine) as s:
            catalog.refresh(s)

        # The other process changes the first case just after the recomputing session has
        # read its first row, before it writes (and the catalog refreshes in between).
        other_engine = db.make_engine(engine.url.database.rsplit("/", 1)[0])
        fired = []

        def interleave(conn, cursor, statement, *args):
            if fired or not statement.lstrip().upper().startswith("SELECT") \
                    or "cases" not in statement:
                return
            fired.append(statement)
            with Session(other_engine) as other:
                _service(other, vault_key).start_review(AUDITOR, first_id)
                other.commit()
            with Session(other_engine) as reader:
                catalog.refresh(reader)

        recomputing = db.make_engine(engine.url.database.rsplit("/", 1)[0])
        event.listen(recomputing, "after_cursor_execute", interleave)
        try:
            with Session(recomputing) as s, s.begin():
                # A longer completion target: every open case's due day moves.
                assert recompute_deadlines(s, CALENDAR, DeadlinePolicy(complete_days=80)) == 2
        finally:
            recomputing.dispose()
            other_engine.dispose()
        assert fired

        with Session(engine) as s:
            revs = dict(s.execute(select(Case.id, Case.rev)).all())
            assert len(set(revs.values())) == len(revs), revs
            catalog.refresh(s)
            dues = set(s.scalars(select(Case.due_complete)))
        assert len(dues) == 1  # one day received, one policy
        due = dues.pop()
        # The catalog holds the recomputed due day of both cases (the list's deadline filter).
        assert catalog.select(overdue_before=due + dt.timedelta(days=1))[1] == 2
        assert catalog.select(overdue_before=due)[1] == 0, "the catalog missed a recomputed case"


def test_touches_from_two_sessions_get_distinct_revisions(engine, vault_key):
    """Two sessions each change a case and commit in turn: both changes reach the catalog."""
    with db.unlocked(vault_key):
        with Session(engine) as s:
            svc = _service(s, vault_key)
            ids = [svc.intake_offline(AUDITOR, "email", D(2026, 3, 16), {"what": w}).id
                   for w in ("satu", "dua")]
            s.commit()
        catalog = CaseCatalog()
        with Session(engine) as s:
            catalog.refresh(s)
        with Session(engine) as a, Session(engine) as b:
            _service(a, vault_key).start_review(AUDITOR, ids[0])
            a.commit()
            with Session(engine) as reader:
                catalog.refresh(reader)
            _service(b, vault_key).start_review(AUDITOR, ids[1])
            b.commit()
        with Session(engine) as s:
            catalog.refresh(s)
            revs = sorted(s.scalars(select(Case.rev)))
        assert len(set(revs)) == 2
        assert catalog.select(state="review")[1] == 2
