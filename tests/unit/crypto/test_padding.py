import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.padding import padded_chunk_count, padme

# Real encryption per example: few enough examples for the suite's time budget, and never a
# failure on timing (the machines are shared and noisy). Applied per test, not as a global
# profile, so other parts' hypothesis settings stay theirs.
CRYPTO = settings(deadline=None, max_examples=40,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize(("length", "padded"), [
    (0, 0), (1, 1), (2, 2), (3, 3), (7, 7), (8, 8), (9, 10), (15, 16), (17, 18), (100, 104),
    (1000, 1024), (8000, 8192), (10000, 10240),
])
def test_known_values(length, padded):
    assert padme(length) == padded


@CRYPTO
@given(st.integers(1, 1 << 40))
def test_properties(length):
    p = padme(length)
    assert length <= p
    assert p - length <= length * 0.12 + 1   # Padmé's bound: at most ~12 % overhead
    assert padme(p) == p                      # bucket values are fixed points
    # the low bits of a bucket are zero, so few values are possible per power of two
    e = length.bit_length() - 1
    assert p % (1 << max(0, e - e.bit_length())) == 0


def test_chunk_count_never_zero():
    assert padded_chunk_count(0) == 1
    assert padded_chunk_count(1) == 1


def test_negative_refused():
    with pytest.raises(ValueError):
        padme(-1)
