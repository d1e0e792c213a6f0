"""A decision list by sequential covering: each next rule is the best on the rows still open.

:func:`~nnrules.extract.decompose.assemble.ranked_rules` ranks every candidate once, by its
confidence on all training rows, and walks that order. When the candidates overlap a lot (DeepRED's
substituted clauses: products of the same unit trees, widened), a broad rule that is right on 95%
of its rows ranks first and takes rows a narrower rule of another class would decide better; the
list's training fidelity can then end below that of a subset of its candidates.

:func:`covering_rules` re-scores after every pick (CN2's ordered covering): the next rule is the
candidate with the best Laplace estimate ``(right + 1) / (support + outcomes)`` on the rows no
earlier rule covers, kept only while it is right on at least ``min_gain`` of them and on more
than it is wrong. Then, as in ``ranked_rules(drop=True)``, the rules whose removal does not lower
the list's training fidelity go (:func:`~nnrules.extract.decompose.assemble.drop_idle`, which
also cuts to ``max_rules``) and runs of one class are merged exactly
(:func:`~nnrules.extract.decompose.assemble.merge_runs`).

Counts are updated incrementally: a pick subtracts its newly covered rows from every
candidate's support and right answers, so the whole selection costs one pass over the
candidate-by-row masks (as many booleans as ``ranked_rules`` holds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nnrules.extract.decompose.assemble import drop_idle, merge_runs
from nnrules.extract.decompose.simplify import clause_order
from nnrules.extract.decompose.terms import Clause, clause_mask
from nnrules.surrogates.rules import Rule, RuleSet, simplify_conditions

__all__ = ["covering_rules"]


def covering_rules(candidates: Sequence[tuple[Clause, int]], X: np.ndarray, labels: np.ndarray,
                   *, classes: tuple, schema: Any = None, max_rules: int | None = None,
                   min_gain: int | Sequence[int] = 1, outcomes: int = 2,
                   tick=None) -> tuple[RuleSet, bool]:
    """A decision list chosen by sequential covering (see module docstring).

    Parameters
    ----------
    candidates : sequence of (clause on the inputs, class index)
    X : ndarray of shape (n_samples, n_features)
        Training rows (input level).
    labels : ndarray of shape (n_samples,)
        The network's class index per row.
    classes : tuple
    schema : FeatureSchema, optional
    max_rules : int or None
        Most rules kept (the list cut by ``drop_idle``, removing the rules that cost least).
    min_gain : int or sequence of int, default=1
        Fewest right answers on the open rows for a pick (per class index when a sequence).
    outcomes : int, default=2
        The Laplace estimate's outcome count (2: each rule a claim "its class or not").
    tick : callable, optional
        Called every 64 picks (a budget's tick: may raise to stop).

    Returns
    -------
    (RuleSet, truncated)
        ``truncated`` is True when ``max_rules`` cut rules off.
    """
    n_classes = len(classes)
    # Each clause simplified on its own, duplicates and contradictions out; a clause inside a
    # broader one of its class stays (unlike a DNF's simplification): when the broad one is
    # not picked, the narrow one may be the best rule for its rows.
    seen: set[tuple[Clause, int]] = set()
    for clause, k in candidates:
        c = simplify_conditions(tuple(clause), schema=schema)
        if c is not None:
            seen.add((tuple(c), int(k)))
    pool = sorted(seen, key=lambda item: (item[1], clause_order(item[0])))
    gains = np.broadcast_to(np.asarray(min_gain, dtype=np.int64), (n_classes,))
    chosen: list = []
    if pool:
        masks = np.stack([clause_mask(c, X) for c, _ in pool])
        ks = np.array([k for _, k in pool], dtype=np.int64)
        support = masks.sum(axis=1).astype(np.int64)
        right = (masks & (labels[None, :] == ks[:, None])).sum(axis=1).astype(np.int64)
        open_ = np.ones(len(pool), dtype=bool)
        covered = np.zeros(len(X), dtype=bool)
        order = np.arange(len(pool))
        while True:
            if tick is not None and len(chosen) % 64 == 63:
                tick()
            ok = open_ & (right >= gains[ks]) & (2 * right > support)
            if not ok.any():
                break
            score = np.where(ok, (right + 1) / (support + outcomes), -1.0)
            # best Laplace, then larger support, then the earlier candidate (deterministic)
            i = int(np.lexsort((order, -support, -score))[0])
            open_[i] = False
            n_all = int(masks[i].sum())  # the rule's own statistics: on all rows
            n_right = int(np.sum(labels[masks[i]] == ks[i]))
            chosen.append((n_right / n_all, n_all, int(ks[i]), pool[i][0], masks[i]))
            new = np.flatnonzero(masks[i] & ~covered)
            covered[new] = True
            sub = masks[:, new]
            support -= sub.sum(axis=1)
            right -= (sub & (labels[new][None, :] == ks[:, None])).sum(axis=1)
    chosen, default = drop_idle(chosen, labels, n_classes)
    truncated = max_rules is not None and len(chosen) > max_rules
    if truncated:
        chosen, default = drop_idle(chosen, labels, n_classes, max_rules)
    chosen = merge_runs(chosen, X, labels, schema)
    rules = [Rule(clause, int(k), support, conf) for conf, support, k, clause, _ in chosen]
    return RuleSet(rules, default, ordered=True, classes=classes, schema=schema,
                   n_features=X.shape[1]), truncated
