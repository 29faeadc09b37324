"""The case service: every step of the process, with roles enforced here (not only in views), every
change appended to the audit log, encrypted fields sealed and opened in one place.

Views and the import command call these methods with plain arguments; they never touch the
tables directly."""

from __future__ import annotations

from .content import (
    CONTENT_FIELDS,
    MAX_FIELD,
    MAX_OCR_TEXT,
    MAX_REASON,
    duplicate_text,
    searchable_text,
)
from .deadlines import clock_of
from .intake import IntakeSteps
from .listing import MAX_PAGE_SIZE, PAGE_SIZE, Filters, ListingSteps, Page
from .loans import LoanSteps
from .people import SYSTEM, User, sketch_key
from .reading import CaseDetail, ReadingSteps
from .review import ReviewSteps
from .thread import ThreadSteps

__all__ = ["CONTENT_FIELDS", "MAX_FIELD", "MAX_OCR_TEXT", "MAX_PAGE_SIZE", "MAX_REASON",
           "PAGE_SIZE", "SYSTEM", "CaseDetail", "CaseService", "Filters", "Page", "User",
           "clock_of", "duplicate_text", "searchable_text", "sketch_key"]


class CaseService(IntakeSteps, ReadingSteps, ReviewSteps, ThreadSteps, ListingSteps, LoanSteps):
    """Every step of the process for one session (one request or one command)."""
