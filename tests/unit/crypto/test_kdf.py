import pytest

from crypto import codename, kdf

SALT = bytes(range(32))


def _codename():
    return codename.Codename(("abacus",) * 7, "en")


def test_reporter_keys_are_deterministic_and_separate():
    a = kdf.reporter_keys(_codename(), SALT, kdf.TEST_PARAMS)
    b = kdf.reporter_keys(_codename(), SALT, kdf.TEST_PARAMS)
    assert a.lookup_id == b.lookup_id and bytes(a.public_key) == bytes(b.public_key)
    assert len(a.lookup_id) == 32
    assert a.lookup_id != bytes(a.public_key) and a.lookup_id != bytes(a.private_key)
    assert "abacus" not in repr(a)


def test_salt_and_codename_and_params_change_everything():
    base = kdf.reporter_keys(_codename(), SALT, kdf.TEST_PARAMS)
    other_salt = kdf.reporter_keys(_codename(), bytes(32), kdf.TEST_PARAMS)
    other_name = kdf.reporter_keys(codename.Codename(("abacus",) * 6 + ("abdomen",), "en"),
                                   SALT, kdf.TEST_PARAMS)
    other_params = kdf.reporter_keys(_codename(), SALT, kdf.Argon2Params(2, 8 * 1024, 1))
    ids = {k.lookup_id for k in (base, other_salt, other_name, other_params)}
    pks = {bytes(k.public_key) for k in (base, other_salt, other_name, other_params)}
    assert len(ids) == 4 and len(pks) == 4


def test_default_parameters_are_at_least_the_required_cost():
    assert kdf.DEFAULT_PARAMS.time_cost >= 3 and kdf.DEFAULT_PARAMS.memory_kib >= 64 * 1024
    assert kdf.DEFAULT_PARAMS.meets(kdf.Argon2Params(kdf.MIN_TIME_COST, kdf.MIN_MEMORY_KIB, 1))
    assert not kdf.TEST_PARAMS.meets(kdf.DEFAULT_PARAMS)


def test_default_parameters_derive():
    # one derivation at the real cost, so the production path is exercised
    keys = kdf.reporter_keys(_codename(), SALT)
    assert len(keys.lookup_id) == 32


def test_argon2id_is_argon2id_v19_with_the_parameters_given():
    # Compare our raw call with argon2-cffi's encoded (PHC string) form of the same hash.
    import base64

    from argon2 import extract_parameters
    from argon2.low_level import Type, hash_secret

    raw = kdf.argon2id(b"password", b"somesaltsomesalt", kdf.Argon2Params(2, 1024, 1), 16)
    encoded = hash_secret(b"password", b"somesaltsomesalt", 2, 1024, 1, 16, Type.ID).decode()
    params = extract_parameters(encoded)
    assert params.type is Type.ID and params.version == 19
    assert (params.time_cost, params.memory_cost, params.parallelism) == (2, 1024, 1)
    tag = encoded.rsplit("$", 1)[1]
    assert base64.b64decode(tag + "=" * (-len(tag) % 4)) == raw


@pytest.mark.parametrize("d", [
    {"t": 0, "m": 65536, "p": 1}, {"t": 3, "m": 4, "p": 1}, {"t": 3, "m": 65536, "p": 0},
    {"t": 33, "m": 65536, "p": 1}, {"t": 3, "m": 2 * 1024 * 1024, "p": 1},
    {"t": "3", "m": 65536, "p": 1}, {"t": True, "m": 65536, "p": 1}, {"t": 3.0, "m": 65536, "p": 1},
    {"t": 3, "m": 65536}, [3, 65536, 1],
])
def test_bad_parameters_refused(d):
    with pytest.raises(ValueError):
        kdf.Argon2Params.from_dict(d)


def test_parameters_round_trip():
    p = kdf.Argon2Params(4, 128 * 1024, 2)
    assert kdf.Argon2Params.from_dict(p.as_dict()) == p


def test_short_salt_refused():
    with pytest.raises(ValueError):
        kdf.argon2id(b"x", b"short", kdf.TEST_PARAMS)


def test_subkey_purposes_are_independent():
    master = bytes(32)
    assert kdf.subkey(master, b"a") != kdf.subkey(master, b"b")
    with pytest.raises(ValueError):
        kdf.subkey(master, b"x" * 17)


def test_raw_text_is_refused():
    with pytest.raises(TypeError):
        kdf.reporter_keys("abacus " * 7, SALT, kdf.TEST_PARAMS)  # type: ignore[arg-type]
