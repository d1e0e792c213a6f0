"""Row hashing: tells whether evaluation rows were extraction rows.

``fingerprint(X)`` names a whole data set (same bytes and shape, same digest); ``row_hashes(X)``
gives every row a 64-bit hash. ``Dataset.fingerprint`` / ``Dataset.row_hashes`` use them, and
``nnrules.fidelity`` compares an evaluation set with the extraction data through them.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["fingerprint", "row_hashes"]

#: Seed of the per-column multipliers: fixed, so hashes agree across runs and machines.
_KEY_SEED = 20261122


def fingerprint(X: np.ndarray) -> str:
    """SHA-256 of a float64 array's bytes and shape: tells whether two data sets are the same."""
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    digest = hashlib.sha256(str(X.shape).encode())
    digest.update(memoryview(X).cast("B"))  # the same bytes as X.tobytes(), without a copy
    return digest.hexdigest()


def row_hashes(X: np.ndarray) -> np.ndarray:
    """A 64-bit hash of every row of a 2-D float array, shape (n_rows,) of uint64.

    Equal rows get equal hashes; unequal rows collide with probability about 2^-64.
    """
    X = np.asarray(X, dtype=np.float64)  # any layout: read column by column below
    if X.ndim != 2:
        X = np.ascontiguousarray(X).reshape(len(X), -1)
    bits = X.view(np.uint64)
    # Fixed odd multipliers, one per column.
    keys = np.random.default_rng(_KEY_SEED).integers(
        1, 2**63 - 1, size=bits.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.zeros(len(bits), dtype=np.uint64)
    for j in range(bits.shape[1]):  # column by column: no (n, d) temporary
        out = (out ^ bits[:, j]) * keys[j]
    return out
