"""One pruning frontier from several trees grown on the same rows.

A tree grown one way (TREPAN with m-of-n tests and queries) can be less literal-efficient at
some sizes than a tree grown another way (without queries, or with single conditions), and no
pruning of the first reaches the second's small trees. Each grown tree is pruned on its own
pruning rows (``nnrules.extract.engines.prune_tree.pruning_path``); then every tree of every
path is scored on the *common* rows, the real rows (weight 1 each) and every growth's queries,
and the paths are merged into one frontier by the rule view's literals (``merged_frontier``).
With one growth this is ``pruning_path`` itself.

Each tree was grown on the real rows, but only one on a given growth's queries, so the queries
favour the tree grown on them. They weigh ``QUERY_SHARE`` of what they weigh on their own
growth's path, split among the growths that made queries (TREPAN's queries together weigh about
as much as the real rows there). Chosen on validation rows (digits, breast cancer, wine and
German credit; docs/benchmarks.md, "Pruning", fourth look) among 1 (the queries weigh as on their
own path), 0.5 and 0 (real rows only): at 1 the tree grown with queries kept every point that
mattered on digits, at 0 the real rows' in-sample fit made the other tree win where it was
worse (breast cancer, wine).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from nnrules.extract.engines.prune_tree import PrunePoint, merged_frontier, pruning_path

__all__ = ["QUERY_SHARE", "common_rows", "pooled_path"]

QUERY_SHARE = 0.5


def _rows(g: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A growth's own pruning rows: real rows then queries, labels, weights."""
    q = g["queries"]
    w = (np.ones(q.shape[0]) if g.get("query_weights") is None
         else np.asarray(g["query_weights"], dtype=float))
    return (np.vstack([g["X"], q]),
            np.concatenate([g["labels"], g["query_labels"]]).astype(np.int64),
            np.concatenate([np.ones(g["X"].shape[0]), w]))


def common_rows(growths: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows every growth's trees are scored on: the real rows, then each growth's queries
    (weighted as the module docstring says).

    Parameters
    ----------
    growths : list of dict
        Each with ``X`` (the real rows, the same for all), ``labels``, ``queries``,
        ``query_labels`` and ``query_weights`` (None: 1 each).

    Returns
    -------
    (rows, labels, weights)
    """
    with_queries = [g for g in growths if g["queries"].shape[0]]
    share = QUERY_SHARE / max(len(with_queries), 1)
    R, L, W = [growths[0]["X"]], [growths[0]["labels"]], [np.ones(growths[0]["X"].shape[0])]
    for g in with_queries:
        _, labels, w = _rows(g)
        n = g["X"].shape[0]
        R.append(g["queries"])
        L.append(labels[n:])
        W.append(w[n:] * share)
    return np.vstack(R), np.concatenate(L).astype(np.int64), np.concatenate(W)


def pooled_path(growths: list[dict], cost: str = "both") -> tuple[list[PrunePoint], tuple]:
    """Prune every growth's tree and merge the paths, scored on the common rows.

    Returns
    -------
    (list of PrunePoint, (rows, labels, weights))
        The frontier, largest tree first (its fidelities on the common rows), and the rows.
    """
    paths = []
    for g in growths:
        R, L, w = _rows(g)
        paths.append(pruning_path(g["tree"], R, L, weights=w, n_real=g["X"].shape[0],
                                  cost=cost))
    if len(growths) == 1:
        return paths[0], _rows(growths[0])
    R, L, w = common_rows(growths)
    total = float(w.sum())
    rescored = [[replace(p, fidelity=float(w @ (p.tree.predict_index(R) == L)) / total)
                 for p in path] for path in paths]
    return merged_frontier(rescored), (R, L, w)
