"""Canonical JSON and small encodings shared by cards, bundles and envelopes.

Canonical JSON (docs/crypto.md §1): UTF-8, object keys sorted by code point, no insignificant
white space, integers only and within ±(2**53 - 1) (the I-JSON range every JSON library reads
exactly), no NaN, strings that are valid Unicode (no lone surrogates). Signatures are made over
these exact bytes; a verifier also checks that what it parsed re-encodes to the same bytes, so
duplicate keys or odd spellings cannot smuggle a second meaning past a signature."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any

from .errors import MalformedError

MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_SAFE_INTEGER = 2**53 - 1
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _reject_float(value: str) -> Any:
    raise MalformedError("floating point numbers are not allowed in canonical JSON")


def _reject_constant(value: str) -> Any:
    raise MalformedError(f"{value} is not allowed in canonical JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedError(f"duplicate key {key!r} in JSON")
        obj[key] = value
    return obj


def canonical_json(obj: Any) -> bytes:
    """Encode ``obj`` as canonical JSON bytes; ValueError if it cannot be (floats, integers out
    of range, lone surrogates, non-string keys)."""
    _check_value(obj)
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("canonical JSON strings must be valid Unicode") from None


def _check_value(obj: Any) -> None:
    # Iterative, so a deeply nested value cannot exhaust the Python stack here.
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, float):
            raise ValueError("canonical JSON carries integers only")
        if isinstance(value, int) and not isinstance(value, bool):
            if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                raise ValueError("integer outside the range canonical JSON allows")
        elif isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise ValueError("canonical JSON object keys are strings")
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)


def parse_canonical_json(data: bytes, *, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse bytes that must be canonical JSON; raise MalformedError otherwise."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MalformedError("expected JSON bytes")
    if len(data) > limit:
        raise MalformedError("JSON document too large")
    data = bytes(data)
    try:
        text = data.decode("utf-8")
        obj = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_no_duplicates,
        )
    except MalformedError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedError(f"not valid JSON: {exc.__class__.__name__}") from None
    try:
        again = canonical_json(obj)
    except (ValueError, RecursionError):
        raise MalformedError("JSON holds values canonical JSON does not allow") from None
    if again != data:
        raise MalformedError("JSON is not in canonical form")
    return obj


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, length: int | None = None, limit: int | None = None) -> bytes:
    """Strict base64 (RFC 4648 §4 alphabet, with padding): right alphabet, right padding, unused
    bits zero (so each byte string has exactly one spelling), and optionally an exact length or a
    maximum length checked before decoding."""
    if not isinstance(text, str):
        raise MalformedError("expected a base64 string")
    if limit is not None and len(text) > 4 * (-(-limit // 3)):
        raise MalformedError("base64 value too long")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise MalformedError("not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedError("base64 is not in its canonical spelling")
    if length is not None and len(raw) != length:
        raise MalformedError(f"expected {length} bytes, got {len(raw)}")
    return raw


def valid_day(text: object) -> bool:
    """YYYY-MM-DD and a real date (``date.fromisoformat`` alone also takes other ISO forms)."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True
