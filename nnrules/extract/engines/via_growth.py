"""Boxes grown around extraction rows for ``via`` (``candidates="rows"``), every step proven.

A seed row (a box of width 0, proven or not by one verification) grows in three steps, each a
verification of the enlarged boxes that is kept only where proven:

1. **neighbours**: the bounding box of the seed and its k nearest rows of the same class, k
   found by bisection on a log scale (the box follows the data's own shape);
2. **uniform**: ``centre +- t * rho``, ``rho_j`` how far feature j may move given the seed's
   logit margin and gradient, ``t`` by halving steps;
3. **faces**: each face pushed outwards in turn, the largest of 1, 1/2, 1/4, ... of the room
   left that stays proven (also used by :mod:`nnrules.extract.engines.via_regression`).

Seeds are drawn from a pool of extraction rows and jittered copies labelled by the network.
The functions take the verifier, the domain, the seeded generator and the verification budget
(:class:`Steps` carries the four through the steps) and return boxes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nnrules.verify import Budget, Domain, Verifier

__all__ = ["Steps", "check", "grow_boxes", "grow_faces", "make_pool", "reach_margin",
           "try_enlarge"]


def check(verifier: Verifier, budget: Budget, rng: np.random.Generator, lo: np.ndarray,
          hi: np.ndarray, cls: np.ndarray, width: float | None = None) -> dict[str, Any]:
    """Verify boxes, counted against the budget: "=> class cls[b]", or with ``width`` given
    (regression) "=> output range at most width wide" (``cls`` unused).

    Classification draws the counterexample search's seed from ``rng`` (one draw per call).
    Returns the verifier's dict (``status``, ``coef``, ...).
    """
    if len(lo) == 0:
        return {"status": np.array([], dtype=str), "coef": None}
    if width is not None:
        res = verifier.prove_range(lo, hi, width)
    else:
        res = verifier.prove(lo, hi, cls, random_state=int(rng.integers(0, 2**31 - 1)))
    budget.spend(res["status"])
    return res


@dataclass(frozen=True)
class Steps:
    """What every growth step needs: the verifier, the domain, the seeded generator, the
    budget, and for regression the widest output range that counts as proven."""

    verifier: Verifier
    domain: Domain
    rng: np.random.Generator
    budget: Budget
    width: float | None = None

    def verify(self, lo: np.ndarray, hi: np.ndarray, cls: np.ndarray) -> dict[str, Any]:
        """:func:`check` with these settings."""
        return check(self.verifier, self.budget, self.rng, lo, hi, cls, self.width)


def make_pool(domain: Domain, rng: np.random.Generator, oracle, X: np.ndarray,
              y_idx: np.ndarray):
    """Extraction rows plus jittered copies (labelled by ``oracle.predict_index``): a proxy for
    where held-out rows lie, used to pick seeds and to rank boxes. Discrete features and
    one-hot groups are not jittered. Returns (pool (n, d), class index per pool row)."""
    n_extra = min(4 * len(X), 4000)
    pick = rng.integers(0, len(X), size=n_extra)
    std = X.std(axis=0)
    noise = rng.normal(size=(n_extra, X.shape[1])) * 0.25 * std
    noise[:, domain.discrete | (domain.group_of >= 0)] = 0.0
    extra = np.clip(X[pick] + noise, domain.lower, domain.upper)
    pool = np.vstack([X, extra])
    labels = np.concatenate([y_idx, oracle.predict_index(extra)])
    return pool, labels


def grow_boxes(verifier: Verifier, domain: Domain, rng: np.random.Generator, budget: Budget,
               oracle, X: np.ndarray, y_idx: np.ndarray, *, max_boxes: int):
    """Boxes grown around extraction rows, each step proven.

    Seeds are the uncovered rows of the pool (:func:`make_pool`: real rows first, largest
    logit margin first), 16 at a time, until ``4 * max_boxes`` boxes are found or the
    budget is spent. ``oracle`` labels the jittered rows and gives their logits.

    Returns
    -------
    proven : list of (lo, hi, cls)
    pool, labels : the seed pool and its class indices
    """
    g = Steps(verifier, domain, rng, budget)
    pool, labels = make_pool(domain, rng, oracle, X, y_idx)
    proven: list[tuple[np.ndarray, np.ndarray, int]] = []
    covered = np.zeros(len(pool), dtype=bool)
    Z = oracle.logits(pool)
    if Z.shape[1] == 1:
        margin = np.abs(Z[:, 0])
    else:
        top = np.sort(Z, axis=1)
        margin = top[:, -1] - top[:, -2]
    real = np.arange(len(pool)) < len(X)
    order = np.lexsort((-margin, ~real))
    tried = np.zeros(len(pool), dtype=bool)
    while len(proven) < 4 * max_boxes and budget.left > 0:
        room = min(16, budget.left)
        seeds = [i for i in order if not covered[i] and not tried[i]][:room]
        if not seeds:
            break
        tried[seeds] = True
        seeds = np.array(seeds)
        cls = labels[seeds]
        lo, hi = pool[seeds].copy(), pool[seeds].copy()
        ok = g.verify(lo, hi, cls)["status"] == "proven"
        lo, hi, cls = lo[ok], hi[ok], cls[ok]
        if len(lo) == 0:
            continue
        lo, hi = grow_neighbours(g, lo, hi, cls, pool, labels)
        lo, hi = grow_uniform(g, lo, hi, cls)
        lo, hi = grow_faces(g, lo, hi, cls)
        for k in range(len(lo)):
            proven.append((lo[k], hi[k], int(cls[k])))
            covered |= domain.contains(pool, lo[k], hi[k])
    return proven, pool, labels


def try_enlarge(g: Steps, lo, hi, cls, new_lo, new_hi, only=None):
    """Verify the enlarged boxes (those in ``only``); keep enlargements that are proven.

    Returns (lo, hi, enlarged (n,) bool)."""
    pairs = [g.domain.normalise(a, b) for a, b in zip(new_lo, new_hi)]
    n_lo = np.array([p[0] for p in pairs])
    n_hi = np.array([p[1] for p in pairs])
    # Enlargements only: a normalised box never shrinks below the proven one.
    n_lo, n_hi = np.minimum(n_lo, lo), np.maximum(n_hi, hi)
    moved = np.any((n_lo != lo) | (n_hi != hi), axis=1)
    if only is not None:
        moved &= only
    changed = np.flatnonzero(moved)
    if changed.size == 0 or g.budget.left < changed.size:
        return lo, hi, np.zeros(len(lo), dtype=bool)
    good = np.zeros(len(lo), dtype=bool)
    res = g.verify(n_lo[changed], n_hi[changed], cls[changed])
    good[changed[res["status"] == "proven"]] = True
    lo = np.where(good[:, None], n_lo, lo)
    hi = np.where(good[:, None], n_hi, hi)
    return lo, hi, good


def grow_neighbours(g: Steps, lo, hi, cls, X, y_idx):
    """Largest proven bounding box of the seed and its k nearest rows of the same class.

    The boxes are nested in k, so k is found by bisection on a log scale; the box then
    follows the data's own shape, which is where held-out rows lie.
    """
    dom = g.domain
    Zs = X / dom.range
    seeds = (lo + hi) / 2.0 / dom.range
    dist = ((seeds[:, None, :] - Zs[None]) ** 2).sum(axis=2)
    dist[y_idx[None, :] != cls[:, None]] = np.inf
    order = np.argsort(dist, axis=1, kind="stable")
    n_same = np.isfinite(dist).sum(axis=1)
    good_k = np.ones(len(lo), dtype=np.int64)
    bad_k = n_same + 1
    while True:
        active = bad_k - good_k > 1
        if not active.any() or g.budget.left < int(active.sum()):
            break
        k = np.where(active, np.sqrt(good_k * bad_k).astype(np.int64), good_k)
        k = np.clip(k, good_k + active, bad_k - active)
        new_lo, new_hi = lo.copy(), hi.copy()
        for b in np.flatnonzero(active):
            rows = X[order[b, : k[b]]]
            new_lo[b] = np.minimum(lo[b], rows.min(axis=0))
            new_hi[b] = np.maximum(hi[b], rows.max(axis=0))
        pairs = [dom.normalise(a, c) for a, c in zip(new_lo, new_hi)]
        n_lo = np.array([p[0] for p in pairs])
        n_hi = np.array([p[1] for p in pairs])
        res = g.verify(n_lo[active], n_hi[active], cls[active])
        ok = np.zeros(len(lo), dtype=bool)
        ok[np.flatnonzero(active)[res["status"] == "proven"]] = True
        good_k = np.where(ok, k, good_k)
        bad_k = np.where(active & ~ok, k, bad_k)
        lo = np.where(ok[:, None], n_lo, lo)
        hi = np.where(ok[:, None], n_hi, hi)
    return lo, hi


def grow_uniform(g: Steps, lo, hi, cls):
    """Largest proven ``x +- t * rho`` per box, rho_j = how far feature j may move.

    ``rho_j = margin / (d * |dmargin/dx_j|)`` (capped at the feature's range): the move that
    would use up the seed's logit margin if every feature moved at once. ``t`` is searched
    on a halving scale from 4 down, then refined by two bisection steps.
    """
    dom = g.domain
    centre = (lo + hi) / 2.0
    margin, grad = g.verifier.margins(centre, cls)
    rho = np.abs(margin)[:, None] / (dom.d * np.abs(grad) + 1e-12)
    rho = np.minimum(rho, dom.range)
    best = np.zeros(len(lo))
    found = np.zeros(len(lo), dtype=bool)
    t = 4.0
    for _ in range(9):
        trial = np.where(found, best, t)
        lo, hi, good = try_enlarge(g, lo, hi, cls, centre - trial[:, None] * rho,
                                 centre + trial[:, None] * rho, only=~found)
        best = np.where(good, t, best)
        found |= good
        t /= 2.0
        if found.all():
            break
    step = best / 4.0
    for _ in range(2):
        trial = best + step
        lo, hi, good = try_enlarge(g, lo, hi, cls, centre - trial[:, None] * rho,
                                 centre + trial[:, None] * rho, only=found)
        best = np.where(good, trial, best)
        step /= 2.0
    return lo, hi


def grow_faces(g: Steps, lo, hi, cls, tries: int = 7):
    """Push each face of every box outwards, one face at a time: the largest of
    1, 1/2, 1/4, ... of the room left that stays proven."""
    dom = g.domain
    for kind, k in dom.units:
        if kind == "group":
            for col in dom.groups[k]:
                new_hi = hi.copy()
                new_hi[:, col] = 1.0
                lo, hi, _ = try_enlarge(g, lo, hi, cls, lo, new_hi)
            continue
        for side in (0, 1):
            room = (lo[:, k] - dom.lower[k]) if side == 0 else (dom.upper[k] - hi[:, k])
            found = room <= 0
            frac = 1.0
            for _ in range(tries):
                new_lo, new_hi = lo.copy(), hi.copy()
                if side == 0:
                    new_lo[:, k] = lo[:, k] - frac * room
                else:
                    new_hi[:, k] = hi[:, k] + frac * room
                lo, hi, good = try_enlarge(g, lo, hi, cls, new_lo, new_hi, only=~found)
                found |= good
                frac /= 2.0
                if found.all() or g.budget.left <= 0:
                    break
    return lo, hi


def reach_margin(verifier: Verifier, domain: Domain, rng: np.random.Generator, budget: Budget,
                 lo: np.ndarray, hi: np.ndarray, cls: np.ndarray, margin: float):
    """Push the faces of proven boxes that lie on the domain's edge (continuous features
    only) ``margin`` times the feature's range further out, all of a box's such faces in one
    verification, kept where proven (boxes in order, while the budget lasts).

    Held-out rows a little outside the extraction rows' range can then be covered. The
    verifier searches counterexamples in the widened domain during the call.
    Returns (lo, hi).
    """
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    cont = ~domain.discrete & (domain.group_of < 0)
    pad = np.where(cont, margin * (domain.upper - domain.lower), 0.0)
    tol = 1e-9 * domain.range
    new_lo = np.where(cont & (lo <= domain.lower + tol), domain.lower - pad, lo)
    new_hi = np.where(cont & (hi >= domain.upper - tol), domain.upper + pad, hi)
    moved = np.flatnonzero(np.any((new_lo < lo) | (new_hi > hi), axis=1))[:max(budget.left, 0)]
    if moved.size == 0:
        return lo, hi
    saved = (domain.lower, domain.upper)
    domain.lower, domain.upper = domain.lower - pad, domain.upper + pad
    try:
        res = check(verifier, budget, rng, new_lo[moved], new_hi[moved], cls[moved])
    finally:
        domain.lower, domain.upper = saved
    good = moved[res["status"] == "proven"]
    lo[good], hi[good] = new_lo[good], new_hi[good]
    return lo, hi
