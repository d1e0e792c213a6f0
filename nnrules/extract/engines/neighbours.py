"""Queries between neighbouring real rows of a node (``sampler="neighbour"``).

``QuerySampler``'s ``"perturb"`` model copies a real row of the node and re-draws a few features
from their *data-wide* marginals. On data whose features depend strongly on each other (the 64
pixels of a digit image) a re-drawn pixel rarely fits the image around it, so many queries are
images no writer would make. This model instead draws a query on the segment between a real row
``a`` of the node and one of ``a``'s nearest neighbours ``b`` among the node's real rows
(SMOTE-like interpolation):

- a numeric or ordered discrete feature takes ``a + u (b - a)`` (``u`` uniform in [0, 1], one
  ``u`` per query), rounded to the domain for integer and discrete features;
- an unordered unit (binary, categorical, one-hot group) takes ``a``'s value with probability
  ``1 - u``, else ``b``'s.

"The node's real rows" are those that satisfy the whole path (failing that, those inside the
path's box; failing that, all rows), and neighbours are measured after scaling each column by its
spread, so no feature dominates the distance. A unit left outside the node's box is re-drawn
from the box-restricted marginal, and m-of-n constraints are repaired, as in ``QuerySampler``;
rows that still break the path are dropped.

Examples
--------
>>> import numpy as np
>>> from nnrules.schema import FeatureSchema
>>> X = np.arange(20.0).reshape(10, 2)
>>> schema = FeatureSchema.infer(X, ["a", "b"])
>>> Q = NeighbourSampler(schema, X, random_state=0).sample(4)
>>> bool(np.all((Q >= 0) & (Q <= 19)))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.extract.engines.sampling import QuerySampler, satisfies

__all__ = ["NEIGHBOURS", "NeighbourSampler"]

NEIGHBOURS = 5  # a query's partner row is one of its base row's NEIGHBOURS nearest
_MAX_POOL = 4000  # larger pools: neighbours searched among a seeded subsample this big
_MAX_CELLS = 2**21  # most entries of one block of differences (16 MB of float64)


class NeighbourSampler(QuerySampler):
    """Queries on segments between a node's real rows and their nearest neighbours.

    Parameters are those of ``QuerySampler`` (``method`` is ignored: this is the
    ``"neighbour"`` model), plus

    n_neighbours : int >= 1, default=NEIGHBOURS
        A base row's partner is drawn from its ``n_neighbours`` nearest real rows of the node.
    """

    def __init__(self, schema: Any, X: Any, *, n_neighbours: int = NEIGHBOURS, **kwargs: Any):
        kwargs.pop("method", None)
        super().__init__(schema, X, method="perturb", **kwargs)
        self.method = "neighbour"
        self.n_neighbours = int(n_neighbours)
        spread = np.std(self.X, axis=0)
        self._scale = np.where(spread > 0, spread, 1.0)

    def _pool(self, box: list[Any], constraints: Sequence[tuple[Any, bool]]) -> np.ndarray:
        for ok in (f() for f in (lambda: satisfies(constraints, self.X),
                                 lambda: self._in_box(self.X, box))):
            if np.any(ok):
                return self.X if ok.all() else self.X[ok]
        return self.X

    def _partners(self, pool: np.ndarray, base: np.ndarray) -> np.ndarray:
        """Index into ``pool`` of a random one of each base row's nearest other rows."""
        k = min(self.n_neighbours, pool.shape[0] - 1)
        if k < 1:
            return base
        rng = self.rng
        cand = np.arange(pool.shape[0])
        if pool.shape[0] > _MAX_POOL:
            cand = np.sort(rng.choice(pool.shape[0], _MAX_POOL, replace=False))
        P = pool[cand] / self._scale
        out = np.empty(base.size, dtype=np.int64)
        for s in range(0, base.size, 512):  # distances in blocks: memory stays small
            b = base[s:s + 512]
            A = pool[b] / self._scale
            d = np.empty((b.size, P.shape[0]))
            rows = max(1, _MAX_CELLS // (P.shape[0] * P.shape[1]))  # (rows, n, d) stays small
            for t in range(0, b.size, rows):
                d[t:t + rows] = ((A[t:t + rows, None, :] - P[None, :, :]) ** 2).sum(axis=2)
            d[cand[None, :] == b[:, None]] = np.inf  # not the row itself
            near = np.argsort(d, axis=1, kind="stable")[:, :k]
            out[s:s + 512] = cand[near[np.arange(b.size), rng.integers(0, k, size=b.size)]]
        return out

    def _draw(self, n: int, box: list[Any], constraints: list[tuple[Any, bool]]) -> np.ndarray:
        rng = self.rng
        pool = self._pool(box, constraints)
        base = rng.integers(0, pool.shape[0], size=n)
        A, B = pool[base], pool[self._partners(pool, base)]
        u = rng.random(n)
        Q = A.copy()
        for k, unit in enumerate(self.units):
            if unit.kind == "numeric" or self.schema.features[unit.columns[0]].kind == "integer":
                col = unit.columns[0]
                x = A[:, col] + u * (B[:, col] - A[:, col])
                if unit.kind == "discrete":  # nearest domain value
                    pos = np.clip(np.searchsorted(unit.values, x), 1, unit.values.size - 1)
                    lo, hi = unit.values[pos - 1], unit.values[pos]
                    x = np.where(x - lo <= hi - x, lo, hi)
                elif unit.integer:
                    x = np.round(x)
                Q[:, col] = x
            else:  # unordered: a's value or b's
                take = rng.random(n) < u
                cols = list(unit.columns)
                Q[np.ix_(take, cols)] = B[np.ix_(take, cols)]
            rows = np.flatnonzero(~self._inside(k, box[k], Q))
            if rows.size:
                self._write(Q, rows, k, self._draw_unit(k, box[k], rows.size))
        return Q
