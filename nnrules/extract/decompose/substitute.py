"""Substitution: rewrite a clause on level k as clauses on a lower level.

Term-wise (DeepRED): every condition of the clause is a term of level k (``h[j] > t``) or its
negation; each is replaced by the DNF on level k-1 that predicts it (the tree's "true" leaves or
its "false" leaves), and the conjunction of those DNFs is multiplied out. The product is formed
one condition at a time and pruned *as it is made*: a partial clause that is unsatisfiable, or
that covers fewer than ``min_support`` training rows, is dropped at once, and at most ``beam``
partial clauses (the best supported) are kept, so memory stays bounded by ``beam`` row masks.

Clause-wise (ECLAIRE) needs no product: the clause's truth on its level is itself the target of
one tree on the inputs (see :func:`nnrules.extract.decompose.terms.learn_clauses`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nnrules.surrogates.rules import Condition, simplify_conditions

__all__ = ["Product", "conjoin"]

Clause = tuple[Condition, ...]


@dataclass
class Product:
    """The result of :func:`conjoin`.

    Attributes
    ----------
    clauses : list of tuple of Condition
        Clauses on the lower level, best supported first.
    masks : list of ndarray of bool
        The training rows each clause covers.
    dropped : int
        Partial clauses dropped for too little support or past the beam.
    truncated : bool
        Whether the beam cut supported clauses (the rewrite is then not exact on the data).
    """

    clauses: list[Clause]
    masks: list[np.ndarray]
    dropped: int
    truncated: bool


def conjoin(
    dnfs: Sequence[Sequence[tuple[Clause, np.ndarray]]],
    n_rows: int,
    *,
    min_support: int,
    beam: int,
    schema=None,
    tick: Callable[[], None] | None = None,
) -> Product:
    """Multiply out a conjunction of DNFs, pruning partial clauses as they are made.

    Parameters
    ----------
    dnfs : sequence of sequence of (clause, mask)
        One DNF per condition being replaced; each clause comes with the boolean mask of the
        training rows (on the lower level) it covers.
    n_rows : int
        Number of training rows (length of every mask).
    min_support : int
        Partial clauses covering fewer rows are dropped (0 keeps all satisfiable ones).
    beam : int
        Most partial clauses kept after each factor (highest support first, ties by clause).
    schema : FeatureSchema, optional
        For the input level: one-hot groups in the satisfiability check.
    tick : callable, optional
        Called once per factor (the budget check).

    Returns
    -------
    Product
    """
    current: list[tuple[Clause, np.ndarray]] = [((), np.ones(n_rows, dtype=bool))]
    dropped = 0
    truncated = False
    for dnf in dnfs:
        if tick is not None:
            tick()
        nxt: dict[Clause, np.ndarray] = {}
        for clause, mask in current:
            for other, other_mask in dnf:
                both = mask & other_mask
                if min_support > 0 and int(both.sum()) < min_support:
                    dropped += 1  # checked first: cheaper than the satisfiability test
                    continue
                merged = simplify_conditions((*clause, *other), schema=schema)
                if merged is None:
                    continue
                key = tuple(merged)
                if key in nxt:
                    nxt[key] = nxt[key] | both
                else:
                    nxt[key] = both
        ranked = sorted(nxt.items(), key=lambda kv: (-int(kv[1].sum()), kv[0]))
        if len(ranked) > beam:
            truncated = truncated or any(int(m.sum()) > 0 for _, m in ranked[beam:])
            dropped += len(ranked) - beam
            ranked = ranked[:beam]
        current = ranked
        if not current:
            break
    return Product([c for c, _ in current], [m for _, m in current], dropped, truncated)
