"""Discretising one hidden unit: 1-D clusters of its activations (Setiono & Liu, 1995).

Two ways to cluster the activations ``a`` of one unit over the training rows, both
deterministic:

* :func:`greedy_centres` — Setiono's greedy epsilon-clustering, made independent of row order:
  the sorted activations are swept once; a value joins the current cluster while it lies within
  ``eps`` of the cluster's first value, else it opens a new cluster. Centres are the means.
* :func:`kmeans_centres` — 1-D k-means (Lloyd's iterations from evenly spaced quantiles).

Either way a :class:`UnitClusters` assigns *any* activation to its nearest centre, so the
boundaries between clusters are the midpoints of adjacent centres, and cluster ``k`` of a unit
is the interval ``(boundary[k - 1], boundary[k]]`` of its activation. Because every supported
activation is monotone in the unit's pre-activation ``z``, that interval is also an interval of
``z`` (:func:`inverse_activation`), which is what lets inputs be rewritten as rules per cluster.

:func:`discretise_units` clusters every unit of a one-hidden-layer network in turn, coarse to
fine, within a tolerance on the network's predictions (``setiono``'s cluster stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["UnitClusters", "clusterings", "discretise_units", "greedy_centres",
           "inverse_activation", "kmeans_centres"]


@dataclass(frozen=True)
class UnitClusters:
    """The clusters of one hidden unit.

    Attributes
    ----------
    centres : tuple of float
        Sorted, distinct cluster centres (the activation each cluster stands for).
    eps : float or None
        The greedy clustering's epsilon (None for k-means).
    """

    centres: tuple[float, ...]
    eps: float | None = None

    @property
    def n_clusters(self) -> int:
        return len(self.centres)

    @property
    def boundaries(self) -> tuple[float, ...]:
        """Midpoints of adjacent centres: cluster ``k`` is ``(b[k-1], b[k]]``."""
        c = self.centres
        return tuple((c[k] + c[k + 1]) / 2.0 for k in range(len(c) - 1))

    def assign(self, a: np.ndarray) -> np.ndarray:
        """Cluster index (0 = lowest centre) of every activation in ``a``."""
        return np.searchsorted(np.asarray(self.boundaries), np.asarray(a, dtype=np.float64),
                               side="left").astype(np.int64)

    def discretise(self, a: np.ndarray) -> np.ndarray:
        """Every activation replaced by its cluster's centre."""
        return np.asarray(self.centres)[self.assign(a)]


def greedy_centres(a: np.ndarray, eps: float) -> tuple[float, ...]:
    """Setiono's greedy epsilon-clustering of one unit's activations.

    Parameters
    ----------
    a : ndarray of shape (n_samples,)
    eps : float
        A cluster spans at most ``eps`` (from its smallest member).

    Returns
    -------
    tuple of float
        Sorted cluster centres (the means of the members).

    Examples
    --------
    >>> greedy_centres(np.array([-0.98, -0.95, 0.02, 0.97, 0.99]), 0.2)
    (-0.965, 0.02, 0.98)
    """
    s = np.sort(np.asarray(a, dtype=np.float64))
    if len(s) == 0:
        return ()
    starts = [0]
    first = s[0]
    for i in range(1, len(s)):
        if s[i] - first > eps:
            starts.append(i)
            first = s[i]
    bounds = [*starts, len(s)]
    return tuple(round(float(np.mean(s[bounds[k]:bounds[k + 1]])), 12)
                 for k in range(len(starts)))


def kmeans_centres(a: np.ndarray, k: int, *, max_iter: int = 100) -> tuple[float, ...]:
    """1-D k-means of one unit's activations, started at evenly spaced quantiles.

    Returns the sorted distinct centres (fewer than ``k`` when the activations take fewer
    distinct values).
    """
    x = np.sort(np.asarray(a, dtype=np.float64))
    distinct = np.unique(x)
    if len(distinct) <= k:
        return tuple(float(v) for v in distinct)
    c = np.unique(np.quantile(x, (np.arange(k) + 0.5) / k))
    for _ in range(max_iter):
        idx = np.searchsorted((c[1:] + c[:-1]) / 2.0, x, side="left")
        new = np.array([x[idx == j].mean() if np.any(idx == j) else c[j] for j in range(len(c))])
        new = np.unique(new)
        if len(new) == len(c) and np.allclose(new, c, rtol=0, atol=1e-12):
            break
        c = new
    return tuple(round(float(v), 12) for v in c)


def clusterings(a: np.ndarray, how: str, max_clusters: int):
    """The distinct clusterings of one unit's activations ``a``, coarse to fine, with at most
    ``max_clusters`` clusters: k-means for k = 1, 2, ... (``how="kmeans"``), or greedy
    epsilon-clustering with ``eps`` from the activations' span, times 0.7 per step."""
    seen = set()
    if how == "kmeans":
        for k in range(1, max_clusters + 1):
            c = kmeans_centres(a, k)
            if c not in seen:
                seen.add(c)
                yield UnitClusters(c)
        return
    span = float(np.ptp(a)) if len(a) else 0.0
    eps = span
    while True:
        c = greedy_centres(a, eps)
        if len(c) > max_clusters:
            return
        if c not in seen:
            seen.add(c)
            yield UnitClusters(c, eps)
        if eps <= 1e-9 * max(span, 1.0):
            return
        eps *= 0.7


def inverse_activation(kind: str, value: float, alpha: float = 0.01) -> float:
    """The pre-activation ``z`` whose activation is ``value`` (activations are monotone).

    ``relu`` maps every ``z <= 0`` to 0, so the inverse of 0 is 0 (the largest such ``z``);
    values outside the activation's range map to -inf / +inf.
    """
    if kind == "tanh":
        if value <= -1.0:
            return -np.inf
        if value >= 1.0:
            return np.inf
        return float(np.arctanh(value))
    if kind == "sigmoid":
        if value <= 0.0:
            return -np.inf
        if value >= 1.0:
            return np.inf
        return float(np.log(value) - np.log1p(-value))
    if kind == "relu":
        return float(value) if value >= 0 else -np.inf
    if kind == "leaky_relu":
        return float(value) if value >= 0 else float(value) / alpha
    raise ValueError(f"unknown activation {kind!r}")


def discretise_units(net, X: np.ndarray, how: str, max_clusters: int, tolerance: float,
                     tick=None) -> tuple[list[int], float]:
    """Cluster each hidden unit of ``net`` (a ``OneLayerNet``, changed in place), coarse to
    fine, keeping per unit the first clustering whose centres, fed forward with the units
    before it already discretised, change at most ``tolerance`` of ``net``'s predictions on
    ``X``. A unit that no clustering of at most ``max_clusters`` brings within it keeps the
    one changing fewest (fewest clusters on ties), and the units after it may not add to
    that change.

    Returns
    -------
    (failed, change)
        The units that missed the tolerance, and the share of ``X`` whose prediction the
        discretised network changes.
    """
    reference = net.predict(X)
    H = net.hidden(X)
    allowed = int(np.floor(tolerance * len(X) + 1e-9))
    failed = []
    for j in range(net.n_hidden):
        if tick is not None:
            tick()
        tried = []
        for cand in clusterings(H[:, j], how, max_clusters):
            net.clusters[j] = cand
            changed = int(np.sum(net.predict_discrete(X) != reference))
            tried.append((changed, cand.n_clusters, cand))
            if changed <= allowed:
                break
        else:
            if tried:
                failed.append(j)
                changed, _, cand = min(tried, key=lambda t: (t[0], t[1]))
                net.clusters[j] = cand
                allowed = changed
    return failed, float(np.mean(net.predict_discrete(X) != reference))
