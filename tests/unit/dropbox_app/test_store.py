from __future__ import annotations

import datetime as dt
import os

import pytest

from dropbox_app.store import POOL_TARGET, Store, StoreError, member_name


def _full(path) -> list[str]:
    return sorted(n for n in os.listdir(path) if os.path.getsize(path / n))


def test_an_envelope_goes_into_a_slot_made_beforehand(tmp_path):
    store = Store(tmp_path)
    store.ensure()
    slots = sorted(os.listdir(tmp_path))
    assert len(slots) == POOL_TARGET and store.free_slots() == POOL_TARGET
    pending = store.begin()
    pending.sink.write(b"ciphertext")
    size, sha = pending.commit()
    pending.release()
    # No name was made, renamed or removed: the directory is as the batch left it.
    assert sorted(os.listdir(tmp_path)) == slots
    assert list(store.members()) == [pending.member] and size == 10 and len(sha) == 64
    assert store.read(pending.member) == b"ciphertext"
    assert (os.stat(tmp_path / pending.member).st_mode & 0o777) == 0o600


def test_two_writers_never_share_a_slot(tmp_path):
    store = Store(tmp_path)
    store.ensure()
    pendings = [store.begin() for _ in range(POOL_TARGET)]
    assert len({p.member for p in pendings}) == POOL_TARGET
    extra = store.begin()  # the pool ran dry: a new batch
    assert extra.member not in {p.member for p in pendings}
    for p in [*pendings, extra]:
        p.discard()


def test_discard_empties_the_slot(tmp_path):
    store = Store(tmp_path)
    p = store.begin()
    p.sink.write(b"x")
    p.discard()
    assert _full(tmp_path) == []
    p2 = store.begin()
    p2.sink.write(b"y")
    p2.commit()
    p2.discard()  # an aborted transaction after the envelope was complete
    assert _full(tmp_path) == []


def test_delete_wipes_in_place(tmp_path):
    store = Store(tmp_path)
    p = store.begin()
    p.sink.write(b"z" * 5000)
    p.commit()
    p.release()
    before = sorted(os.listdir(tmp_path))
    assert store.delete(p.member) == 5000
    assert sorted(os.listdir(tmp_path)) == before and _full(tmp_path) == []


def test_sweep_wipes_unreferenced_full_slots_but_not_locked_ones(tmp_path):
    store = Store(tmp_path)
    live = store.begin()  # an upload in progress: its slot is locked
    live.sink.write(b"l")
    live.commit()
    orphan = store.begin()
    orphan.sink.write(b"o")
    orphan.commit()
    orphan.release()  # as after a crash: full, unlocked, no row
    kept = store.begin()
    kept.sink.write(b"k")
    kept.commit()
    kept.release()
    (tmp_path / ".tmp-old").write_bytes(b"x")  # the store's earlier layout
    assert store.sweep(known=lambda: {kept.member}) == 2
    assert _full(tmp_path) == sorted([live.member, kept.member])
    live.discard()


def test_cover_sets_every_time_to_the_day(tmp_path):
    store = Store(tmp_path)
    p = store.begin()
    p.sink.write(b"c")
    p.commit()
    p.release()
    names = [*os.listdir(tmp_path), "."]
    store.cover(dt.date(2026, 1, 2))
    t = dt.datetime(2026, 1, 2, tzinfo=dt.UTC).timestamp()
    ctimes = set()
    for name in names:
        st = os.stat(tmp_path / name)
        assert st.st_mtime == t and st.st_atime == t, name
        ctimes.add(st.st_ctime_ns)
    # One cover: the ctimes tell which file was written no better than the clock's tick.
    assert max(ctimes) - min(ctimes) < 10**9
    store.read(p.member)
    store.free_slots()
    assert os.stat(tmp_path / p.member).st_atime == t  # O_NOATIME
    assert os.stat(tmp_path).st_atime == t


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
    p = store.begin()
    p.sink._f = Full()  # the disk fills up under a real envelope
    p.sink.write(b"y")
    with pytest.raises(OSError):
        p.commit()
    p.discard()
    assert _full(tmp_path) == []


def test_hash_and_size_match_the_file(tmp_path):
    import hashlib

    store = Store(tmp_path)
    p = store.begin()
    data = os.urandom(3 * 1024 * 1024 + 17)
    for i in range(0, len(data), 65536):
        p.sink.write(memoryview(data)[i:i + 65536])
    size, sha = p.commit()
    p.release()
    assert size == len(data) and sha == hashlib.sha256(data).hexdigest()
    assert (tmp_path / p.member).read_bytes() == data
