"""One tree per hidden unit, answering every threshold term on that unit, and bounded products.

Term-wise substitution (DeepRED) replaces a term ``h_k[j] > t`` by the clauses on level k-1
that predict it. Zilke et al. learn one tree per term; on wide layers the trees of the upper
levels name hundreds of distinct thresholds per layer (every product of clauses brings new
ones), and one tree each is what made DeepRED slow. Here each *unit* gets one tree, learned the
first time any of its terms is asked for: a regression tree on the unit's value (its rank among
the training rows, so that ReLU's zeros and long tails do not dominate the squared error). Its
leaves partition level k-1; the term ``h_k[j] > t`` holds on the leaves where most of the
training rows have ``h_k[j] > t`` and fails on the others. Every term on a unit is answered from
the same partition, so a layer costs at most one tree per unit, whatever the thresholds. With
``max_columns`` a unit's tree tests only the columns of the layer below most correlated with it.

The conditions of a clause on one unit (``h[j] > a and h[j] <= b``) become one factor: the
leaves where all of them hold, merged into the largest subtrees whose leaves all agree (one
clause per subtree, its path), so a factor has as few clauses as the tree allows.

:func:`unit_product` multiplies the factors of a clause *through the training rows*: each row
lies in at most one clause of every factor, so the products that cover any row are exactly the
distinct tuples of clause ids among the rows where every factor holds — counted in one pass,
never enumerated. The best supported ``beam`` of them are kept. Products that cover no training
row are never made; for the exact composition (``min_support=0``) :meth:`UnitTree.factor`
gives the factor's clauses to :func:`~nnrules.extract.decompose.substitute.conjoin` instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.tree import DecisionTreeRegressor

from nnrules.extract.decompose.binning import Binned, bin_columns
from nnrules.extract.decompose.terms import Clause
from nnrules.surrogates.rules import Condition, simplify_conditions

__all__ = ["UnitTree", "UnitTrees", "unit_product"]


@dataclass
class UnitTree:
    """The partition of level k-1 learned for one unit of level k.

    Attributes
    ----------
    left, right : ndarray of int
        Children of every node (-1 at a leaf); node 0 is the root.
    paths : list of tuple of Condition
        Every node's path from the root (on level k-1), unsimplified.
    leaf_of : ndarray of int
        The leaf (node id) of every training row.
    values : dict of int to ndarray
        Per leaf, the unit's values on its training rows, sorted.
    schema : FeatureSchema or None
        On the input level, for simplifying paths with one-hot groups.
    """

    left: np.ndarray
    right: np.ndarray
    paths: list[Clause]
    leaf_of: np.ndarray
    values: dict[int, np.ndarray]
    schema: Any = None
    everyone: np.ndarray | None = None
    _factors: dict = field(default_factory=dict)

    @property
    def leaves(self) -> list[int]:
        return sorted(self.values)

    def share_above(self, leaf: int, threshold: float) -> float:
        """Fraction of the leaf's training rows whose unit value exceeds ``threshold``."""
        v = self.values[leaf]
        return (len(v) - int(np.searchsorted(v, threshold, side="right"))) / len(v)

    def cut(self, threshold: float) -> float:
        """The share of a leaf's rows above ``threshold`` past which the leaf stands for
        ``value > threshold``: one half (majority), or with ``everyone`` set (the unit's values
        on all training rows, sorted) the share among all rows (the leaf is richer in the term
        than the data: rare terms and narrow bands keep the leaves where they concentrate)."""
        if self.everyone is None:
            return 0.5
        v = self.everyone
        return (len(v) - int(np.searchsorted(v, threshold, side="right"))) / len(v)

    def positive(self, leaf: int, threshold: float) -> bool:
        """Whether the leaf stands for ``value > threshold`` (else for ``value <= threshold``)."""
        return self.share_above(leaf, threshold) > self.cut(threshold)

    def holds(self, leaf: int, conditions: Sequence[Condition]) -> bool:
        """Whether the leaf stands for every condition (``>`` / ``<=`` on this unit)."""
        return all(self.positive(leaf, c.value) == (c.op == ">") for c in conditions)

    def factor(self, conditions: Sequence[Condition]) -> tuple[list[Clause], np.ndarray]:
        """The conditions' factor: clauses of the largest subtrees whose leaves all satisfy
        them (simplified paths), and each training row's clause id (-1: the factor fails)."""
        key = tuple(sorted(conditions))
        if key in self._factors:
            return self._factors[key]
        n_nodes = len(self.left)
        ok = np.zeros(n_nodes, dtype=bool)
        # Post-order: a node is uniformly true when it is a true leaf or both children are.
        order: list[int] = []
        stack = [0]
        while stack:
            node = stack.pop()
            order.append(node)
            if self.left[node] != -1:
                stack += [int(self.left[node]), int(self.right[node])]
        for node in reversed(order):
            if self.left[node] == -1:
                ok[node] = node in self.values and self.holds(node, conditions)
            else:
                ok[node] = ok[self.left[node]] and ok[self.right[node]]
        node_map = np.full(n_nodes, -1, dtype=np.int32)
        clauses: list[Clause] = []
        stack = [0]
        while stack:  # pre-order: the first uniformly true node on a path is a clause
            node = stack.pop()
            if ok[node]:
                clause = simplify_conditions(self.paths[node], schema=self.schema)
                if clause is not None:
                    below = [node]
                    while below:
                        n = below.pop()
                        node_map[n] = len(clauses)
                        if self.left[n] != -1:
                            below += [int(self.left[n]), int(self.right[n])]
                    clauses.append(tuple(clause))
            elif self.left[node] != -1:
                stack += [int(self.right[node]), int(self.left[node])]
        result = (clauses, node_map[self.leaf_of].astype(np.int32))
        self._factors[key] = result
        return result


