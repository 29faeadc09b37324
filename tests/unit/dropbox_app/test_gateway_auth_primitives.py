"""Gateway passphrases, TOTP and the lockout schedule: plain functions, no database."""

import pytest

from dropbox_app.gateway import passphrase, policy, totp


@pytest.fixture(scope="module")
def hasher():
    return passphrase.PassphraseHasher(passphrase.TEST_COST)


def test_generated_passphrases_are_seven_words_and_differ():
    a, b = passphrase.generate("en"), passphrase.generate("en")
    assert len(a.split()) == 7 and a != b


def test_passphrase_verifies_with_sloppy_typing_but_not_wrong(hasher):
    p = passphrase.generate("en")
    stored = hasher.hash(p)
    assert stored.startswith("$argon2id$") and p not in stored
    assert hasher.verify(stored, "  " + p.upper().replace(" ", "  ") + " ")
    words = p.split()
    wrong = " ".join([*words[:-1], "zebra" if words[-1] != "zebra" else "apple"])
    assert not hasher.verify(stored, wrong)
    assert not hasher.verify(stored, "")
    assert not hasher.verify(stored, "x" * 10_000)


def test_unknown_account_never_verifies(hasher):
    assert not hasher.verify(None, passphrase.generate("en"))


def test_totp_code_accepted_once_then_refused():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    code = totp.code_at(secret, now)
    step = totp.accept(secret, code, now, None)
    assert step == int(now // 30)
    assert totp.accept(secret, code, now + 5, step) is None  # the same code again


def test_totp_older_step_refused_after_newer_used():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    newer = totp.accept(secret, totp.code_at(secret, now), now, None)
    previous = totp.code_at(secret, now - 30)  # still inside the drift window
    assert totp.accept(secret, previous, now, newer) is None
    assert totp.accept(secret, previous, now, None) == newer - 1


def test_totp_drift_window_and_bad_input():
    secret = totp.new_secret()
    now = 1_800_000_000.0
    assert totp.accept(secret, totp.code_at(secret, now - 90), now, None) is None
    assert totp.accept(secret, totp.code_at(secret, now + 30), now, None) is not None
    for bad in ("", "12345", "1234567", "abcdef", "12 34 5x"):
        assert totp.accept(secret, bad, now, None) is None
    other = totp.new_secret()
    # Another account's code (a chance collision of two 6-digit codes is one in ~330,000).
    assert totp.accept(other, totp.code_at(secret, now), now, None) is None


def test_totp_secret_is_160_bits_and_uri_names_account():
    s = totp.new_secret()
    assert len(s) == 32 and s != totp.new_secret()
    uri = totp.provisioning_uri(s, "ani")
    assert uri.startswith("otpauth://totp/") and "ani" in uri and s in uri


def test_delay_schedule():
    assert [policy.delay_seconds(n) for n in range(5)] == [0] * 5
    assert policy.delay_seconds(5) == 60
    assert policy.delay_seconds(6) == 120
    assert policy.delay_seconds(100) == 3600


def test_session_policy():
    p = policy.SessionPolicy(idle_seconds=10, absolute_seconds=100, reauth_seconds=5)
    assert p.alive(0, 95, 99)
    assert not p.alive(0, 80, 91)      # idle
    assert not p.alive(0, 99, 100)     # absolute
    assert p.fresh(10, 14) and not p.fresh(10, 15) and not p.fresh(None, 0)
    assert not p.fresh(20, 10)         # a reauth "in the future" is not trusted
