"""Input splitting: prove a box by proving the halves it splits into (branch and bound).

Linear relaxations loosen with the width of the box (every ReLU whose input interval straddles
zero is relaxed), so a box the bound engine cannot prove whole is often proven in parts. Each
round splits every unproven part in two along the input whose width times its linear-bound
coefficient is largest (the input the bound is most sensitive to), and certifies both halves.
The box is proven when every part is; the union of the parts is the box, so the answer stays
sound. Work is bounded: at most ``2 ** depth`` parts per box, and parts stop at ``max_parts``
in flight across all boxes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["prove_by_splitting"]

# (lo, hi, cls) -> (certified margin (n,), linear coefficients (n, m, d) or None)
Certify = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray | None]]


def _split(lo, hi, coef):
    width = hi - lo
    score = width if coef is None else width * np.abs(coef).sum(axis=1)
    j = score.argmax(axis=1)
    rows = np.arange(len(lo))
    mid = (lo[rows, j] + hi[rows, j]) / 2.0
    lo_b, hi_a = lo.copy(), hi.copy()
    hi_a[rows, j] = mid
    lo_b[rows, j] = mid
    return np.concatenate([lo, lo_b]), np.concatenate([hi_a, hi])


def prove_by_splitting(certify: Certify, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray,
                       coef: np.ndarray | None, *, depth: int,
                       max_parts: int = 1024) -> np.ndarray:
    """Which boxes are proven once split into at most ``2 ** depth`` parts.

    Parameters
    ----------
    certify : callable
        Certified margins (positive = proven) and linear coefficients of boxes.
    lo, hi : ndarray of shape (n, d)
        Boxes the engine could not prove whole.
    cls : ndarray of shape (n,)
    coef : ndarray of shape (n, m, d) or None
        Their linear-bound coefficients (None for interval bounds: split the widest input).
    depth : int
        Rounds of splitting.

    Returns
    -------
    ndarray of bool of shape (n,)
    """
    n = len(lo)
    owner = np.arange(n)
    failed = np.zeros(n, dtype=bool)
    for _ in range(depth):
        keep = ~failed[owner]
        owner, lo, hi = owner[keep], lo[keep], hi[keep]
        coef = None if coef is None else coef[keep]
        if owner.size == 0:
            break
        if 2 * owner.size > max_parts:  # too many parts in flight: give up on the rest
            failed[owner] = True
            owner = owner[:0]
            break
        lo, hi = _split(lo, hi, coef)
        owner = np.concatenate([owner, owner])
        margin, coef = certify(lo, hi, cls[owner])
        open_ = margin <= 0
        owner, lo, hi = owner[open_], lo[open_], hi[open_]
        coef = None if coef is None else coef[open_]
    failed[owner] = True
    return ~failed
