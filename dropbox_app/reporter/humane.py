"""Dates and sizes written for people, in the page's language (Babel): "1 Desember 2026",
"1 December 2026", "2,5 MB". The server stores days as ``YYYY-MM-DD``; this is only how a page
shows them."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from babel.numbers import format_decimal

_DAY_PATTERN = "d MMMM y"  # day first in both languages, as Indonesian readers expect


def day(value: str | dt.date, language: str) -> str:
    """A stored day (``YYYY-MM-DD``) as words; anything unreadable is shown as it is."""
    try:
        date = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return format_date(date, _DAY_PATTERN, locale=language)


def size(n: int, language: str) -> str:
    """Bytes in decimal units (KB, MB, GB: the units people see in their file managers)."""
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            break
    return f"{format_decimal(value, '#,##0.#', locale=language)} {unit}"


def megabytes(n: int) -> int:
    """A byte limit as whole MB (decimal), rounded down, for "up to N MB"."""
    return n // 1_000_000
