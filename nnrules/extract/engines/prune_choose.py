"""The tree TREPAN keeps from its pruning path: ``pruned`` chooses the point that
``TrepanExtractor(prune=..., max_literals=...)`` asks for (fidelity given up on rows kept apart
or on the pruning rows, then a bound on the rule view's literals) and tidies it.

The path itself is built in ``nnrules.extract.engines.prune_tree`` (one tree) or
``nnrules.extract.engines.prune_pool`` (several trees grown otherwise, merged).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrules.extract.engines.prune_tree import (
    PrunePoint,
    pruning_path,
    rule_literals,
    select_max_literals,
    tree_literals,
)
from nnrules.surrogates.tree import TreeSurrogate

__all__ = ["pruned"]


def _agreement(tree: TreeSurrogate, X: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(tree.predict_index(X) == labels)) if len(labels) else 1.0


def pruned(tree: TreeSurrogate, X: np.ndarray, labels: np.ndarray, queries: np.ndarray,
           query_labels: np.ndarray, *, prune: float | None, max_literals: int | None,
           X_val: np.ndarray | None = None, val_labels: np.ndarray | None = None,
           generated: np.ndarray | None = None, query_weights: np.ndarray | None = None,
           max_fidelity_loss: float | None = None, cost: str = "tree",
           others: list[dict] | None = None,
           ) -> tuple[TreeSurrogate, list[PrunePoint], dict[str, Any]]:
    """Prune a grown tree as ``TrepanExtractor(prune=..., max_literals=...)`` asks.

    The path runs on the real rows ``X`` and the ``queries``, labelled by the network. With
    ``prune`` (epsilon), the smallest tree whose agreement on ``(X_val, val_labels)`` is at
    least the input tree's there minus epsilon is kept (without validation rows, the pruning
    rows decide). With ``max_fidelity_loss``, the smallest tree whose fidelity on the pruning
    rows (as the path weighs them) is at most that much below the input tree's. With
    ``max_literals``, the tree is then pruned further, if needed, until its
    rule view writes at most that many literals. ``query_weights`` weigh the queries on the
    path (real rows weigh 1; default: queries weigh 1 too). A pruned tree is tidied by the exact
    simplification when ``generated`` rows are given (kept only if it stays within the bound).
    ``others``: trees grown otherwise on the same real rows (dicts as
    ``nnrules.extract.engines.prune_pool.pooled_path`` takes); their paths join this tree's in
    one frontier, every fidelity then measured on the common rows.

    Returns
    -------
    (TreeSurrogate, list of PrunePoint, dict)
        The chosen tree, the path, and what was done (sizes and fidelities before and after).
    """
    from nnrules.extract.engines.simplify import simplify_tree

    R = np.vstack([X, queries])
    L = np.concatenate([labels, query_labels]).astype(np.int64)
    weights = None if query_weights is None else np.concatenate(
        [np.ones(X.shape[0]), np.asarray(query_weights, dtype=float)])
    if others:
        from nnrules.extract.engines.prune_pool import pooled_path

        own = {"tree": tree, "X": X, "labels": labels, "queries": queries,
               "query_labels": query_labels, "query_weights": query_weights}
        path, (R, L, weights) = pooled_path([own, *others], cost=cost)
    else:
        path = pruning_path(tree, R, L, weights=weights, n_real=X.shape[0], cost=cost)
    trees = [tree] + [p.tree for p in path]
    w = np.ones(L.size) if weights is None else weights
    start = float(w @ (tree.predict_index(R) == L)) / float(w.sum())
    path_fid = [start] + [p.fidelity for p in path]
    chosen = 0
    info: dict[str, Any] = {"prune": prune, "max_literals": max_literals,
                            "path_length": len(path)}
    if max_fidelity_loss is not None:
        chosen = max(i for i, f in enumerate(path_fid)
                     if f >= start - max_fidelity_loss - 1e-12)
        info["max_fidelity_loss"] = float(max_fidelity_loss)
    if prune is not None:
        Xv, yv = (R, L) if X_val is None else (X_val, np.asarray(val_labels))
        fids = [_agreement(t, Xv, yv) for t in trees]
        chosen = max(i for i, f in enumerate(fids) if f >= fids[0] - prune - 1e-12)
        info["validation_rows"] = len(yv) if X_val is not None else 0
        info["validation_fidelity"] = [fids[0], fids[chosen]]
    info["path_fidelity"] = [start, path_fid[chosen]]
    if max_literals is not None and rule_literals(trees[chosen]) > max_literals:
        start = max(chosen - 1, 0)
        chosen = start + 1 + select_max_literals(path[start:], max_literals,
                                                 count=rule_literals)
    result = trees[chosen]
    if chosen > 0 and generated is not None:
        tidy, _ = simplify_tree(result, X, generated=generated)
        if max_literals is None or rule_literals(tidy) <= max_literals:
            result = tidy
    if rule_literals(result) > rule_literals(tree):
        result = tree  # fewer literals in the tree's tests, more in its rule view: not pruned
    result.notes = dict(tree.notes)
    info["path_fidelity"][1] = float(w @ (result.predict_index(R) == L)) / float(w.sum())
    info["literals"] = [rule_literals(tree), rule_literals(result)]
    info["tree_literals"] = [tree_literals(tree), tree_literals(result)]
    info["leaves"] = [int(tree.leaves().size), int(result.leaves().size)]
    info["pruning_fidelity"] = [_agreement(tree, R, L), _agreement(result, R, L)]
    info["pruning_rows"] = {"real": int(X.shape[0]), "queries": int(queries.shape[0])}
    return result, path, info
