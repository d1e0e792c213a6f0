"""Terms and intermediate rules.

A *term* is a threshold on one unit of one level, ``h2[5] > 0.31`` (level 0 is the input). A
*clause* is a conjunction of :class:`~nnrules.surrogates.rules.Condition` on the units of one
level (``Condition.feature`` is the unit index). An *intermediate rule* says that a clause on
level ``k`` predicts an output class, or the truth of a term of a higher level.

Intermediate rules are learned by CART (scikit-learn's ``DecisionTreeClassifier``) with a
minimum number of cases per leaf: every leaf is one clause (the conditions on its path), and the
leaves of one tree partition the level's space, so the clauses for "term true" and "term false"
are complements of each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from nnrules.surrogates.rules import Condition, simplify_conditions

__all__ = ["Leaf", "Term", "clause_mask", "clause_text", "learn_clauses"]

Clause = tuple[Condition, ...]


@dataclass(frozen=True, order=True)
class Term:
    """``h<level>[unit] > threshold``: a threshold on one unit of one level (0 = input)."""

    level: int
    unit: int
    threshold: float

    def holds(self, levels: list[np.ndarray]) -> np.ndarray:
        """Boolean array (n_samples,): rows whose unit exceeds the threshold."""
        return levels[self.level][:, self.unit] > self.threshold

    def key(self) -> str:
        """A stable, readable id: ``h2[5]>0.3125``."""
        return f"h{self.level}[{self.unit}]>{self.threshold!r}"


@dataclass(frozen=True)
class Leaf:
    """One leaf of an intermediate-rule tree.

    Attributes
    ----------
    clause : tuple of Condition
        The conditions on the path (on the tree's level), simplified.
    value : int
        The leaf's majority target (a class index, or 1/0 for a term's truth).
    support : int
        Training rows in the leaf.
    confidence : float
        Fraction of those rows whose target is ``value``.
    """

    clause: Clause
    value: int
    support: int
    confidence: float


def clause_mask(clause: Clause, A: np.ndarray) -> np.ndarray:
    """Boolean array (n_samples,): rows of ``A`` (one level's values) satisfying the clause."""
    ok = np.ones(A.shape[0], dtype=bool)
    for c in clause:
        ok &= c.holds(A)
    return ok


def clause_text(clause: Clause, level: int, schema: Any = None) -> str:
    """``"h1[3] > 0.5 and h1[7] <= -0.2"`` (input level: the schema's names)."""
    if not clause:
        return "true"
    if level == 0:
        return " and ".join(c.to_text(schema) for c in clause)
    return " and ".join(f"h{level}[{c.feature}] {c.op} {c.value:.4g}" for c in clause)


def learn_clauses(
    A: np.ndarray,
    target: np.ndarray,
    *,
    min_samples_leaf: int,
    max_depth: int | None,
    max_leaves: int | None = None,
    columns: np.ndarray | None = None,
    schema: Any = None,
    random_state: int = 0,
    binned: Any = None,
    sample_weight: np.ndarray | None = None,
    min_weight_leaf: float | None = None,
) -> list[Leaf]:
    """Learn clauses on one level that predict ``target``: one per leaf of a CART tree.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_units)
        One level's values.
    target : ndarray of shape (n_samples,) of int
        Class indices, or 0/1 for a term's truth.
    min_samples_leaf : int
        Fewest rows in a leaf (C4.5's minimum number of cases).
    max_depth, max_leaves : int or None
        Size limits of the tree.
    columns : ndarray of int, optional
        Only these columns of ``A`` may be tested (input pruning); conditions still name the
        column's index in ``A``.
    schema : FeatureSchema, optional
        For the input level: lets simplification use one-hot groups.
    random_state : int
        Tie-breaking seed of the tree.
    binned : Binned, optional
        ``A`` coded by quantile bins (:func:`~nnrules.extract.decompose.binning.bin_columns`):
        the tree learns from the codes (faster) and its splits are mapped back to real
        thresholds on ``A``.
    sample_weight : ndarray of shape (n_samples,), optional
        Row weights for the tree (a leaf's ``value`` is its weighted majority; ``support``
        and ``confidence`` still count rows).
    min_weight_leaf : float, optional
        With ``sample_weight``: fewest rows *by weight* in a leaf (a leaf of sampled rows must
        stand for at least this many rows); ``min_samples_leaf`` still applies to the rows.

    Returns
    -------
    list of Leaf
        In the tree's depth-first order (deterministic); leaves whose path is contradictory
        after simplification are left out.
    """
    target = np.asarray(target, dtype=np.int64)
    cols = np.arange(A.shape[1]) if columns is None else np.asarray(columns, dtype=np.int64)
    values = np.unique(target)
    if len(values) == 1 or len(cols) == 0:
        top = np.bincount(target).argmax() if len(target) else 0
        share = float(np.mean(target == top)) if len(target) else 0.0
        return [Leaf((), int(top), int(len(target)), share)]
    fraction = 0.0
    if min_weight_leaf is not None and sample_weight is not None:
        fraction = min(0.5, float(min_weight_leaf) / float(np.sum(sample_weight)))
    cart = DecisionTreeClassifier(min_samples_leaf=min_samples_leaf, max_depth=max_depth,
                                  max_leaf_nodes=max_leaves, random_state=random_state,
                                  min_weight_fraction_leaf=fraction)
    fit_on = A if binned is None else binned.codes
    cart.fit(fit_on[:, cols], target, sample_weight=sample_weight)
    tree = cart.tree_
    classes = cart.classes_
    leaf_of = cart.apply(fit_on[:, cols])
    out: list[Leaf] = []
    stack: list[tuple[int, tuple[Condition, ...]]] = [(0, ())]
    while stack:
        node, path = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == -1:
            rows = target[leaf_of == node]
            counts = tree.value[node][0]
            value = int(classes[int(np.argmax(counts))])
            support = int(len(rows))
            conf = float(np.mean(rows == value)) if support else 0.0
            clause = simplify_conditions(path, schema=schema)
            if clause is not None:
                out.append(Leaf(tuple(clause), value, support, conf))
            continue
        j = int(cols[tree.feature[node]])
        t = float(tree.threshold[node])
        if binned is not None:
            t = binned.threshold(j, t)
        stack.append((right, (*path, Condition(j, ">", t))))
        stack.append((left, (*path, Condition(j, "<=", t))))
    return out
