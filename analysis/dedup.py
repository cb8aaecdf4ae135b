"""Fingerprints for deduplication: content hashes, MinHash signatures, LSH bands.

A near-duplicate is a syndicated or lightly edited copy of a story: a wire
dateline or credits added, the headline changed, a paragraph dropped or added,
some words swapped, or the text cut short. Both are caught by comparing sets of
word 3-shingles:

* Jaccard J = |A∩B| / |A∪B| catches copies of about the same length;
* containment C = |A∩B| / min(|A|, |B|) catches a truncated copy (or one with
  paragraphs added), whose Jaccard falls with the cut while C stays near 1.

Both are estimated from 126-value MinHash signatures (standard error <= 0.045).
Candidates come from LSH: 42 bands of 3 values, each band hashed to one BIGINT
key that DuckDB indexes, so a lookup reads a handful of index entries whatever
the size of the store. A pair shares a band with probability 1-(1-J^3)^42:
0.99 at J=0.5, 0.93 at J=0.4, 0.68 at J=0.3 (a copy cut to 30 %), 0.04 at
J=0.1; unrelated articles (J < 0.02) almost never meet.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np

from analysis.text import words as tokens

SHINGLE_WORDS = 3  # short enough that one swapped word breaks only 3 shingles
NUM_PERM = 126
BANDS = 42
ROWS = NUM_PERM // BANDS
# Thresholds, tuned on the seeds and the sample site (see tests/test_dedup.py):
# edited wire copies score J >= 0.7, same-story rewrites and follow-ups J < 0.15
# and C < 0.3, so these leave a wide margin on both sides.
NEAR_JACCARD = 0.5
NEAR_CONTAINMENT = 0.8
# Containment of a very short text is noise (a shared quote), so it only counts
# when the smaller text has this many shingles (about 40 words).
MIN_SHINGLES_FOR_CONTAINMENT = 40

_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_MAX_HASH = np.uint64((1 << 32) - 1)
# Fixed seed: signatures are stored, so they must be the same on every machine and run.
_rng = np.random.RandomState(20250119)
_PERM_A = _rng.randint(1, 1 << 32, NUM_PERM, dtype=np.uint64)
_PERM_B = _rng.randint(0, 1 << 32, NUM_PERM, dtype=np.uint64)


def words(text: str) -> list[str]:
    """Case-folded word tokens (Unicode-aware: Arabic and Hebrew included)."""
    return tokens(text.casefold())


def content_hash(text: str) -> str:
    """Same hash for texts that differ only in case, punctuation or spacing."""
    return hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Signature:
    minhash: tuple[int, ...]  # NUM_PERM unsigned 32-bit values
    shingles: int  # size of the shingle set

    def bands(self) -> list[int]:
        """One signed 64-bit key per band, for the lsh_buckets table."""
        values = np.asarray(self.minhash, dtype=np.uint32)
        keys = []
        for band in range(BANDS):
            chunk = values[band * ROWS : (band + 1) * ROWS].tobytes()
            digest = hashlib.blake2b(chunk, digest_size=8, person=band.to_bytes(2, "big")).digest()
            keys.append(int.from_bytes(digest, "big", signed=True))
        return keys


def signature(text: str) -> Signature | None:
    """MinHash of the word 3-shingles; None when the text is shorter than one shingle."""
    tokens = words(text)
    if len(tokens) < SHINGLE_WORDS:
        return None
    hashes = {
        zlib.crc32(" ".join(tokens[i : i + SHINGLE_WORDS]).encode("utf-8"))
        for i in range(len(tokens) - SHINGLE_WORDS + 1)
    }
    hv = np.fromiter(hashes, dtype=np.uint64, count=len(hashes))
    # (a*x + b) mod p, with a, x < 2**32 so the product fits in 64 bits.
    permuted = ((np.outer(hv, _PERM_A) % _MERSENNE_PRIME + _PERM_B) % _MERSENNE_PRIME) & _MAX_HASH
    return Signature(minhash=tuple(int(v) for v in permuted.min(axis=0)), shingles=len(hashes))


@dataclass(frozen=True, slots=True)
class Similarity:
    jaccard: float
    containment: float

    @property
    def is_near_duplicate(self) -> bool:
        return self.jaccard >= NEAR_JACCARD or self.containment >= NEAR_CONTAINMENT

    @property
    def score(self) -> float:
        """The figure stored in articles.similarity: the larger of the two."""
        return round(max(self.jaccard, self.containment), 3)


def compare(a: Signature, b: Signature) -> Similarity:
    """Estimated Jaccard and containment of the two shingle sets."""
    jaccard = float(np.mean(np.asarray(a.minhash) == np.asarray(b.minhash)))
    smaller = min(a.shingles, b.shingles)
    containment = 0.0
    if smaller >= MIN_SHINGLES_FOR_CONTAINMENT:
        overlap = jaccard * (a.shingles + b.shingles) / (1 + jaccard)
        containment = min(1.0, overlap / smaller)
    return Similarity(jaccard=round(jaccard, 3), containment=round(containment, 3))
