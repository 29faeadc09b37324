"""What sizes tell a seized server: every envelope is padded, so a one-byte file and a 60 KB
one, a short name and a long one, a terse report and a long one, look alike on disk and in the
database."""

from __future__ import annotations

from sqlalchemy import select

from dropbox_app.models import Submission
from tests.fixtures.drop import Browser


def test_small_things_all_look_alike(drop):
    b = Browser(drop.reporter())
    b.get_codename()
    b.confirm()
    files = [("a", b"x"), ("b" * 200 + ".pdf", b"y" * 1000), ("c.txt", b"z" * 60_000)]
    b.report("Singkat tapi cukup panjang.", files=files)
    b.message("x" * 50_000, files=[("d", b"")])
    with drop.dep.db() as db:
        rows = db.scalars(select(Submission)).all()
    assert len(rows) == 6
    sizes = {r.padded_size for r in rows}
    assert len(sizes) == 1, sizes
    on_disk = {(drop.dep.store_dir / r.member).stat().st_size for r in rows}
    assert on_disk == sizes


def test_large_files_fall_in_few_buckets(drop):
    b = Browser(drop.reporter())
    b.get_codename()
    b.confirm()
    # 8 sizes spread over 1.10 to 1.19 MB: padding leaves at most two distinct sizes.
    files = [(f"f{i}", b"\0" * (1_100_000 + i * 12_000)) for i in range(8)]
    b.report("Banyak berkas dengan ukuran yang berbeda-beda.", files=files)
    with drop.dep.db() as db:
        # The report's own envelope is small; the eight files are the large ones.
        sizes = {r.padded_size for r in db.scalars(select(Submission)
                                                   .where(Submission.padded_size > 1_000_000))}
    assert len(sizes) <= 2, sorted(sizes)
