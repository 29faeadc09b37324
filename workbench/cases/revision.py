"""The list catalog's revision counter (``cases.rev``; ``catalog`` re-reads rows above the last
revision it saw).

A new revision is ``max(rev) + 1`` computed by the UPDATE statement that writes it, never read
first and written later: SQLite takes the write lock at the start of a writing statement, so the
read and the write are one step, and the number is held until the transaction commits. Two
sessions (the UI and ``peluit workbench dispose``, or an import) therefore never commit the same
revision, and revisions commit in order, which the catalog's "above the last one seen" needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .models import Case


def next_rev() -> Any:
    """The SQL expression of the next revision, for ``case.rev = next_rev()`` (the ORM writes
    it into the flush's UPDATE) or an ``update(...).values(rev=next_rev())``."""
    other = aliased(Case)  # not correlated with the row being updated
    return select(func.coalesce(func.max(other.rev), 0) + 1).scalar_subquery()


def bump(case: Case) -> None:
    """Give ``case`` a new revision when the session flushes it."""
    case.rev = next_rev()
