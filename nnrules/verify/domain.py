"""Boxes in schema space: valid points, splits, merges, tree leaves (used by ``via``; the
verification domain of any surrogate's regions).

A box is a pair of float64 arrays ``lo``, ``hi`` of shape (d,) (or stacked (n, d)). Feature
kinds shape what a box means:

- continuous: the closed interval ``[lo, hi]``;
- integer / binary / categorical codes: the whole numbers in ``[lo, hi]`` (bounds kept whole);
- one-hot group: each column is ``[0, 0]`` (category excluded), ``[0, 1]`` (allowed) or
  ``[1, 1]`` (the only allowed one). The box holds the valid rows whose hot column is allowed;
  the bound engine sees the relaxation ``[0, 1]`` per column, a superset, so proofs stay sound.
"""

from __future__ import annotations

import math

import numpy as np

from nnrules.schema import FeatureSchema

__all__ = ["Domain"]

_DISCRETE = ("integer", "binary", "categorical")


class Domain:
    """Schema-space helpers: the bounding box, units (features or one-hot groups), projection.

    Parameters
    ----------
    schema : FeatureSchema
        Observed bounds give the domain; unbounded features are refused upstream.
    """

    def __init__(self, schema: FeatureSchema) -> None:
        self.schema = schema
        feats = schema.features
        self.d = len(feats)
        self.lower = np.array([f.lower for f in feats], dtype=np.float64)
        self.upper = np.array([f.upper for f in feats], dtype=np.float64)
        self.discrete = np.array([f.kind in _DISCRETE for f in feats])
        self.lower[self.discrete] = np.ceil(self.lower[self.discrete])
        self.upper[self.discrete] = np.floor(self.upper[self.discrete])
        onehot = [i for i, f in enumerate(feats) if f.kind == "onehot"]
        self.lower[onehot], self.upper[onehot] = 0.0, 1.0
        self.groups = [np.array(idx) for idx in schema.groups.values()]
        self.group_of = np.full(self.d, -1)
        for g, idx in enumerate(self.groups):
            self.group_of[idx] = g
        # Units: split/merge atoms. ("feature", j) or ("group", g).
        self.units: list[tuple[str, int]] = []
        for j in range(self.d):
            g = self.group_of[j]
            if g < 0:
                self.units.append(("feature", j))
            elif j == self.groups[g][0]:
                self.units.append(("group", int(g)))
        self.range = np.where(self.upper > self.lower, self.upper - self.lower, 1.0)

    # -- validity --------------------------------------------------------------------------
    def normalise(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Clip to the domain, make discrete bounds whole and one-hot columns canonical.

        Returns (lo, hi, non_empty).
        """
        lo = np.maximum(np.asarray(lo, dtype=np.float64), self.lower)
        hi = np.minimum(np.asarray(hi, dtype=np.float64), self.upper)
        lo[self.discrete] = np.ceil(lo[self.discrete] - 1e-9)
        hi[self.discrete] = np.floor(hi[self.discrete] + 1e-9)
        ok = bool(np.all(lo <= hi))
        for idx in self.groups:
            forced = idx[lo[idx] >= 1]
            allowed = idx[hi[idx] >= 1] if forced.size == 0 else forced
            if allowed.size == 0 or forced.size > 1:
                ok = False
                continue
            lo[idx], hi[idx] = 0.0, 0.0
            hi[allowed] = 1.0
            if allowed.size == 1:
                lo[allowed] = 1.0
        return lo, hi, ok

    def project(self, P: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Nearest valid rows of their boxes: points (N, d) with per-point bounds (N, d)."""
        P = np.clip(P, lo, hi)
        P[:, self.discrete] = np.clip(np.round(P[:, self.discrete]), lo[:, self.discrete],
                                      hi[:, self.discrete])
        for idx in self.groups:
            scores = np.where(hi[:, idx] >= 1, P[:, idx], -np.inf)
            hot = scores.argmax(axis=1)
            P[:, idx] = 0.0
            P[np.arange(len(P)), idx[hot]] = 1.0
        return P

    def centre(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """A valid row near the middle of each box, shape (n, d)."""
        lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
        return self.project((lo + hi) / 2.0, lo, hi)

    def contains(self, X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Boolean (n_rows,) : rows of X inside the single box."""
        return np.all((X >= lo) & (X <= hi), axis=1)

    def count_points(self, lo: np.ndarray, hi: np.ndarray) -> float:
        """Volume fraction of one box (continuous length, whole values, categories)."""
        frac = 1.0
        for kind, k in self.units:
            if kind == "group":
                idx = self.groups[k]
                frac *= float(np.sum(hi[idx] >= 1)) / len(idx)
            elif self.discrete[k]:
                frac *= (hi[k] - lo[k] + 1) / (self.upper[k] - self.lower[k] + 1)
            elif self.upper[k] > self.lower[k]:
                frac *= (hi[k] - lo[k]) / (self.upper[k] - self.lower[k])
        return frac

    # -- splitting ---------------------------------------------------------------------------
    def unit_scores(self, lo: np.ndarray, hi: np.ndarray, influence: np.ndarray) -> np.ndarray:
        """How promising a split of each unit is: influence x width, 0 if unsplittable."""
        scores = np.zeros(len(self.units))
        for u, (kind, k) in enumerate(self.units):
            if kind == "group":
                idx = self.groups[k]
                allowed = idx[hi[idx] >= 1]
                if allowed.size > 1:
                    scores[u] = float(np.sum(influence[allowed])) + 1e-12
            else:
                width = hi[k] - lo[k]
                splittable = width >= 1 if self.discrete[k] else width > 1e-6 * self.range[k]
                if splittable:
                    scores[u] = influence[k] * width + 1e-12 * width / self.range[k]
        return scores

    def split(self, lo: np.ndarray, hi: np.ndarray, unit: int):
        """Two halves of the box along ``unit`` (group: halves of the allowed categories)."""
        kind, k = self.units[unit]
        a_lo, a_hi, b_lo, b_hi = lo.copy(), hi.copy(), lo.copy(), hi.copy()
        if kind == "group":
            idx = self.groups[k]
            allowed = idx[hi[idx] >= 1]
            half = len(allowed) // 2
            a_hi[allowed[half:]] = 0.0
            b_hi[allowed[:half]] = 0.0
        elif self.discrete[k]:
            mid = math.floor((lo[k] + hi[k]) / 2.0)
            a_hi[k], b_lo[k] = mid, mid + 1
        else:
            mid = (lo[k] + hi[k]) / 2.0
            a_hi[k], b_lo[k] = mid, mid
        first = self.normalise(a_lo, a_hi)
        second = self.normalise(b_lo, b_hi)
        return [(x, y) for x, y, ok in (first, second) if ok]

    # -- merging -----------------------------------------------------------------------------
    def _unit_cols(self, unit: int) -> np.ndarray:
        kind, k = self.units[unit]
        return self.groups[k] if kind == "group" else np.array([k])

    def merge(self, lo: np.ndarray, hi: np.ndarray, labels: np.ndarray):
        """Merge boxes of the same label that differ in one unit and touch there.

        The union of two such boxes is exactly the merged box, so merging never needs a new
        proof. Repeats until nothing merges. Returns (lo, hi, labels), order by first member.
        """
        lo, hi, labels = lo.copy(), hi.copy(), np.asarray(labels).copy()
        changed = True
        while changed and len(lo) > 1:
            changed = False
            alive = np.ones(len(lo), dtype=bool)
            for a in range(len(lo)):
                if not alive[a]:
                    continue
                same = alive & (labels == labels[a])
                same[a] = False
                cand = np.flatnonzero(same)
                if cand.size == 0:
                    continue
                diff = (lo[cand] != lo[a]) | (hi[cand] != hi[a])  # (c, d)
                for unit in range(len(self.units)):
                    cols = self._unit_cols(unit)
                    other = np.ones(self.d, dtype=bool)
                    other[cols] = False
                    ok = ~diff[:, other].any(axis=1)
                    if not ok.any():
                        continue
                    kind, k = self.units[unit]
                    if kind == "feature":
                        gap = 1.0 if self.discrete[k] else 0.0
                        touch = (lo[cand, k] <= hi[a, k] + gap) & (lo[a, k] <= hi[cand, k] + gap)
                        ok &= touch
                    hits = cand[ok]
                    if hits.size == 0:
                        continue
                    b = int(hits[0])
                    new_lo, new_hi = np.minimum(lo[a], lo[b]), np.maximum(hi[a], hi[b])
                    if kind == "group":
                        new_lo, new_hi, _ = self.normalise(new_lo, new_hi)
                    lo[a], hi[a] = new_lo, new_hi
                    alive[b] = False
                    changed = True
                    break
            lo, hi, labels = lo[alive], hi[alive], labels[alive]
        return lo, hi, labels


def tree_leaf_boxes(tree, domain: Domain | None, d: int):
    """Leaves of a fitted scikit-learn tree as boxes.

    Returns (leaf_ids, open_lo, hi): half-open ``open_lo < x <= hi`` boxes with ±inf, in the
    order of ``tree_.apply``'s leaf ids. ``x <= threshold`` goes left, as in scikit-learn.
    """
    t = tree.tree_
    lo = np.full((t.node_count, d), -np.inf)
    hi = np.full((t.node_count, d), np.inf)
    leaves = []
    stack = [0]
    while stack:
        node = stack.pop()
        left, right = t.children_left[node], t.children_right[node]
        if left < 0:
            leaves.append(node)
            continue
        f, thr = t.feature[node], t.threshold[node]
        lo[left], hi[left] = lo[node], hi[node].copy()
        hi[left, f] = min(hi[node, f], thr)
        lo[right], hi[right] = lo[node].copy(), hi[node]
        lo[right, f] = max(lo[node, f], thr)
        stack += [right, left]
    leaves = np.array(sorted(leaves))
    return leaves, lo[leaves], hi[leaves]


def closed_box(domain: Domain, open_lo: np.ndarray, hi: np.ndarray):
    """The closed, normalised box of the valid rows in ``open_lo < x <= hi``."""
    lo = open_lo.copy()
    disc = domain.discrete
    # x > t for whole numbers means x >= floor(t) + 1.
    lo[disc] = np.where(np.isfinite(lo[disc]), np.floor(lo[disc]) + 1, lo[disc])
    for idx in domain.groups:
        lo[idx] = np.where(np.isfinite(lo[idx]) & (lo[idx] >= 0), 1.0, lo[idx])
        hi[idx] = np.where(hi[idx] < 1, 0.0, hi[idx])
    return domain.normalise(lo, hi.copy())
