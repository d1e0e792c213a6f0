"""The bases of :class:`~nnrules.extract.additive.AdditiveExtractor`'s shape functions.

A term under construction (``_Block``): its axes, the design matrix of each axis, the
difference penalty and the map from fitted coefficients to the surrogate's piecewise
polynomials (:class:`~nnrules.surrogates.additive.Axis`). Cubic B-splines for continuous
features, steps for integers and codes, one value per category for one-hot groups; plus the
features' units and the extraction rows' density along an axis (for plots).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__: list[str] = []


@dataclass
class _Block:
    """A term under construction: its axes and, per axis, the basis and its local map.

    Pair terms are *pure* (mgcv's ``ti``): each axis's basis is restricted to coefficient
    vectors whose basis combination has mean 0 on the extraction rows (``nulls``), so a pair
    cannot take over what its features' main terms say.
    """

    axes: tuple                    # tuple[Axis, ...]
    designs: tuple                 # per axis: X -> (n, n_basis)
    locals_: tuple                 # per axis: (cells, n_basis, degree + 1)
    penalties: tuple               # per axis: (n_basis, n_basis) smoothness penalty
    unit: tuple[int, ...] = ()     # the units it reads (one for main terms, two for pairs)
    nulls: tuple = ()              # pairs, per axis: (n_basis, n_basis - 1) zero-mean basis

    @property
    def n_columns(self) -> int:
        """Columns of the design matrix (after the zero-mean restriction of pairs)."""
        if self.nulls:
            return int(np.prod([z.shape[1] for z in self.nulls]))
        return int(np.prod([a.shape[1] for a in self.locals_]))

    def constrain(self, X: np.ndarray) -> None:
        """Restrict every axis to zero-mean combinations on X (for pair terms)."""
        nulls = []
        for d in self.designs:
            mean = d(X).mean(axis=0)
            q, _ = np.linalg.qr(mean[:, None], mode="complete")
            nulls.append(q[:, 1:])
        self.nulls = tuple(nulls)

    def design(self, X: np.ndarray) -> np.ndarray:
        parts = [d(X) for d in self.designs]
        if self.nulls:
            parts = [p @ z for p, z in zip(parts, self.nulls)]
        if len(parts) == 1:
            return parts[0]
        a, b = parts
        return (a[:, :, None] * b[:, None, :]).reshape(X.shape[0], -1)

    def penalty(self) -> np.ndarray:
        pens = self.penalties
        if self.nulls:
            pens = tuple(z.T @ p @ z for p, z in zip(pens, self.nulls))
        if len(pens) == 1:
            return pens[0]
        p1, p2 = pens
        return np.kron(p1, np.eye(p2.shape[0])) + np.kron(np.eye(p1.shape[0]), p2)

    def coefficients(self, beta: np.ndarray) -> np.ndarray:
        """Basis weights (n_basis_total, k) -> the term's piecewise-polynomial coefficients."""
        k = beta.shape[1]
        if len(self.locals_) == 1:
            if self.nulls:
                beta = self.nulls[0] @ beta
            return np.einsum("jla,lk->kja", self.locals_[0], beta)
        a1, a2 = self.locals_
        if self.nulls:
            z1, z2 = self.nulls
            w = beta.T.reshape(k, z1.shape[1], z2.shape[1])
            w = np.einsum("lr,krs,ms->klm", z1, w, z2)
        else:
            w = beta.T.reshape(k, a1.shape[1], a2.shape[1])
        return np.einsum("ila,jmb,klm->kiajb", a1, a2, w)


def _difference_penalty(n: int, order: int) -> np.ndarray:
    order = min(order, n - 1)
    if order <= 0:
        return np.zeros((n, n))
    d = np.diff(np.eye(n), n=order, axis=0)
    return d.T @ d


def _spline_block(column: int, values: np.ndarray, n_knots: int, degree: int):
    from scipy.interpolate import BSpline, PPoly

    from nnrules.surrogates.additive import Axis

    breaks = np.unique(np.quantile(values, np.linspace(0.0, 1.0, n_knots)))
    t0, tm = breaks[0], breaks[-1]
    knots = np.r_[[t0] * degree, breaks, [tm] * degree]
    n_basis = knots.size - degree - 1
    local = np.zeros((breaks.size - 1, n_basis, degree + 1))
    for b in range(n_basis):
        pp = PPoly.from_spline((knots, np.eye(n_basis)[b], degree))
        keep = np.flatnonzero(np.diff(pp.x) > 0)
        local[:, b, :] = pp.c[::-1, keep].T

    def design(X, column=column, knots=knots, t0=t0, tm=tm):
        x = np.clip(X[:, column], t0, tm)
        return BSpline.design_matrix(x, knots, degree).toarray()

    axis = Axis("spline", (column,), tuple(breaks.tolist()), degree)
    return axis, design, local, _difference_penalty(n_basis, 2)


def _steps_block(column: int, values: np.ndarray, max_steps: int, integer: bool, order: int):
    from nnrules.surrogates.additive import Axis

    uniq = np.unique(values)
    if uniq.size <= max_steps:
        cuts = (uniq[:-1] + uniq[1:]) / 2.0
    else:
        q = np.quantile(values, np.linspace(0.0, 1.0, max_steps + 1)[1:-1])
        cuts = np.floor(q) + 0.5 if integer else q
        cuts = np.unique(cuts[(cuts > uniq[0]) & (cuts < uniq[-1])])
    m = cuts.size + 1

    def design(X, column=column, cuts=cuts, m=m):
        cell = np.searchsorted(cuts, X[:, column], side="left")
        return np.eye(m)[cell]

    local = np.eye(m)[:, :, None]
    axis = Axis("steps", (column,), tuple(cuts.tolist()), 0)
    return axis, design, local, _difference_penalty(m, order)


def _onehot_block(columns: tuple[int, ...]):
    from nnrules.surrogates.additive import Axis

    def design(X, columns=columns):
        return X[:, list(columns)].astype(np.float64)

    m = len(columns)
    return Axis("onehot", columns, (), 0), design, np.eye(m)[:, :, None], np.zeros((m, m))


def _units(schema) -> list[tuple[str, tuple[int, ...]]]:
    """Feature units in column order: (kind, columns); a one-hot group is one unit."""
    out, seen = [], set()
    groups = schema.groups
    for j, f in enumerate(schema.features):
        if j in seen:
            continue
        if f.kind == "onehot":
            cols = groups[f.group]
            seen.update(cols)
            out.append(("onehot", tuple(cols)))
        else:
            out.append((f.kind, (j,)))
    return out


def _unit_name(unit, schema, names) -> str:
    kind, cols = unit
    if kind == "onehot":
        return schema.features[cols[0]].group
    return names[cols[0]]


def _density(axis, X: np.ndarray, bins: int = 30) -> tuple[tuple, tuple]:
    """Histogram of the extraction rows along an axis: bin edges and counts (spline axes), or
    counts per cell."""
    if axis.kind == "spline":
        x = X[:, axis.columns[0]]
        counts, edges = np.histogram(x, bins=bins, range=(axis.edges[0], axis.edges[-1]))
        return tuple(float(e) for e in edges), tuple(int(c) for c in counts)
    cell, _, scale = axis.locate(X)
    counts = np.bincount(cell[scale > 0], minlength=axis.n_cells)
    return (), tuple(int(c) for c in counts)
