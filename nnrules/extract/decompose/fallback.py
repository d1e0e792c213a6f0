"""DeepRED's input fallback: clauses learned directly for output clauses substitution left short.

Term-wise substitution approximates every term of an output clause by a leaf majority of its
unit's tree, so the product of a clause's factors can cover none of some rows where the clause
holds. For each output clause with at least ``threshold`` such rows, one tree on the inputs learns
where the clause holds (as ``eclaire`` does for every intermediate clause), and its "holds" leaves
become candidates of the clause's class. Each is recorded in the trace with ``fallback=True``,
realising the output clause's node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.extract.decompose.terms import clause_mask, learn_clauses
from nnrules.extract.decompose.widen import ConditionMasks

__all__ = ["fallback_clauses"]


def fallback_clauses(ws: Any, outputs: Sequence[tuple[Any, str, int, int]],
                     finished: Sequence[tuple[tuple, int]], masks: ConditionMasks,
                     leaf_sizes: Sequence[int], *, factor: float, max_depth: int | None,
                     schema: Any, columns: np.ndarray | None, binned: Any,
                     out: list[tuple[tuple, int]]) -> list[tuple[tuple, int]]:
    """Append to ``out`` the fallback candidates (input clause, class index) and return it.

    Parameters
    ----------
    ws : Workspace
        The levels, the budget (ticked before each tree: it may raise ``OutOfBudget``, and
        ``out`` then holds the clauses learned so far) and the trace.
    outputs : sequence of (output leaf, trace node id, first index, count)
        Each output clause with the slice of ``finished`` that substitution made for it.
    finished : sequence of (input clause, class index)
    masks : ConditionMasks
        Condition masks on the input rows.
    leaf_sizes : sequence of int
        Per class index, the fewest rows in a leaf of that class's fallback trees.
    factor : float
        An output clause gets a fallback when at least ``factor`` times its leaf size of its
        rows (and at least one) are covered by none of its substituted clauses.
    max_depth, schema, columns, binned
        As for :func:`~nnrules.extract.decompose.terms.learn_clauses` on the input level.
    out : list
        Where the candidates go.
    """
    K = ws.stack.n_hidden
    X0 = ws.levels[0]
    for leaf, node, start, n in outputs:
        target = clause_mask(leaf.clause, ws.levels[K])
        covered = np.zeros(ws.n_rows, dtype=bool)
        for c, _ in finished[start:start + n]:
            covered |= masks.clause(c)
        n_min = int(leaf_sizes[leaf.value])
        if int(np.sum(target & ~covered)) < max(1, factor * n_min):
            continue
        ws.budget.tick()
        for il in learn_clauses(X0, target.astype(np.int64), min_samples_leaf=n_min,
                                max_depth=max_depth, schema=schema, columns=columns,
                                random_state=ws.seed, binned=binned):
            if il.value == 1:
                ws.trace.add(0, il.clause, node, support=il.support, confidence=il.confidence,
                             fallback=True)
                out.append((il.clause, leaf.value))
    return out
