"""What a killed import leaves in ``files/`` goes at the next import (filestore.sweep); a pack
another import is still writing, or whose rows have committed, stays."""

from nacl.public import PrivateKey

from workbench import filestore


def test_sweep_removes_only_unlocked_orphans(tmp_path):
    (tmp_path / "files").mkdir()
    public = PrivateKey.generate().public_key
    live = filestore.PackWriter(tmp_path, public)           # an import still writing
    live.add("a" * 32, [b"x"])
    finished = filestore.PackWriter(tmp_path, public)       # done, its rows not committed yet
    finished.add("b" * 32, [b"y"])
    finished.finish()
    committed = filestore.PackWriter(tmp_path, public)      # done and committed
    committed.add("c" * 32, [b"z"])
    committed.finish()
    committed.release()
    orphan = filestore.PackWriter(tmp_path, public)         # its import was killed after finish
    orphan.add("d" * 32, [b"w"])
    orphan.finish()
    orphan.release()
    (tmp_path / "files" / ".0123456789abcdef.pack.tmp").write_bytes(b"half")  # killed earlier

    removed = filestore.sweep(tmp_path, lambda: {committed.rel})

    names = {p.name for p in (tmp_path / "files").iterdir()}
    assert removed == 2
    assert names == {live._tmp.name, finished.name, committed.name}
    live.discard()
    finished.release()
    assert filestore.sweep(tmp_path, lambda: {committed.rel}) == 1  # now an orphan too
