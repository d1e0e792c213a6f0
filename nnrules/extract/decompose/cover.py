"""Short DNFs of a function on a small discrete domain: prime cubes and a set cover.

A *domain* is every combination of the values of a few discrete attributes (a one-hot group's
columns, a binary column, a hidden unit's cluster indices), given as an integer array with one
row per point and one column per attribute. A *cube* gives each attribute a set of allowed
values; it is an *implicant* of a function when every point it holds on is in the on-set or
is a don't-care. :func:`cover` returns a few implicants that together hold on exactly the on-set
(on the cared-for points):

1. every on-point not covered yet is expanded to a prime implicant — each attribute in turn is
   widened to every value no off-point blocks (for ordered attributes, to the widest interval
   around the point's value, so their sets stay intervals); this is done in
   every rotation of the attribute order and its reverse, which gives different primes
   (with more than ``max_points`` on-points, only points no prime covers yet are expanded);
2. a minimum set of primes covering the on-points is found exactly when there are at most
   ``exact_primes`` primes (by increasing cover size), else greedily (most uncovered on-points
   first, then fewer restricted attributes).

This is the Quine–McCluskey idea for multi-valued attributes, bounded: the work is
O(on-points x attributes x values x domain) and a caller caps the domain size (``setiono``'s
``max_combinations``). Without don't-cares the result is an equivalence on the domain.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Cube", "cover"]

Cube = tuple[frozenset[int], ...]


def _holds(cube: Cube, D: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    ok = np.ones(len(D), dtype=bool)
    for a, allowed in enumerate(cube):
        if len(allowed) < sizes[a]:
            lut = np.zeros(sizes[a], dtype=bool)
            lut[list(allowed)] = True
            ok &= lut[D[:, a]]
    return ok


def _expand(point: np.ndarray, B: np.ndarray, sizes: Sequence[int],
            ordered: Sequence[bool], order: Sequence[int]) -> Cube:
    """Widen the cube of ``point`` attribute by attribute, each as far as it goes while the
    cube holds on no row of ``B`` (the off-points that matter)."""
    cube = [frozenset([int(v)]) for v in point]
    outside = B != point[None, :]  # per off-point and attribute: outside the cube
    count = outside.sum(axis=1)
    for a in order:
        # off-points inside the cube on every other attribute block their value of a
        forbidden = set(np.unique(B[count - outside[:, a] == 0, a]).tolist())
        if ordered[a]:
            lo = hi = int(point[a])
            while lo - 1 >= 0 and lo - 1 not in forbidden:
                lo -= 1
            while hi + 1 < sizes[a] and hi + 1 not in forbidden:
                hi += 1
            allowed = frozenset(range(lo, hi + 1))
        else:
            allowed = frozenset(v for v in range(sizes[a]) if v not in forbidden)
        cube[a] = allowed
        lut = np.ones(sizes[a], dtype=bool)
        lut[list(allowed)] = False
        new = lut[B[:, a]]
        count += new.astype(np.int64) - outside[:, a]
        outside[:, a] = new
    return tuple(cube)


def cover(D: np.ndarray, on: np.ndarray, *, sizes: Sequence[int],
          care: np.ndarray | None = None, ordered: Sequence[bool] | None = None,
          exact_primes: int = 14, max_points: int = 256, tick: Callable[[], None] | None = None) -> list[Cube]:
    """A short list of cubes that holds exactly on the on-set (where ``care``).

    Parameters
    ----------
    D : ndarray of shape (n_points, n_attributes) of int
        The domain's points; attribute ``a`` takes values ``0 .. sizes[a] - 1``.
    on : ndarray of shape (n_points,) of bool
        The function's value on each point.
    sizes : sequence of int
        Number of values of each attribute.
    care : ndarray of shape (n_points,) of bool, optional
        False marks don't-care points (a cube may cover them or not). Points of the full product
        missing from ``D`` are don't-cares too.
    ordered : sequence of bool, optional
        Attributes whose allowed values must stay an interval (cluster indices).
    exact_primes : int, default=14
        With at most this many primes the cover is a minimum one; else greedy.
    max_points : int, default=256
        With at most this many on-points every one is expanded; beyond, only those no prime
        found so far covers.
    tick : callable, optional
        Called once per expanded point (a budget check).

    Returns
    -------
    list of Cube
        Each cube is a tuple of frozensets of allowed values, one per attribute; sorted.

    Examples
    --------
    >>> D = np.array(list(itertools.product(range(2), range(3))))
    >>> on = (D[:, 0] == 1) | (D[:, 1] == 2)
    >>> [[sorted(s) for s in cube] for cube in cover(D, on, sizes=(2, 3))]
    [[[0, 1], [2]], [[1], [0, 1, 2]]]
    """
    D = np.asarray(D, dtype=np.int64)
    on = np.asarray(on, dtype=bool)
    care = np.ones(len(D), dtype=bool) if care is None else np.asarray(care, dtype=bool)
    ordered = [False] * D.shape[1] if ordered is None else list(ordered)
    target = on & care
    bad = ~on & care
    if not target.any():
        return []
    n_attr = D.shape[1]
    B = D[bad]
    forward = list(range(n_attr))
    orders = [forward[r:] + forward[:r] for r in range(n_attr)]
    orders += [o[::-1] for o in orders]
    primes: dict[Cube, np.ndarray] = {}
    covered = np.zeros(len(D), dtype=bool)
    every = int(target.sum()) <= max_points
    for i in np.flatnonzero(target):
        if covered[i] and not every:
            continue
        if tick is not None:
            tick()
        for order in orders:
            cube = _expand(D[i], B, sizes, ordered, order)
            if cube not in primes:
                primes[cube] = _holds(cube, D, sizes) & target
                covered |= primes[cube]
    keys = sorted(primes, key=lambda c: (_cost(c, sizes), _key(c)))
    return sorted(_choose(keys, primes, target, sizes, exact_primes), key=_key)


def _cost(cube: Cube, sizes: Sequence[int]) -> int:
    return sum(1 for a, s in enumerate(cube) if len(s) < sizes[a])


def _key(cube: Cube) -> tuple:
    return tuple(tuple(sorted(s)) for s in cube)


def _choose(keys: list[Cube], masks: dict[Cube, np.ndarray], target: np.ndarray,
            sizes: Sequence[int], exact_primes: int) -> list[Cube]:
    # Primes no other prime can replace come first (essential), then the rest.
    if len(keys) <= exact_primes:
        for r in range(1, len(keys) + 1):
            best = None
            for combo in itertools.combinations(keys, r):
                got = np.zeros(len(target), dtype=bool)
                for c in combo:
                    got |= masks[c]
                if np.array_equal(got, target):
                    cost = sum(_cost(c, sizes) for c in combo)
                    if best is None or cost < best[0]:
                        best = (cost, list(combo))
            if best is not None:
                return best[1]
    chosen: list[Cube] = []
    left = target.copy()
    while left.any():
        gain = [(int(np.sum(masks[c] & left)), -_cost(c, sizes)) for c in keys]
        j = max(range(len(keys)), key=lambda i: (gain[i], -i))
        chosen.append(keys[j])
        left &= ~masks[keys[j]]
    return chosen
