"""Regions of an additive model: where its decision is one class, found by exact score bounds.

An :class:`~nnrules.surrogates.additive.AdditiveSurrogate` decides by the sign (one logit) or
the largest (one score per class) of a sum of piecewise polynomials. Its regions are taken as
**piecewise-constant decision regions**: one region per class, the set of inputs it gives that
class. Over a box, each term's range is bounded soundly — exactly for one-feature terms (the
polynomial of every cell the box meets, at the cell ends and the roots of its derivative), by
interval arithmetic for pair terms — and summed:

* every margin ``score_c - score_j`` bounded above zero: the class-c region holds **all** of
  the box;
* some margin bounded below zero: **none** of it;
* otherwise **some**: the box is cut at a breakpoint of the term with the widest undecided
  range (the model's own thresholds), or at its middle when no breakpoint lies inside.

A box that is still undecided at the minimum width is handed to the verifier as a whole (a
proof for the box covers the class's part of it) and its volume is shared out by sampling.
"""

from __future__ import annotations

import numpy as np

from nnrules.certification.regions import ALL, NONE, SOME, Region
from nnrules.surrogates.rules import Condition

__all__ = ["AdditiveRegions"]


def _horner(C: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise ``sum_a C[:, a] u^a``."""
    out = np.zeros_like(u)
    for a in range(C.shape[1] - 1, -1, -1):
        out = out * u + C[:, a]
    return out


def _poly_ranges(C: np.ndarray, u0: np.ndarray, u1: np.ndarray) -> tuple[float, float]:
    """Exact range of the polynomials ``C[k]`` (degree <= 3) on ``[u0[k], u1[k]]``, joined:
    the values at the ends and at the stationary points inside."""
    vals = [_horner(C, u0), _horner(C, u1)]
    deg = C.shape[1] - 1
    if deg >= 2:
        c1, c2 = C[:, 1], C[:, 2]
        c3 = C[:, 3] if deg >= 3 else np.zeros_like(c1)
        if deg > 3:  # not made by AdditiveExtractor; sound fallback by interval arithmetic
            lo_, hi_ = _interval_poly(C, u0, u1)
            return float(lo_.min()), float(hi_.max())
        a, b, c = 3 * c3, 2 * c2, c1  # derivative a u^2 + b u + c
        with np.errstate(divide="ignore", invalid="ignore"):
            disc = np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))
            quad = np.abs(a) > 1e-300
            r1 = np.where(quad, (-b + disc) / (2 * a), np.where(b != 0, -c / b, u0))
            r2 = np.where(quad, (-b - disc) / (2 * a), r1)
            real = ~quad | (b * b - 4 * a * c >= 0)
        for r in (r1, r2):
            ok = real & (r > u0) & (r < u1) & np.isfinite(r)
            vals.append(np.where(ok, _horner(C, np.where(ok, r, u0)), vals[0]))
    V = np.concatenate(vals)
    return float(V.min()), float(V.max())


def _interval_poly(C, u0, u1):
    lo = np.zeros_like(u0)
    hi = np.zeros_like(u0)
    for a in range(C.shape[1]):
        p_lo, p_hi = np.vectorize(_pow_range)(u0, u1, a)
        lo += np.minimum(C[:, a] * p_lo, C[:, a] * p_hi)
        hi += np.maximum(C[:, a] * p_lo, C[:, a] * p_hi)
    return lo, hi


def _pow_range(u0: float, u1: float, a: int) -> tuple[float, float]:
    vals = [u0 ** a, u1 ** a]
    if a % 2 == 0 and u0 < 0 < u1:
        vals.append(0.0)
    return min(vals), max(vals)


class AdditiveRegions:
    """Regions of an additive classifier; the interface of :class:`RuleRegions`."""

    kind = "additive"

    def __init__(self, surrogate, classes) -> None:
        self.s = surrogate
        k = len(surrogate.classes)
        self.k = k
        self.regions = [Region(f"class {c}", f"the additive model answers {c}",
                               classes[i]) for i, c in enumerate(surrogate.classes)]
        cuts: dict[int, set] = {}
        for t in surrogate.terms:
            for ax in t.axes:
                if ax.kind in ("spline", "steps"):
                    cuts.setdefault(ax.columns[0], set()).update(ax.edges)
        self.thresholds = {j: np.array(sorted(v)) for j, v in cuts.items()}
        # Per region r: the linear forms over outputs whose signs decide it.
        if surrogate.output == "logit":
            self.forms = [np.array([[-1.0]]), np.array([[1.0]])]
            self.strict = [False, True]  # class 1 needs f > 0; class 0 needs f <= 0
        else:
            eye = np.eye(k)
            self.forms = [np.array([eye[c] - eye[j] for j in range(k) if j != c])
                          for c in range(k)]
            self.strict = [True] * k

    def region_of(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.s.predict_index(np.asarray(X, dtype=np.float64)), dtype=np.int64)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.s.predict(np.asarray(X, dtype=np.float64))

    def start(self, r: int, lower: np.ndarray, upper: np.ndarray):
        return lower.copy(), upper.copy(), np.zeros(lower.size, dtype=bool)

    # -- bounds ------------------------------------------------------------------------------
    def _axis_cells(self, ax, lo, hi, op):
        """Cells the box meets along one axis, with the local-variable range in each."""
        if ax.kind == "onehot":
            cols = np.array(ax.columns)
            allowed = np.flatnonzero(hi[cols] >= 1)
            forced = np.flatnonzero(lo[cols] >= 1)
            cells = forced if forced.size else allowed
            return [(int(c), 0.0, 0.0) for c in cells]
        j = ax.columns[0]
        a, b = float(lo[j]), float(hi[j])
        e = np.asarray(ax.edges)
        if ax.kind == "steps":
            i0 = int(np.searchsorted(e, a, side="right" if op[j] else "left"))
            i1 = int(np.searchsorted(e, b, side="left"))
            return [(i, 0.0, 0.0) for i in range(i0, max(i0, i1) + 1)]
        a, b = float(np.clip(a, e[0], e[-1])), float(np.clip(b, e[0], e[-1]))
        i0 = int(np.searchsorted(e[1:-1], a, side="left"))
        i1 = int(np.searchsorted(e[1:-1], b, side="left"))
        return [(i, max(a, e[i]) - e[i], min(b, e[i + 1]) - e[i]) for i in range(i0, i1 + 1)]

    def _term_range(self, term, form, lo, hi, op) -> tuple[float, float]:
        coef = np.tensordot(form, term.coef, axes=(0, 0))  # (cells1, p1[, cells2, p2])
        cells = [self._axis_cells(ax, lo, hi, op) for ax in term.axes]
        low, high = np.inf, -np.inf
        if len(term.axes) == 1:
            cell = np.array(cells[0], dtype=np.float64).reshape(-1, 3)
            return _poly_ranges(coef[cell[:, 0].astype(np.int64)], cell[:, 1], cell[:, 2])
        p1, p2 = term.axes[0].degree + 1, term.axes[1].degree + 1
        for i, u0, u1 in cells[0]:
            r1 = [_pow_range(u0, u1, a) for a in range(p1)]
            for j, v0, v1 in cells[1]:
                r2 = [_pow_range(v0, v1, b) for b in range(p2)]
                tot_lo = tot_hi = 0.0
                for a in range(p1):
                    for b in range(p2):
                        c = coef[i, a, j, b]
                        prods = [x * y for x in r1[a] for y in r2[b]]
                        tot_lo += min(c * min(prods), c * max(prods))
                        tot_hi += max(c * min(prods), c * max(prods))
                low, high = min(low, tot_lo), max(high, tot_hi)
        return low, high

    def owner(self, r: int, lo, hi, op, discrete):
        forms = self.forms[r]
        low = forms @ self.s.intercept
        high = low.copy()
        spans = []
        for t in self.s.terms:
            t_lo = np.empty(len(forms))
            t_hi = np.empty(len(forms))
            for m, f in enumerate(forms):
                t_lo[m], t_hi[m] = self._term_range(t, f, lo, hi, op)
            low += t_lo
            high += t_hi
            spans.append(t_hi - t_lo)
        if self.strict[r]:
            if np.all(low > 0):
                return ALL, None
            if np.any(high <= 0):
                return NONE, None
        else:  # every form must be >= 0 (f <= 0 for class 0 of one logit)
            if np.all(low >= 0):
                return ALL, None
            if np.any(high < 0):
                return NONE, None
        undecided = (low <= 0) & (high > 0)
        return SOME, self._cut(spans, undecided, lo, hi, discrete)

    def _cut(self, spans, undecided, lo, hi, discrete):
        """A breakpoint inside the box of the term with the widest undecided range."""
        order = np.argsort([-float(s[undecided].sum()) for s in spans], kind="stable")
        for ti in order:
            for ax in self.s.terms[ti].axes:
                if ax.kind == "onehot":
                    cols = [c for c in ax.columns if lo[c] < 1 <= hi[c]]
                    if len(cols) > 1:
                        return Condition(cols[0], "<=", 0.5)
                    continue
                j = ax.columns[0]
                e = np.asarray(ax.edges)
                inside = e[(e > lo[j]) & (e < hi[j])]
                if discrete[j]:
                    inside = inside[np.floor(inside) >= lo[j]]
                    inside = inside[np.floor(inside) < hi[j]]
                if inside.size:
                    mid = (lo[j] + hi[j]) / 2.0
                    return Condition(j, "<=", float(inside[np.argmin(np.abs(inside - mid))]))
        return None  # the search splits at the middle (or gives up at the minimum width)
