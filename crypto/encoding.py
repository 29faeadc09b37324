"""Canonical JSON and small encodings shared by cards, bundles and envelopes.

Canonical JSON (docs/crypto.md §1): UTF-8, object keys sorted, no insignificant white space,
no floats, no NaN. Signatures are made over these exact bytes; a verifier also checks that what
it parsed re-encodes to the same bytes, so duplicate keys or odd spellings cannot smuggle a second
meaning past a signature."""

from __future__ import annotations

import base64
import json
from typing import Any

from .errors import MalformedError

MAX_JSON_BYTES = 32 * 1024 * 1024


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
    """Encode ``obj`` as canonical JSON bytes."""
    if _contains_float(obj):
        raise ValueError("canonical JSON carries integers only")
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _contains_float(obj: Any) -> bool:
    if isinstance(obj, float):
        return True
    if isinstance(obj, dict):
        return any(_contains_float(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_contains_float(v) for v in obj)
    return False


def parse_canonical_json(data: bytes, *, limit: int = MAX_JSON_BYTES) -> Any:
    """Parse bytes that must be canonical JSON; raise MalformedError otherwise."""
    if len(data) > limit:
        raise MalformedError("JSON document too large")
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
    if canonical_json(obj) != data:
        raise MalformedError("JSON is not in canonical form")
    return obj


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, *, length: int | None = None) -> bytes:
    """Strict base64: right alphabet, right padding, and optionally an exact length."""
    if not isinstance(text, str):
        raise MalformedError("expected a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise MalformedError("not valid base64") from None
    if length is not None and len(raw) != length:
        raise MalformedError(f"expected {length} bytes, got {len(raw)}")
    return raw
