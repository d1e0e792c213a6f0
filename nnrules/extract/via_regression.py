"""Regression boxes for ``via``: boxes grown around rows whose proven output range is narrow.

A box is kept when the bound engine proves that the network's output over the whole box lies
in an interval no wider than the tolerance. Splitting the schema's whole domain down to such
boxes needs far more verifications than a budget allows once there are more than a few
features (every feature must shrink), so the boxes are grown instead: each starts as a single
extraction row (width 0, always proven), is scaled up uniformly by bisection, then has each
face pushed outwards, every step proven.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nnrules.extract.verify import output_range

if TYPE_CHECKING:
    from nnrules.extract.via import VIAExtractor

__all__ = ["grow_output_boxes"]

_SEEDS = 16


class _Prover:
    """Batched "is the output range over each box at most ``tol`` wide?", on the budget."""

    def __init__(self, ex: VIAExtractor, tol: float) -> None:
        self.ex, self.tol = ex, tol

    def __call__(self, lo: np.ndarray, hi: np.ndarray):
        ex = self.ex
        out_lo, out_hi = output_range(ex.network, lo, hi, bound=ex.bound, ir=ex.ir_)
        ok = (out_hi[:, 0] - out_lo[:, 0]) <= self.tol
        ex.counts_["proven"] += int(ok.sum())
        ex.counts_["unknown"] += int((~ok).sum())
        return ok, out_lo[:, 0], out_hi[:, 0]


def _try(ex, prove, lo, hi, rng_lo, rng_hi, new_lo, new_hi, active):
    """Verify enlarged boxes where ``active``; keep those proven. Returns updated arrays."""
    dom = ex.domain_
    pairs = [dom.normalise(a, b) for a, b in zip(new_lo, new_hi)]
    n_lo = np.minimum(np.array([p[0] for p in pairs]), lo)
    n_hi = np.maximum(np.array([p[1] for p in pairs]), hi)
    moved = active & np.any((n_lo != lo) | (n_hi != hi), axis=1)
    idx = np.flatnonzero(moved)
    good = np.zeros(len(lo), dtype=bool)
    if idx.size == 0 or ex._budget_left < idx.size:
        return lo, hi, rng_lo, rng_hi, good
    ok, a, b = prove(n_lo[idx], n_hi[idx])
    good[idx[ok]] = True
    rng_lo, rng_hi = rng_lo.copy(), rng_hi.copy()
    rng_lo[idx[ok]], rng_hi[idx[ok]] = a[ok], b[ok]
    lo = np.where(good[:, None], n_lo, lo)
    hi = np.where(good[:, None], n_hi, hi)
    return lo, hi, rng_lo, rng_hi, good


def _grow(ex, prove, seeds: np.ndarray):
    dom = ex.domain_
    lo, hi = seeds.copy(), seeds.copy()
    ok, rng_lo, rng_hi = prove(lo, hi)
    lo, hi, rng_lo, rng_hi = lo[ok], hi[ok], rng_lo[ok], rng_hi[ok]
    if len(lo) == 0:
        return lo, hi, rng_lo, rng_hi
    centre = lo.copy()
    # Uniform scale-up: the largest of 1/2, 1/4, ... of the feature ranges that stays proven.
    found = np.zeros(len(lo), dtype=bool)
    t = 0.5
    for _ in range(10):
        lo, hi, rng_lo, rng_hi, good = _try(ex, prove, lo, hi, rng_lo, rng_hi,
                                            centre - t * dom.range, centre + t * dom.range,
                                            ~found)
        found |= good
        t /= 2.0
        if found.all() or ex._budget_left <= 0:
            break
    # Faces: push each side of each feature by 1, 1/2, 1/4 of the room left.
    for kind, k in dom.units:
        if kind == "group":
            for col in dom.groups[k]:
                new_hi = hi.copy()
                new_hi[:, col] = 1.0
                lo, hi, rng_lo, rng_hi, _ = _try(ex, prove, lo, hi, rng_lo, rng_hi, lo, new_hi,
                                                 np.ones(len(lo), dtype=bool))
            continue
        for side in (0, 1):
            room = (lo[:, k] - dom.lower[k]) if side == 0 else (dom.upper[k] - hi[:, k])
            done = room <= 0
            for frac in (1.0, 0.5, 0.25):
                new_lo, new_hi = lo.copy(), hi.copy()
                if side == 0:
                    new_lo[:, k] -= frac * room
                else:
                    new_hi[:, k] += frac * room
                lo, hi, rng_lo, rng_hi, good = _try(ex, prove, lo, hi, rng_lo, rng_hi,
                                                    new_lo, new_hi, ~done)
                done |= good
                if done.all() or ex._budget_left <= 0:
                    break
    return lo, hi, rng_lo, rng_hi


def grow_output_boxes(ex: VIAExtractor, X: np.ndarray, tol: float):
    """Proven ``(lo, hi, (out_lo, out_hi))`` boxes grown around rows of ``X``.

    Seeds are uncovered rows in a seeded random order, ``_SEEDS`` at a time, until the
    verification budget is spent or ``4 * max_boxes`` boxes are found.
    """
    prove = _Prover(ex, tol)
    order = ex.rng_.permutation(len(X))
    covered = np.zeros(len(X), dtype=bool)
    tried = np.zeros(len(X), dtype=bool)
    kept: list[tuple[np.ndarray, np.ndarray, tuple[float, float]]] = []
    while len(kept) < 4 * ex.max_boxes and ex._budget_left >= _SEEDS:
        seeds = [i for i in order if not covered[i] and not tried[i]][:_SEEDS]
        if not seeds:
            break
        tried[seeds] = True
        lo, hi, out_lo, out_hi = _grow(ex, prove, X[seeds])
        for k in range(len(lo)):
            kept.append((lo[k], hi[k], (float(out_lo[k]), float(out_hi[k]))))
            covered |= ex.domain_.contains(X, lo[k], hi[k])
    return kept
