"""The register of physical files: lending, returning, the register."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from .content import clean
from .models import Case, FileLoan
from .people import User
from .servicecore import ServiceCore
from .workflow import Permission, WorkflowError, require


class LoanSteps(ServiceCore):
    """Physical files."""

    def lend_file(self, user: User, case_id: int, borrower: str, purpose: str,
                  due_back: dt.date | None) -> FileLoan:
        require(user.role, Permission.WORK)
        case = self._case(case_id)
        borrower, purpose = clean(borrower, 200), clean(purpose, 200)
        if not borrower:
            raise WorkflowError("text_required", "who borrows the file?")
        out = self.db.scalars(select(FileLoan).where(FileLoan.case_id == case.id,
                                                     FileLoan.returned_day.is_(None))).first()
        if out is not None:
            raise WorkflowError("file_out", "the file is already lent and not back yet")
        today = self.clock.today()
        if due_back is not None and due_back < today:
            raise WorkflowError("bad_input", "the return day is in the past")
        loan = FileLoan(case_id=case.id, borrower=borrower, purpose=purpose, borrowed_day=today,
                        due_back_day=due_back, lent_by=user.id)
        self.db.add(loan)
        self.db.flush()
        self._audit(user, "case.file.lend", case, loan=loan.id)
        return loan

    def return_file(self, user: User, loan_id: int) -> FileLoan:
        require(user.role, Permission.WORK)
        loan = self.db.get(FileLoan, loan_id)
        if loan is None:
            raise WorkflowError("not_found", "no such loan")
        if loan.returned_day is not None:
            raise WorkflowError("bad_state", "the file was already returned")
        loan.returned_day = self.clock.today()
        loan.received_by = user.id
        self._audit(user, "case.file.return", self._case(loan.case_id), loan=loan.id)
        return loan

    def file_register(self, user: User, only_out: bool = False) -> list[tuple[FileLoan, Case]]:
        require(user.role, Permission.LIST)
        q = select(FileLoan, Case).join(Case, Case.id == FileLoan.case_id)
        if only_out:
            q = q.where(FileLoan.returned_day.is_(None))
        return [tuple(r) for r in self.db.execute(q.order_by(FileLoan.borrowed_day.desc(),
                                                              FileLoan.id.desc())).all()]
