"""Intake: an off-line complaint typed in, web reports opened as cases, duplicates flagged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from workbench import db, escrow

from . import duplicates, retaliation
from .content import CONTENT_FIELDS, clean, duplicate_text, parse_day, searchable_text
from .models import Case, CaseSketch
from .people import SYSTEM, User
from .servicecore import ServiceCore
from .workflow import (
    COARSE,
    FORM_CATEGORY_CODES,
    OFFLINE_CHANNELS,
    Channel,
    Permission,
    State,
    WorkflowError,
    require,
)


class IntakeSteps(ServiceCore):
    """Opening cases."""

    def _create(self, user: User, channel: Channel, day: dt.date, content: dict[str, str],
                category: str | None, report_id: str | None) -> Case:
        due = self.calendar.due_dates(day, self.policy)
        now = self._now()
        case = Case(number="pending", report_id=report_id, channel=channel.value,
                    state=State.INTAKE.value, coarse=COARSE[State.INTAKE].value,
                    category=category, received_day=day,
                    due_acknowledge=due.acknowledge, due_verify=due.verify,
                    due_complete=due.complete, eu_acknowledge=due.eu_acknowledge,
                    eu_feedback=due.eu_feedback, content={}, created_at=now, updated_at=now)
        self.db.add(case)
        self.db.flush()  # the id binds the content to this row
        case.number = f"{day.year}-{case.id:06d}"
        self._touch(case)
        case.content = {**content, "case": case.id}
        sk = duplicates.sketch(duplicate_text(content), self._dupe_key())
        self.db.add_all(CaseSketch(case_id=case.id, h=h) for h in sk)
        self.db.flush()
        self.index.add(case.id, searchable_text(content))
        self._flag_duplicates(case, sk)
        self._audit(user, "case.create", case, channel=channel.value, received=day.isoformat())
        return case

    def _content_from(self, fields: Mapping[str, Any]) -> dict[str, str]:
        content = {k: clean(fields.get(k)) for k in CONTENT_FIELDS}
        if not content["what"] and not content["summary"]:
            raise WorkflowError("what_required", "say what happened")
        return {k: v for k, v in content.items() if v}

    def intake_offline(self, user: User, channel: str, received_day: dt.date,
                       fields: Mapping[str, Any]) -> Case:
        """A complaint that arrived by letter, copy, email, walk-in, phone, LAPOR! or social
        media, typed in by an auditor."""
        require(user.role, Permission.INTAKE)
        try:
            ch = Channel(channel)
        except ValueError:
            raise WorkflowError("bad_channel", "unknown channel") from None
        if ch not in OFFLINE_CHANNELS:
            raise WorkflowError("bad_channel", "web reports arrive by bundle import")
        if received_day > self.clock.today():
            raise WorkflowError("future_day", "the day received is in the future")
        return self._create(user, ch, received_day, self._content_from(fields),
                            self._category(fields.get("category")), None)

    def sync_reports(self, user: User = SYSTEM) -> list[Case]:
        """Open a case for every imported report that has none yet (web reports reach the vault
        by bundle import; this is their intake). Idempotent; needs the vault key."""
        require(user.role, Permission.INTAKE)
        self._dupe_key()
        rows = self.db.execute(
            select(db.Report).outerjoin(Case, Case.report_id == db.Report.id)
            .where(Case.id.is_(None)).order_by(db.Report.received_day, db.Report.id)).scalars()
        created = []
        for report in list(rows):
            first = self.db.scalars(select(db.Submission).where(
                db.Submission.report_id == report.id, db.Submission.kind == "report")
                .order_by(db.Submission.seq).limit(1)).first()
            if first is None:
                continue  # only messages so far: wait for the report itself
            form = first.content if isinstance(first.content, dict) else {}
            fields = {k: v for k, v in form.items() if k in CONTENT_FIELDS and isinstance(v, str)}
            if not (fields.get("what") or "").strip():
                fields["what"] = "-"
            category = FORM_CATEGORY_CODES.get(str(form.get("category", "")))
            day = parse_day(report.received_day) or self.clock.today()
            created.append(self._create(user, Channel.WEB, day, self._content_from(fields),
                                        category, report.id))
        retaliation.sync(self.db, self.calendar, self.policy, at=self._at())
        escrow.sync(self.db, self._number_of, at=self._at())
        return created

    def _number_of(self, report_id: str) -> str | None:
        case = self.db.scalar(select(Case).where(Case.report_id == report_id))
        return case.number if case else None

    def _flag_duplicates(self, case: Case, sk: list[int]) -> None:
        if not sk:
            return
        rows = self.db.execute(
            select(CaseSketch.case_id, func.count())
            .where(CaseSketch.h.in_(sk), CaseSketch.case_id != case.id)
            .group_by(CaseSketch.case_id)
            .having(func.count() >= min(duplicates.MIN_SHARED, len(sk)))
            .order_by(func.count().desc()).limit(20)).all()
        for other_id, _ in rows:
            theirs = self.db.scalars(
                select(CaseSketch.h).where(CaseSketch.case_id == other_id)).all()
            score = duplicates.similarity(sk, theirs)
            if score >= duplicates.THRESHOLD:
                other = self.db.get(Case, other_id)
                self._link(case, other, "duplicate", round(score * 100))
