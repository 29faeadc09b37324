from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from dropbox_app.store import Store, StoreError, member_name


def test_envelope_is_invisible_until_committed(tmp_path):
    store = Store(tmp_path)
    pending = store.begin("ab" * 16)
    pending.sink.write(b"ciphertext")
    assert list(store.members()) == []
    size, sha = pending.commit(dt.date(2026, 1, 2))
    assert list(store.members()) == ["ab" * 16 + ".env"] and size == 10
    st = (tmp_path / pending.member).stat()
    # Day granularity on disk too: the file's time is midnight UTC, not the moment of upload.
    assert st.st_mtime == dt.datetime(2026, 1, 2, tzinfo=dt.UTC).timestamp()
    assert (st.st_mode & 0o777) == 0o600
    assert len(sha) == 64


def test_discard_leaves_nothing(tmp_path):
    store = Store(tmp_path)
    p = store.begin("cd" * 16)
    p.sink.write(b"x")
    p.discard()
    assert os.listdir(tmp_path) == []
    p2 = store.begin("ef" * 16)
    p2.commit(dt.date.today())
    p2.discard()  # an aborted transaction after the rename
    assert os.listdir(tmp_path) == []


def test_sweep_removes_stale_temp_and_orphans(tmp_path):
    store = Store(tmp_path)
    live = store.begin("01" * 16)  # an upload in progress
    stale = tmp_path / ".tmp-old"
    stale.write_bytes(b"x")
    old = time.time() - 3 * 86400
    os.utime(stale, (old, old))
    orphan = store.begin("02" * 16)
    orphan.commit(dt.date.today() - dt.timedelta(days=3))
    kept = store.begin("03" * 16)
    kept.commit(dt.date.today() - dt.timedelta(days=3))
    assert store.sweep(known={"03" * 16 + ".env"}) == 2
    assert sorted(os.listdir(tmp_path)) == sorted([live.temp.name, "03" * 16 + ".env"])
    live.discard()


@pytest.mark.parametrize("bad", ["../etc", "AB" * 16, "x", "ab" * 16 + "/.."])
def test_member_names_are_strict(tmp_path, bad):
    with pytest.raises(StoreError):
        member_name(bad)
    with pytest.raises(StoreError):
        Store(tmp_path).open(bad + ".env")


def test_a_failing_disk_surfaces_and_leaves_nothing(tmp_path):
    import errno

    from dropbox_app.store import HashingWriter

    class Full:
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    sink = HashingWriter(Full())
    sink.write(b"x" * 1000)
    with pytest.raises(OSError, match="No space"):
        sink.finish()
    store = Store(tmp_path)
    p = store.begin("0a" * 16)
    p.sink._f = Full()  # the disk fills up under a real envelope
    p.sink.write(b"y")
    with pytest.raises(OSError):
        p.commit(dt.date.today())
    p.discard()
    assert os.listdir(tmp_path) == []


def test_hash_and_size_match_the_file(tmp_path):
    import hashlib

    store = Store(tmp_path)
    p = store.begin("0b" * 16)
    data = os.urandom(3 * 1024 * 1024 + 17)
    for i in range(0, len(data), 65536):
        p.sink.write(memoryview(data)[i:i + 65536])
    size, sha = p.commit(dt.date.today())
    assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / p.member).read_bytes() == data