class UnitTrees:
    """Lazily learned :class:`UnitTree` per (level, unit).

    Parameters
    ----------
    levels : list of ndarray
        ``[X, H_1, ..., H_K]`` on the training rows.
    rows : ndarray of int or None
        The rows every tree learns from (a seeded sample), None for all.
    min_samples_leaf : int
        Fewest learning rows per leaf.
    max_leaves : int or None
        Most leaves per tree.
    max_depth : int or None
    columns : ndarray of int or None
        On the input level, the only columns a tree may test (RxREN).
    schema : FeatureSchema or None
        On the input level, for simplifying paths with one-hot groups.
    seed : int
        Tie-breaking seed of every tree.
    lift : bool, default=False
        A leaf stands for ``value > t`` when its share of rows above ``t`` exceeds the share
        among all rows (else: when it exceeds one half).
    n_bins : int or None, default=None
        Learn from quantile-bin codes of the level below (thresholds mapped back).
    max_columns : int or None, default=None
        Most columns of the level below a unit's tree may test (the most correlated).
    """

    def __init__(self, levels: list[np.ndarray], rows: np.ndarray | None, *,
                 min_samples_leaf: int, max_leaves: int | None, max_depth: int | None,
                 columns: np.ndarray | None, schema: Any, seed: int,
                 lift: bool = False, n_bins: int | None = None,
                 max_columns: int | None = None) -> None:
        self.levels = levels
        self.max_columns = max_columns
        self._corr: dict[int, np.ndarray] = {}
        self.lift = lift
        self.n_bins = n_bins
        self._binned: dict[int, Binned] = {}
        self.rows = rows
        self.min_samples_leaf = min_samples_leaf
        self.max_leaves = max_leaves
        self.max_depth = max_depth
        self.columns = columns
        self.schema = schema
        self.seed = seed
        self.trees: dict[tuple[int, int], UnitTree] = {}

    def has(self, level: int, unit: int) -> bool:
        return (level, unit) in self.trees

    def tree(self, level: int, unit: int) -> UnitTree:
        """The tree of a unit of ``level`` (learned now if it is the unit's first term)."""
        key = (level, unit)
        if key not in self.trees:
            self.trees[key] = self._learn(level, unit)
        return self.trees[key]

    def _codes(self, level: int) -> Binned | None:
        """``level`` coded by quantile bins (once), or None when ``n_bins`` is None."""
        if self.n_bins is None:
            return None
        if level not in self._binned:
            self._binned[level] = bin_columns(self.levels[level], self.n_bins)
        return self._binned[level]

    def _strongest(self, level: int, unit: int, cols: np.ndarray) -> np.ndarray:
        """The ``max_columns`` columns of level-1 most correlated (in absolute value) with the
        unit, in column order: a hidden unit reads the layer below through one weighted sum,
        so a few columns carry most of it, and the tree on them costs a fraction."""
        if self.max_columns is None or len(cols) <= self.max_columns:
            return cols
        if level not in self._corr:
            A = self.levels[level - 1][:, cols]
            H = self.levels[level]
            A = (A - A.mean(axis=0)) / np.maximum(A.std(axis=0), 1e-12)
            Hs = (H - H.mean(axis=0)) / np.maximum(H.std(axis=0), 1e-12)
            self._corr[level] = np.abs(A.T @ Hs) / len(A)  # (len(cols), n_units)
        strength = self._corr[level][:, unit]
        top = np.argsort(-strength, kind="stable")[: self.max_columns]
        return np.sort(cols[top])

    def _learn(self, level: int, unit: int) -> UnitTree:
        below = level - 1
        A = self.levels[below]
        binned = self._codes(below)
        value = self.levels[level][:, unit]
        cols = (np.arange(A.shape[1]) if below != 0 or self.columns is None
                else np.asarray(self.columns, dtype=np.int64))
        cols = self._strongest(level, unit, cols)
        fit_rows = np.arange(len(A)) if self.rows is None else self.rows
        v = value[fit_rows]
        schema = self.schema if below == 0 else None
        no_split = np.array([-1])
        if len(cols) == 0 or np.all(v == v[0]):
            return UnitTree(no_split, no_split, [()], np.zeros(len(A), dtype=np.int32),
                            {0: np.sort(value)}, schema,
                            np.sort(value) if self.lift else None)
        # Rank of each learning row's value (ties share their mean rank), scaled to [0, 1].
        order = np.argsort(v, kind="stable")
        ranks = np.empty(len(v))
        ranks[order] = np.arange(len(v))
        _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
        target = (np.bincount(inverse, weights=ranks) / counts)[inverse] / max(1, len(v) - 1)
        cart = DecisionTreeRegressor(min_samples_leaf=self.min_samples_leaf,
                                     max_leaf_nodes=self.max_leaves, max_depth=self.max_depth,
                                     random_state=self.seed)
        fit_on = A if binned is None else binned.codes
        cart.fit(fit_on[fit_rows][:, cols], target)
        t = cart.tree_
        leaf_of = cart.apply(fit_on[:, cols]).astype(np.int32)
        left, right = t.children_left.astype(np.int64), t.children_right.astype(np.int64)
        paths: list[Clause] = [()] * len(left)
        for node in range(len(left)):  # parents come before children in sklearn's arrays
            if left[node] != -1:
                cond = (int(cols[t.feature[node]]), float(t.threshold[node]))
                if binned is not None:
                    cond = (cond[0], binned.threshold(cond[0], cond[1]))
                paths[left[node]] = (*paths[node], Condition(cond[0], "<=", cond[1]))
                paths[right[node]] = (*paths[node], Condition(cond[0], ">", cond[1]))
        values = {}
        for node in np.unique(leaf_of):
            values[int(node)] = np.sort(value[leaf_of == node])
        return UnitTree(left, right, paths, leaf_of, values, schema,
                        np.sort(value) if self.lift else None)


