"""Padmé padding (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
Communication with PURBs", PETS 2019): round a length L up so that only about log2(log2(L))
bits of it remain visible, at most 12 % overhead. Peluit applies it to an envelope's number of
64 KiB chunks, so everything up to 64 KiB looks alike, and larger files fall in few buckets."""

from __future__ import annotations


def padme(length: int) -> int:
    if length < 0:
        raise ValueError("negative length")
    if length < 2:
        return length
    e = length.bit_length() - 1  # floor(log2 L)
    s = e.bit_length()  # floor(log2 e) + 1
    last_bits = e - s
    mask = (1 << last_bits) - 1
    return (length + mask) & ~mask


def padded_chunk_count(chunks: int) -> int:
    return padme(max(1, chunks))
