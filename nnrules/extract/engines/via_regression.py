"""Regression boxes for ``via``: boxes grown around rows whose proven output range is narrow.

A box is kept when the bound engine proves that the network's output over the whole box lies in
an interval no wider than the tolerance (:meth:`nnrules.verify.Verifier.prove_range`).
Splitting the schema's whole domain down to such boxes needs far more verifications than a
budget allows once there are more than a few features (every feature must shrink), so the boxes
are grown instead, with the classification growth's own steps: each starts as a single
extraction row (width 0, always proven), is scaled up uniformly by halving steps, then has each
face pushed outwards (:func:`nnrules.extract.engines.via_growth.grow_faces`), every step
proven.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nnrules.extract.engines.via_growth import Steps, grow_faces, try_enlarge

if TYPE_CHECKING:
    from nnrules.verify import Budget, Domain, Verifier

__all__ = ["grow_output_boxes"]

_SEEDS = 16


def grow_output_boxes(verifier: Verifier, domain: Domain, rng: np.random.Generator,
                      budget: Budget, X: np.ndarray, *, width: float, max_boxes: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Proven boxes ``(lo, hi)`` of shape (n_boxes, d) grown around rows of ``X``, each with
    an output range at most ``width`` wide.

    Seeds are uncovered rows in a seeded random order, ``_SEEDS`` at a time, until the
    verification budget is spent or ``4 * max_boxes`` boxes are found.
    """
    g = Steps(verifier, domain, rng, budget, width)
    dom = domain
    order = rng.permutation(len(X))
    covered = np.zeros(len(X), dtype=bool)
    tried = np.zeros(len(X), dtype=bool)
    found_lo, found_hi = [np.zeros((0, dom.d))], [np.zeros((0, dom.d))]
    n_found = 0
    while n_found < 4 * max_boxes and budget.left >= _SEEDS:
        seeds = [i for i in order if not covered[i] and not tried[i]][:_SEEDS]
        if not seeds:
            break
        tried[seeds] = True
        lo, hi = X[seeds].copy(), X[seeds].copy()
        cls = np.zeros(len(seeds), dtype=np.int64)  # unused in regression mode
        ok = g.verify(lo, hi, cls)["status"] == "proven"
        lo, hi, cls = lo[ok], hi[ok], cls[ok]
        if len(lo) == 0:
            continue
        centre, done, t = lo.copy(), np.zeros(len(lo), dtype=bool), 0.5
        for _ in range(10):  # the largest of 1/2, 1/4, ... of the feature ranges that holds
            lo, hi, good = try_enlarge(g, lo, hi, cls, centre - t * dom.range,
                                      centre + t * dom.range, only=~done)
            done |= good
            t /= 2.0
            if done.all() or budget.left <= 0:
                break
        lo, hi = grow_faces(g, lo, hi, cls, tries=3)
        found_lo.append(lo)
        found_hi.append(hi)
        n_found += len(lo)
        for a, b in zip(lo, hi):
            covered |= dom.contains(X, a, b)
    return np.concatenate(found_lo), np.concatenate(found_hi)
