import os

from workbench.cases import duplicates
from workbench.cases.index import SearchIndex
from workbench.cases.text import fold, token_set, tokens


def test_tokens_fold_case_and_diacritics():
    assert tokens("PUNGLI di Loket-3, Rp 5.000.000!") == ["pungli", "di", "loket", "rp", "000",
                                                         "000"]
    assert fold("Café Dinas") == "cafe dinas"
    assert token_set("Café café CAFE") == {"cafe"}
    assert token_set("a " + "x" * 41) == set()  # one letter, or a 41-character run


def test_index_and_or_prefix_and_replace():
    idx = SearchIndex()
    idx.add_many([(1, "korupsi dana BOS"), (2, "pungli di loket"), (5, "korupsi pengadaan")])
    assert idx.search("korupsi") == {1, 5}
    assert idx.search("korupsi dana") == {1}
    assert idx.search("kor") == {1, 5}         # the last word is a prefix
    assert idx.search("kor dana") == set()      # only the last word is
    idx.add(7, "danai")
    assert idx.search("dana") == {1} and idx.search("dana*") == {1, 7}  # exact word first
    assert idx.search("tidakada") == set()
    assert idx.search("  !! ") is None          # no words: no text condition
    idx.add(3, "Dana hibah")                    # out of order: still sorted
    assert idx.search("dana") == {1, 3}
    idx.replace(1, "korupsi dana BOS", "korupsi tunjangan")
    assert idx.search("dana") == {3} and idx.search("tunjangan") == {1}
    idx.add_many([(4, "dana desa")])
    assert idx.search("dana") == {3, 4}
    assert list(idx._postings["dana"]) == [3, 4]
    idx.clear()
    assert idx.search("korupsi") == set()


def test_duplicate_sketch_similarity():
    key = os.urandom(32)
    text = ("Kepala seksi perizinan meminta uang pelicin lima juta rupiah untuk menerbitkan "
            "izin usaha kami di kantor dinas pada bulan Februari")
    same = duplicates.sketch(text, key)
    assert duplicates.similarity(same, duplicates.sketch(text.upper() + " (tembusan)", key)) > 0.6
    other = duplicates.sketch("Pengadaan laptop sekolah digelembungkan harganya oleh panitia "
                              "lelang di dinas pendidikan kabupaten", key)
    assert duplicates.similarity(same, other) < 0.1
    # Keyed: another vault's key gives unrelated hashes for the same text.
    assert not set(same) & set(duplicates.sketch(text, os.urandom(32)))
    assert duplicates.sketch("", key) == [] and duplicates.similarity([], same) == 0.0
