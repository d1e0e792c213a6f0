"""Greedy condition dropping, counted in one pass per step.

:func:`widen` returns exactly what :func:`nnrules.extract.decompose.assemble.generalise` returns
(same greedy order, same ties, same floating-point confidences) but counts each step from the
rows that fail at most one remaining condition: a row failing none is covered whatever is
dropped, a row failing exactly condition ``i`` is covered only when ``i`` is dropped, and a row
failing two or more is covered by no candidate of this step. One step is then O(rows) instead of
O(conditions x rows), which matters for DeepRED's hundreds of substituted clauses with ten or
more conditions each.
"""

from __future__ import annotations

import numpy as np

from nnrules.extract.decompose.terms import Clause
from nnrules.surrogates.rules import Condition

__all__ = ["ConditionMasks", "widen"]


class ConditionMasks:
    """Each condition's rows on ``X``, computed once: substituted clauses share most of their
    conditions (the paths of the input level's unit trees)."""

    def __init__(self, X: np.ndarray) -> None:
        self.X = X
        self._masks: dict[Condition, np.ndarray] = {}

    def __call__(self, condition: Condition) -> np.ndarray:
        mask = self._masks.get(condition)
        if mask is None:
            mask = self._masks[condition] = condition.holds(self.X)
        return mask

    def clause(self, clause: Clause) -> np.ndarray:
        """Rows satisfying every condition of ``clause``."""
        ok = np.ones(len(self.X), dtype=bool)
        for c in clause:
            ok &= self(c)
        return ok


def widen(clause: Clause, k: int, X: np.ndarray, labels: np.ndarray, *,
          tolerance: float = 0.0, masks: ConditionMasks | None = None) -> Clause:
    """Drop conditions of ``clause -> k`` while its confidence on the rows stays up.

    Parameters
    ----------
    clause : tuple of Condition
    k : int
        The rule's class index.
    X : ndarray of shape (n_samples, n_features)
    labels : ndarray of shape (n_samples,)
        The network's class index per row.
    tolerance : float, default=0.0
        Largest fall of the confidence below its starting value.
    masks : ConditionMasks, optional
        A cache of condition masks on ``X``.

    Returns
    -------
    tuple of Condition
        The kept conditions, in their original order.
    """
    conds = list(clause)
    if len(conds) < 2:
        return tuple(conds)
    # (n_conditions, n_rows): where each condition fails
    fail = np.array([~(c.holds(X) if masks is None else masks(c)) for c in conds])
    n_fail = fail.sum(axis=0)
    right = labels == k

    def conf(right_n: float, n: int) -> float:
        return float(right_n) / n if n else 0.0

    none = n_fail == 0
    floor = conf(np.sum(right & none), int(none.sum())) - tolerance
    alive = list(range(len(conds)))
    while len(alive) > 1:
        none = n_fail == 0
        n0, r0 = int(none.sum()), int(np.sum(right & none))
        one = np.flatnonzero(n_fail == 1)
        which = np.argmax(fail[:, one][alive], axis=0)  # position in `alive` of the failure
        n1 = np.bincount(which, minlength=len(alive))
        r1 = np.bincount(which, weights=right[one], minlength=len(alive))
        best, best_conf = None, -1.0
        for pos in range(len(alive)):
            c = conf(r0 + int(r1[pos]), n0 + int(n1[pos]))
            if c >= floor and c > best_conf:
                best, best_conf = pos, c
        if best is None:
            break
        n_fail -= fail[alive[best]]
        del alive[best]
    return tuple(conds[i] for i in alive)
