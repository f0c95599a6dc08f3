"""An article body's word shingles: the full set, its bottom-k sketch, and how two bodies compare.

A shingle is a run of SHINGLE_WORDS consecutive words of the lower-cased body; its hash is CRC-32
(zlib: stable across processes, machines and Python versions, and fast). Two views are kept:
- the sketch, the SKETCH_SIZE smallest hashes (Broder's bottom-k sketch): a fixed-size sample
  on which candidates are found through an inverted index, whatever the archive's size;
- the full set, to compare a candidate exactly (a few KB per article).
"""

from __future__ import annotations

import heapq
import re
import zlib
from array import array
from dataclasses import dataclass

#: words per shingle: long enough that two unrelated texts sharing stock phrases share few shingles
SHINGLE_WORDS = 8
#: hashes in a sketch (the candidate index holds this many entries per article)
SKETCH_SIZE = 24

_WORD = re.compile(r"\w+")


def shingles(body: str | None) -> frozenset[int]:
    """The CRC-32 hashes of the body's word shingles (one shingle for a body shorter than SHINGLE_WORDS)."""
    words = _WORD.findall((body or "").lower())
    if not words:
        return frozenset()
    crc = zlib.crc32
    if len(words) <= SHINGLE_WORDS:
        return frozenset((crc(" ".join(words).encode()),))
    return frozenset(crc(" ".join(words[i:i + SHINGLE_WORDS]).encode())
                     for i in range(len(words) - SHINGLE_WORDS + 1))


def bottom_k(hashes: frozenset[int]) -> list[int]:
    """The sketch: the SKETCH_SIZE smallest hashes, ascending."""
    return heapq.nsmallest(SKETCH_SIZE, hashes)


def pack(hashes: frozenset[int]) -> bytes:
    """The set as bytes for a store (4 bytes a hash, sorted)."""
    return array("I", sorted(hashes)).tobytes()


def unpack(data: bytes) -> frozenset[int]:
    out = array("I")
    out.frombytes(data)
    return frozenset(out)


@dataclass(frozen=True)
class Overlap:
    jaccard: float  # |A n B| / |A u B|
    novelty: float  # the smaller of |A - B| / |A| and |B - A| / |B|: the share of text one side adds


def overlap(a: frozenset[int], b: frozenset[int]) -> Overlap:
    """How much two bodies share. A copy with an update line added, a typo fixed or its last paragraph cut
    keeps a high Jaccard resemblance AND one side adds little (low novelty); a follow-up that repeats
    a few paragraphs of the story adds text of its own on both sides (high novelty)."""
    if not a or not b:
        return Overlap(0.0, 1.0)
    both = len(a & b)
    return Overlap(both / (len(a) + len(b) - both), min(1 - both / len(a), 1 - both / len(b)))
