import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.encoding import (
    MAX_SAFE_INTEGER,
    b64decode,
    b64encode,
    canonical_json,
    parse_canonical_json,
)
from crypto.errors import MalformedError

# Real encryption per example: few enough examples for the suite's time budget, and never a
# failure on timing (the machines are shared and noisy). Applied per test, not as a global
# profile, so other parts' hypothesis settings stay theirs.
CRYPTO = settings(deadline=None, max_examples=40,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)


@CRYPTO
@given(json_values)
def test_round_trip(value):
    encoded = canonical_json(value)
    assert parse_canonical_json(encoded) == value
    assert canonical_json(parse_canonical_json(encoded)) == encoded


def test_exact_form():
    assert canonical_json({"b": 1, "a": [True, None, "é\n"]}) == \
        '{"a":[true,null,"é\\n"],"b":1}'.encode()


@pytest.mark.parametrize("text", [
    b'{"b":1,"a":2}',            # keys out of order
    b'{"a": 1}',                 # white space
    b'{"a":1}\n',                # trailing newline
    b'{"a":1,"a":1}',            # duplicate key
    b'{"a":1.0}',                # float
    b'{"a":1e3}',
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":9007199254740992}',   # 2**53: outside the interoperable range
    b'{"a":"\\u00e9"}',          # escaped where the canonical form is raw UTF-8
    b'{"a":"\\ud800"}',          # lone surrogate
    b'"\xff"',                   # not UTF-8
    b'\xef\xbb\xbf{}',           # BOM
    b'',
    b'[' * 100000 + b']' * 100000,   # nesting deep enough to exhaust the parser's stack
    b'1' * 5000,                 # more digits than Python converts
])
def test_rejects_non_canonical(text):
    with pytest.raises(MalformedError):
        parse_canonical_json(text)


def test_size_limit_checked_before_parsing():
    with pytest.raises(MalformedError):
        parse_canonical_json(b'"' + b"a" * 100 + b'"', limit=50)


def test_non_bytes_is_malformed():
    with pytest.raises(MalformedError):
        parse_canonical_json('{"a":1}')


@pytest.mark.parametrize("value", [1.5, {"a": float("nan")}, 2**53, -(2**53), {1: "x"}, "\ud800"])
def test_encoder_refuses(value):
    with pytest.raises(ValueError):
        canonical_json(value)


@CRYPTO
@given(st.binary())
def test_random_bytes_only_raise_our_error(data):
    with contextlib.suppress(MalformedError):
        parse_canonical_json(data)


@CRYPTO
@given(st.text())
def test_random_text_only_raise_our_error(text):
    try:
        value = parse_canonical_json(text.encode("utf-8", "surrogatepass"))
    except MalformedError:
        return
    assert json.loads(text) == value


def test_base64_strict():
    assert b64decode(b64encode(b"abc"), length=3) == b"abc"
    for bad in ["QUJD\n", "QU JD", "QUI", "QUJD=", "QUJ-", 5, None]:
        with pytest.raises(MalformedError):
            b64decode(bad)  # type: ignore[arg-type]
    with pytest.raises(MalformedError):
        b64decode(b64encode(b"abc"), length=4)
    with pytest.raises(MalformedError):
        b64decode(b64encode(bytes(100)), limit=10)


def test_base64_one_spelling_per_value():
    assert b64encode(b"A") == "QQ=="
    with pytest.raises(MalformedError):
        b64decode("QR==")  # same byte, non-zero unused bits