def unit_product(factors: Sequence[tuple[list[Clause], np.ndarray]], n_rows: int, *,
                 min_support: int, beam: int,
                 schema: Any = None) -> list[tuple[Clause, np.ndarray]]:
    """The supported products of ``factors`` (see module docstring), best supported first.

    Parameters
    ----------
    factors : sequence of (clauses, row ids)
        From :meth:`UnitTree.factor`, one per unit of the clause being rewritten.
    n_rows : int
    min_support : int
        Fewest training rows a product must cover (at least 1 here).
    beam : int
        Most products kept.
    schema : FeatureSchema, optional
        For the input level (one-hot groups in the merged clause).

    Returns
    -------
    list of (clause, mask)
        Ties in support broken by the clauses' ids, so the result is deterministic.
    """
    if not factors:
        return [((), np.ones(n_rows, dtype=bool))]
    live = np.arange(n_rows)
    for _, ids in factors:
        live = live[ids[live] >= 0]
    if len(live) == 0:
        return []
    # One integer per row naming its tuple of clause ids (mixed radix, re-coded densely
    # whenever the next factor could overflow int64), then one 1-D unique.
    key = np.zeros(len(live), dtype=np.int64)
    span = 1
    for clauses, ids in factors:
        radix = max(1, len(clauses))
        if span * radix >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            key, span = key.astype(np.int64).ravel(), int(key.max()) + 1
        key = key * radix + ids[live]
        span *= radix
    _, first, inverse, counts = np.unique(key, return_index=True, return_inverse=True,
                                          return_counts=True)
    inverse = inverse.ravel()
    combos = np.stack([ids[live[first]] for _, ids in factors], axis=1)
    order = np.argsort(-counts, kind="stable")
    grouped = live[np.argsort(inverse, kind="stable")]  # rows of combo i: one slice
    starts = np.cumsum(counts) - counts
    out: list[tuple[Clause, np.ndarray]] = []
    for i in order:
        if counts[i] < max(1, min_support) or len(out) >= beam:
            break
        merged = simplify_conditions(
            [c for (clauses, _), j in zip(factors, combos[i]) for c in clauses[j]],
            schema=schema)
        if merged is None:
            continue
        mask = np.zeros(n_rows, dtype=bool)
        mask[grouped[starts[i]:starts[i] + counts[i]]] = True
        out.append((tuple(merged), mask))
    return out
