"""Fingerprints for exact and near-duplicate articles (pure functions).

The same story reaches newsmon many times: republished by another outlet (大众网 →
青岛新闻网 → portals), in the other script, with a different headline, lead or
footer. Two fingerprints of the script-normalised body catch it:

* ``body_hash`` — SHA-256 of the body's letters and digits (spacing and punctuation
  ignored): exact duplicates;
* a MinHash signature (datasketch) over character 5-shingles of the same text, cut
  into LSH bands (32 bands of 4 rows). Two articles whose bodies share about 40 % of
  their shingles or more share a band with high probability; the store then compares
  their signatures and joins them into one story when the estimated Jaccard
  similarity is at least :data:`SAME_STORY`.

The band keys and signatures are stored (``storage/stories.py``), so a story found by
one crawl process is found by every later one. The MinHash seed and scheme are fixed:
signatures made by different processes and versions compare.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

import numpy as np
from datasketch import MinHash

SHINGLE_CHARS = 5
NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
SEED = 20200113
SCHEME = "affine32"
# Estimated Jaccard similarity of shingle sets at or above which two articles are the
# same story. Republications measure 0.8-1.0; two different stories about the same
# place well under 0.1.
SAME_STORY = 0.5
# Bodies with fewer shingles than this are too short for a meaningful estimate;
# only their exact hash is used.
MIN_SHINGLES = 30

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup knows about one body: its exact hash, MinHash signature and bands.

    ``signature`` is ``NUM_PERM`` little-endian uint32 values (empty for short
    bodies, which then have no bands either).
    """

    body_hash: str
    signature: bytes
    bands: tuple[str, ...]


def fingerprint_text(body_norm: str) -> str:
    """The body reduced to letters and digits: what both fingerprints are taken of."""
    return _NOT_TEXT.sub("", body_norm)


def shingle_hashes(text: str, size: int = SHINGLE_CHARS) -> np.ndarray:
    """32-bit hashes of the distinct overlapping ``size``-character pieces of ``text``.

    Computed with numpy over the code points (a polynomial hash finished with the
    splitmix64 mixer): the same text gives the same hashes in every process, and a
    whole article takes well under a millisecond, where hashing each piece in Python
    took several.
    """
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    count = len(points) - size + 1
    if count <= 0:
        points = np.pad(points, (0, size - len(points)))
        count = 1 if text else 0
    if count == 0:
        return np.empty(0, dtype=np.uint32)
    with np.errstate(over="ignore"):
        value = np.zeros(count, dtype=np.uint64)
        for offset in range(size):
            value = value * np.uint64(1_000_003) + points[offset:offset + count]
        value ^= value >> np.uint64(30)
        value *= np.uint64(0xBF58476D1CE4E5B9)
        value ^= value >> np.uint64(27)
        value *= np.uint64(0x94D049BB133111EB)
        value ^= value >> np.uint64(31)
    return np.unique((value >> np.uint64(32)).astype(np.uint32))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    # Built once per process; MinHash(...) would otherwise regenerate them per article.
    template = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    permutations = template.permutations
    return permutations[0], permutations[1]


def _identity(value: int) -> int:
    return value


def signature_of(hashes: np.ndarray) -> bytes:
    """The MinHash signature of a set of 32-bit shingle hashes, as bytes."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=_identity,
                      permutations=_permutations())
    minhash.update_batch(hashes.tolist())
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def band_keys(signature: bytes) -> tuple[str, ...]:
    """One key per LSH band: ``"<band>:<hash of its rows>"``, equal iff the rows are."""
    values = np.frombuffer(signature, dtype="<u4")
    keys = []
    for band in range(BANDS):
        rows = values[band * ROWS:(band + 1) * ROWS].tobytes()
        digest = hashlib.blake2b(rows, digest_size=8).hexdigest()
        keys.append(f"{band:02d}:{digest}")
    return tuple(keys)


def fingerprint(body_norm: str) -> Fingerprint:
    """Both fingerprints of a script-normalised body."""
    text = fingerprint_text(body_norm)
    exact = hashlib.sha256(text.encode("utf-8")).hexdigest()
    hashes = shingle_hashes(text)
    if len(hashes) < MIN_SHINGLES:
        return Fingerprint(exact, b"", ())
    signature = signature_of(hashes)
    return Fingerprint(exact, signature, band_keys(signature))


def similarity(signature_a: bytes, signature_b: bytes) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0.0 when either is empty)."""
    if not signature_a or len(signature_a) != len(signature_b):
        return 0.0
    a = np.frombuffer(signature_a, dtype="<u4")
    b = np.frombuffer(signature_b, dtype="<u4")
    return float(np.count_nonzero(a == b)) / len(a)
