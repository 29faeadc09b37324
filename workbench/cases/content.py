"""A case's content fields: what is kept of a complaint (cleaned, bounded), the texts the
search index and the duplicate sketch are built from, and the case-bound sealed values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from workbench import db

from .workflow import WorkflowError

CONTENT_FIELDS = ("summary", "what", "who_name", "who_position", "who_unit", "where", "when",
                  "how", "evidence", "sender", "reference")
MAX_FIELD = 20_000
MAX_REASON = 5_000
MAX_OCR_TEXT = 100_000


def clean(value: Any, limit: int = MAX_FIELD) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WorkflowError("bad_input", "expected text")
    value = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(value) > limit:
        raise WorkflowError("too_long", f"text longer than {limit} characters")
    return value


def written_reason(value: Any, missing: str) -> str:
    """A reason, finding or note a step requires: cleaned, at most ``MAX_REASON`` characters,
    and not empty (``missing`` says what is missing, for logs and tests)."""
    value = clean(value, MAX_REASON)
    if not value:
        raise WorkflowError("reason_required", missing)
    return value


def searchable_text(content: Mapping[str, str], review: Mapping[str, Any] | None = None) -> str:
    parts = [content.get(k, "") for k in CONTENT_FIELDS if k != "sender"]
    if review:
        parts += [str(review.get(k, "")) for k in ("core_issue", "rule", "notes")]
    return "\n".join(p for p in parts if p)


def duplicate_text(content: Mapping[str, str]) -> str:
    return "\n".join(content.get(k, "") for k in ("what", "how", "who_name", "who_unit", "where"))


def summary(content: Mapping[str, str]) -> str:
    text = content.get("summary") or content.get("what") or ""
    text = " ".join(text.split())
    return text[:140] + ("…" if len(text) > 140 else "")


def bound(value: Any, case_id: int) -> dict[str, Any]:
    """An encrypted JSON value of case ``case_id``; refuses one copied from another case."""
    if not isinstance(value, dict) or value.get("case") != case_id:
        raise db.TamperedError(f"case {case_id}: a value belonging to another case")
    return {k: v for k, v in value.items() if k != "case"}


def parse_day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
