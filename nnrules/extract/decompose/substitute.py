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


def _box(clause: Clause, width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A clause of ``<=`` / ``>`` conditions as interval bounds (lo, hi], or None otherwise."""
    lo = np.full(width, -np.inf)
    hi = np.full(width, np.inf)
    for c in clause:
        if c.op == ">":
            lo[c.feature] = max(lo[c.feature], c.value)
        elif c.op == "<=":
            hi[c.feature] = min(hi[c.feature], c.value)
        else:
            return None
    return lo, hi


def _clause(lo: np.ndarray, hi: np.ndarray) -> Clause:
    out = [Condition(int(j), ">", float(lo[j])) for j in np.flatnonzero(lo > -np.inf)]
    out += [Condition(int(j), "<=", float(hi[j])) for j in np.flatnonzero(hi < np.inf)]
    return tuple(sorted(out))


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
        For the input level: one-hot groups in the final satisfiability check.
    tick : callable, optional
        Called once per factor (the budget check).

    Returns
    -------
    Product
        Clauses in canonical form (:func:`~nnrules.surrogates.rules.simplify_conditions`).

    Notes
    -----
    Threshold clauses (the only kind trees make) are multiplied as interval boxes with NumPy:
    the conjunction of two clauses is the intersection of their boxes, unsatisfiable when a
    lower bound reaches its upper bound. Other clauses go through ``simplify_conditions``.
    """
    width = 1 + max((c.feature for dnf in dnfs for clause, _ in dnf for c in clause),
                    default=0)
    boxes = [[(_box(clause, width), clause, mask) for clause, mask in dnf] for dnf in dnfs]
    current: list[tuple[tuple, np.ndarray]] = [
        ((np.full(width, -np.inf), np.full(width, np.inf)), np.ones(n_rows, dtype=bool))]
    exact = all(b is not None for dnf in boxes for b, _, _ in dnf)
    dropped = 0
    truncated = False
    for dnf in boxes:
        if tick is not None:
            tick()
        nxt: dict[bytes, tuple[tuple, np.ndarray]] = {}
        for (lo, hi), mask in current:
            for box, clause, other_mask in dnf:
                both = mask & other_mask
                if min_support > 0 and int(both.sum()) < min_support:
                    dropped += 1  # checked first: cheaper than the satisfiability test
                    continue
                if exact:
                    new_lo, new_hi = np.maximum(lo, box[0]), np.minimum(hi, box[1])
                    if np.any(new_lo >= new_hi):
                        continue
                else:
                    merged = simplify_conditions((*_clause(lo, hi), *clause), schema=schema)
                    if merged is None:
                        continue
                    new_lo, new_hi = _box(tuple(merged), width) or (lo, hi)
                key = new_lo.tobytes() + new_hi.tobytes()
                if key in nxt:
                    nxt[key] = (nxt[key][0], nxt[key][1] | both)
                else:
                    nxt[key] = ((new_lo, new_hi), both)
        ranked = sorted(nxt.items(), key=lambda kv: (-int(kv[1][1].sum()), kv[0]))
        if len(ranked) > beam:
            truncated = truncated or any(int(m.sum()) > 0 for _, (_, m) in ranked[beam:])
            dropped += len(ranked) - beam
            ranked = ranked[:beam]
        current = [v for _, v in ranked]
        if not current:
            break
    clauses, masks = [], []
    for (lo, hi), mask in current:
        clause = simplify_conditions(_clause(lo, hi), schema=schema)
        if clause is None:  # contradicts a one-hot group
            continue
        clauses.append(tuple(clause))
        masks.append(mask)
    return Product(clauses, masks, dropped, truncated)
