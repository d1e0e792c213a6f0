"""A pruning path for trees with m-of-n tests: literals traded for fidelity, one step at a time.

Simplification (``nnrules.extract.engines.simplify``) never changes a prediction on the rows it
checks; pruning does. It starts from a tree and, at every step, makes the change that loses
the least fidelity per literal saved, until the tree is a single leaf:

- **collapse** an internal node into a leaf predicting the majority answer of the rows reaching
  it (saves every literal below and at the node);
- **bypass** an internal node: replace it by one of its children (saves its test and the other
  child's subtree);
- **shrink** an m-of-n test by one condition, keeping ``m`` or lowering it by one (saves one
  literal; a test left with one condition becomes that condition).

Fidelity is the (optionally weighted) share of the *pruning rows* whose answer the tree
reproduces. For TREPAN these are the rows it already labelled with the network: its extraction
rows and the queries it generated while growing (a leaf's queries together weigh as much as its
real rows), never rows kept aside to report fidelity.

Literals are counted as written in the tree's tests: a single condition counts 1, an m-of-n test
over n conditions counts n (``tree_literals``). Each step saves at least one literal (a step is
charged for these literals, or with ``cost="rules"`` for those of one rule per leaf). The path
keeps the Pareto front of the trees visited: literals strictly fall along it and fidelity on the
pruning rows never rises (a tree that a smaller, at-least-as-faithful tree dominates is dropped).
A fourth step, **reduce** an m-of-n test to one of its conditions at once, is offered with
``one_condition=True``. ``cost="both"`` runs both costs, with and without it, and merges the
four paths into one front by the rule view's literals (``merged_frontier``): no one greedy
order is best at every size.

Examples
--------
>>> import numpy as np
>>> from nnrules.surrogates.rules import Condition
>>> from nnrules.surrogates.tree import TreeSurrogate
>>> c = Condition(0, ">", 0.5)
>>> tree = TreeSurrogate([c, None, None], [1, -1, -1], [2, -1, -1], [[0, 1], [0, 1], [1, 0]])
>>> X = np.array([[0.0], [1.0], [2.0]])
>>> path = pruning_path(tree, X, np.array([0, 1, 1]))
>>> [(p.literals, round(p.fidelity, 3)) for p in path]
[(1, 1.0), (0, 0.667)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrules.exceptions import ParameterError
from nnrules.surrogates.rules import Condition, MofN
from nnrules.surrogates.tree import TreeSurrogate

__all__ = ["PrunePoint", "merged_frontier", "pruning_path", "rule_literals",
           "select_max_literals", "tree_literals"]


@dataclass(frozen=True)
class PrunePoint:
    """One tree of a pruning path.

    Attributes
    ----------
    tree : TreeSurrogate
    literals : int
        Conditions written in the tree's tests (an m-of-n test over n conditions counts n).
    fidelity : float
        Agreement with the labels on the pruning rows.
    move : str
        The step that made this tree from the previous point ("start" for the first).
    """

    tree: TreeSurrogate
    literals: int
    fidelity: float
    move: str


def tree_literals(tree: TreeSurrogate) -> int:
    """Conditions written in the tree's tests; an m-of-n test over n conditions counts n."""
    return int(sum(t.n_conditions() for t in tree.tests if t is not None))


def _conds(test) -> tuple[int, tuple[Condition, ...]]:
    return (test.m, test.conditions) if isinstance(test, MofN) else (1, (test,))


def _make_test(m: int, conds: tuple[Condition, ...]):
    return conds[0] if len(conds) == 1 else MofN(m, conds)


class _State:
    """The tree being pruned: node arrays indexed like the input tree, plus per-node caches."""

    def __init__(self, tree: TreeSurrogate, X: np.ndarray, labels: np.ndarray,
                 weights: np.ndarray | None, cost: str = "tree", one_condition: bool = False):
        self.labels, self.w, self.cost, self.one_condition = labels, weights, cost, one_condition
        self.k = tree.value.shape[1]
        self.tests = list(tree.tests)
        self.left = tree.left.copy()
        self.right = tree.right.copy()
        self.value = tree.value.copy()
        self.cls = np.argmax(self.value, axis=1)
        self.C: dict[int, np.ndarray] = {}  # condition truth per internal node, (N, n)
        self.m: dict[int, int] = {}
        self.conds: dict[int, tuple] = {}
        for u, t in enumerate(self.tests):
            if t is not None:
                m, conds = _conds(t)
                self.m[u], self.conds[u] = m, conds
                self.C[u] = np.column_stack([c.holds(X) for c in conds])
        self.count = {u: C.sum(axis=1) for u, C in self.C.items()}  # conditions holding

    def nodes(self) -> list[int]:
        """Live nodes, pre-order."""
        out, stack = [], [0]
        while stack:
            u = stack.pop()
            out.append(u)
            if self.left[u] >= 0:
                stack += [int(self.right[u]), int(self.left[u])]
        return out

    def evaluate(self):
        """Per live node: rows reaching it (indices), correctness of its subtree on all rows,
        the test's truth, and its subtree's literal count."""
        order = self.nodes()
        H, corr, lits = {}, {}, {}
        for u in reversed(order):
            if self.left[u] < 0:
                corr[u] = self.labels == self.cls[u]
                lits[u] = 0
                continue
            H[u] = self.count[u] >= self.m[u]
            a, b = int(self.left[u]), int(self.right[u])
            corr[u] = np.where(H[u], corr[a], corr[b])
            lits[u] = len(self.conds[u]) + lits[a] + lits[b]
        at = {0: np.arange(self.labels.size)}
        for u in order:
            if self.left[u] >= 0:
                h = H[u][at[u]]
                at[int(self.left[u])] = at[u][h]
                at[int(self.right[u])] = at[u][~h]
        self.sizes(order)
        return order, at, corr, H, lits

    def sizes(self, order: list[int]) -> None:
        """Per live node: leaves below, literals of one-rule-per-leaf below (``psub``), and
        literals of its ancestors' tests (``anc``), for the "rules" cost."""
        leaves, psub, anc = {}, {}, {0: 0}
        for u in reversed(order):
            if self.left[u] < 0:
                leaves[u], psub[u] = 1, 0
                continue
            a, b = int(self.left[u]), int(self.right[u])
            leaves[u] = leaves[a] + leaves[b]
            psub[u] = len(self.conds[u]) * leaves[u] + psub[a] + psub[b]
        for u in order:
            if self.left[u] >= 0:
                anc[int(self.left[u])] = anc[int(self.right[u])] = anc[u] + len(self.conds[u])
        self.leaves, self.psub, self.anc = leaves, psub, anc

    def saved(self, kind: str, u: int, lits: dict, other: int = -1) -> int:
        """Literals a move saves: in the tree's tests ("tree" cost) or in one rule per leaf
        ("rules" cost: every test counts once per leaf below it)."""
        n = len(self.conds[u])
        if self.cost == "tree":
            return {"collapse": lits[u], "bypass": n + lits.get(other, 0), "shrink": 1,
                    "single": n - 1}[kind]
        if kind == "single":
            return (n - 1) * self.leaves[u]
        if kind == "collapse":
            return self.psub[u] + self.anc[u] * (self.leaves[u] - 1)
        if kind == "bypass":
            return n * self.leaves[u] + self.psub[other] + self.anc[u] * self.leaves[other]
        return self.leaves[u]

    def majority(self, idx: np.ndarray, u: int) -> tuple[int, np.ndarray]:
        if idx.size == 0:
            return int(self.cls[u]), self.value[u]
        counts = np.bincount(self.labels[idx], minlength=self.k,
                             weights=None if self.w is None else self.w[idx]).astype(float)
        return int(np.argmax(counts)), counts / counts.sum()

    def snapshot(self) -> tuple:
        return (list(self.tests), self.left.copy(), self.right.copy(), self.value.copy())


def _mass(b: np.ndarray, w: np.ndarray | None) -> float:
    """Rows (or their weight) where ``b`` holds."""
    return int(np.count_nonzero(b)) if w is None else float(w @ b)


def _candidates(state: _State, order, at, corr, lits):
    """Every move as (rows lost per literal saved, -saved, tie-break key, move)."""
    out = []
    for u in order:
        if state.left[u] < 0:
            continue
        idx = at[u]
        cu = corr[u][idx]
        wu = None if state.w is None else state.w[idx]
        now = _mass(cu, wu)
        a, b = int(state.left[u]), int(state.right[u])
        saved = state.saved("collapse", u, lits)
        best = 0 if idx.size == 0 else np.bincount(state.labels[idx], minlength=state.k,
                                                   weights=wu).max()
        out.append(((now - best) / saved, -saved, (u, 0, 0, 0), ("collapse", u)))
        ca, cb = corr[a][idx], corr[b][idx]
        n = len(state.conds[u])
        for side, other, cc in ((0, b, ca), (1, a, cb)):
            saved = state.saved("bypass", u, lits, other)
            lost = now - _mass(cc, wu)
            out.append((lost / saved, -saved, (u, 1, side, 0), ("bypass", u, a if side == 0
                                                                   else b)))
        if n < 2:
            continue
        m = state.m[u]
        # Dropping a condition changes the answer only on rows whose two subtrees differ in
        # correctness: the change is a sum over those rows alone.
        differ = ca != cb
        sens = idx[differ]
        ws = None if wu is None else wu[differ]
        sign = np.where(ca[differ], 1, -1)  # +1 where going left is right
        if ws is not None:
            sign = sign * ws
        base = _mass(cb[differ], ws)
        now_s = _mass(cu[differ], ws)
        D = state.count[u][sens][:, None] - state.C[u][sens]
        for new_m in sorted({m, m - 1}):
            if not 1 <= new_m <= n - 1:
                continue
            lost = now_s - base - sign @ (D >= new_m).astype(sign.dtype)
            saved = state.saved("shrink", u, lits)
            for i in range(n):
                out.append((float(lost[i]) / saved, -saved, (u, 2, i, new_m),
                            ("shrink", u, i, new_m)))
        if n > 2 and state.one_condition:
            # The test becomes one of its conditions in one step: a chain of one-condition
            # drops may pass through tests that lose more per literal than either end.
            lost = now_s - base - sign @ state.C[u][sens].astype(sign.dtype)
            saved = state.saved("single", u, lits)
            for i in range(n):
                out.append((float(lost[i]) / saved, -saved, (u, 3, i, 0), ("single", u, i)))
    return out


def _apply(state: _State, move, at) -> str:
    kind, u = move[0], move[1]
    if kind == "collapse":
        text = state.tests[u]
        c, value = state.majority(at[u], u)
        state.tests[u] = None
        state.left[u] = state.right[u] = -1
        state.cls[u], state.value[u] = c, value
        return f"collapse {text.to_text()}"
    if kind == "bypass":
        child = move[2]
        text = state.tests[u]
        for attr in ("left", "right"):
            getattr(state, attr)[u] = getattr(state, attr)[child]
        state.tests[u] = state.tests[child]
        state.value[u], state.cls[u] = state.value[child], state.cls[child]
        if state.tests[child] is not None:
            state.m[u], state.conds[u], state.C[u], state.count[u] = (
                state.m[child], state.conds[child], state.C[child], state.count[child])
        return f"bypass {text.to_text()}"
    if kind == "single":
        text, i = state.tests[u], move[2]
        state.conds[u], state.m[u] = (state.conds[u][i],), 1
        state.C[u] = state.C[u][:, [i]]
        state.count[u] = state.C[u][:, 0].astype(np.int64)
        state.tests[u] = state.conds[u][0]
        return f"reduce {text.to_text()} to {state.tests[u].to_text()}"
    _, u, i, new_m = move
    conds = state.conds[u]
    dropped = conds[i]
    state.conds[u] = conds[:i] + conds[i + 1:]
    state.m[u] = new_m
    state.count[u] = state.count[u] - state.C[u][:, i]
    state.C[u] = np.delete(state.C[u], i, axis=1)
    state.tests[u] = _make_test(new_m, state.conds[u])
    return f"drop {dropped.to_text()}"


def _materialise(snap: tuple, like: TreeSurrogate, X_real: np.ndarray | None) -> TreeSurrogate:
    tests, left, right, value = snap
    new_tests, new_left, new_right, new_value = [], [], [], []

    def walk(u: int) -> int:
        me = len(new_tests)
        new_tests.append(tests[u])
        new_left.append(-1)
        new_right.append(-1)
        new_value.append(value[u])
        if left[u] >= 0:
            a = walk(int(left[u]))
            b = walk(int(right[u]))
            new_left[me], new_right[me] = a, b
        return me

    walk(0)
    tree = TreeSurrogate(new_tests, new_left, new_right, np.array(new_value),
                         classes=like.classes, schema=like.schema, task=like.task,
                         notes=dict(like.notes))
    tree.n_features = like.n_features
    if X_real is not None and len(X_real):
        counts = np.zeros(len(new_tests), dtype=np.int64)
        at = {0: np.arange(X_real.shape[0])}
        for u in range(len(new_tests)):  # pre-order: a parent comes before its children
            rows = at.pop(u)
            counts[u] = rows.size
            if new_left[u] >= 0:
                h = new_tests[u].holds(X_real[rows]) if rows.size else np.zeros(0, bool)
                at[new_left[u]], at[new_right[u]] = rows[h], rows[~h]
        tree.n_node_samples = counts
    return tree


def pruning_path(tree: TreeSurrogate, X: np.ndarray, labels: np.ndarray, *,
                 weights: np.ndarray | None = None, n_real: int | None = None,
                 cost: str = "tree", one_condition: bool = False) -> list[PrunePoint]:
    """Prune ``tree`` step by step down to one leaf (see the module docstring).

    Parameters
    ----------
    tree : TreeSurrogate
        A classification tree whose value columns are indexed like ``labels``.
    X : ndarray of shape (n_rows, n_features)
        The pruning rows.
    labels : ndarray of shape (n_rows,), int
        The answers to reproduce (class indices, e.g. the network's).
    weights : ndarray of shape (n_rows,), optional
        Row weights (>= 0, not all 0); default 1 each.
    n_real : int, optional
        The first ``n_real`` rows are real; each tree's node counts are recomputed on them
        (default: all rows).
    cost : {"tree", "rules", "both"}, default="tree"
        What a step is charged per literal saved: literals in the tree's tests, or literals of
        one rule per leaf (a test counts once per leaf below it, closer to the rule view of
        deep trees). Every step removes literals from the tree's tests either way. "both":
        four paths (each cost, with and without ``one_condition``) merged by
        ``merged_frontier`` (ordered by the rule view's literals, which then strictly fall;
        the tests' literals need not).
    one_condition : bool, default=False
        Also let a step replace an m-of-n test by one of its conditions at once.

    Returns
    -------
    list of PrunePoint
        From the largest tree to a single leaf; literals strictly fall, fidelity on the pruning
        rows never rises.
    """
    if tree.task != "classification":
        raise ParameterError("pruning_path prunes classification trees; got a regression tree.")
    X = np.asarray(X, dtype=float)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if X.ndim != 2 or X.shape[0] != labels.size or X.shape[0] == 0:
        raise ParameterError(
            f"pruning_path needs rows X (n, d) and one label per row, n >= 1; got X of shape "
            f"{X.shape} and {labels.size} labels.")
    w = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if w is not None and (w.size != labels.size or not np.all(np.isfinite(w)) or np.any(w < 0)
                          or w.sum() <= 0):
        raise ParameterError(f"pruning_path needs one finite weight >= 0 per row (not all 0); "
                             f"got {w.size} weights for {labels.size} rows.")
    if cost not in ("tree", "rules", "both"):
        raise ParameterError(f"cost must be 'tree', 'rules' or 'both'; got {cost!r}.")
    if cost == "both":
        return merged_frontier([pruning_path(tree, X, labels, weights=w, n_real=n_real, cost=c,
                                             one_condition=o)
                                for o in (False, True) for c in ("rules", "tree")])
    state = _State(tree, X, labels, w, cost, one_condition)
    total = labels.size if w is None else float(w.sum())
    order, at, corr, _, lits = state.evaluate()
    raw = [(state.snapshot(), lits[0], _mass(corr[0], w) / total, "start")]
    while state.left[0] >= 0:
        cands = _candidates(state, order, at, corr, lits)
        best = min(cands, key=lambda c: (c[0], c[1], c[2]))
        move = _apply(state, best[3], at)
        order, at, corr, _, lits = state.evaluate()
        raw.append((state.snapshot(), lits[0], _mass(corr[0], w) / total, move))
    # Pareto front: keep a tree only if every smaller tree is strictly less faithful.
    kept, best_after = [], -np.inf
    for item in reversed(raw):
        if item[2] > best_after or not kept:
            kept.append(item)
            best_after = max(best_after, item[2])
    kept.reverse()
    X_real = X if n_real is None else X[:n_real]
    return [PrunePoint(_materialise(s, tree, X_real), int(lit), fid, move)
            for s, lit, fid, move in kept]


def merged_frontier(paths: list[list[PrunePoint]]) -> list[PrunePoint]:
    """One size/fidelity frontier from several pruning paths of one tree on the same rows.

    Every tree of every path is sized by its rule view (``complexity()["conditions"]``, what
    ``max_literals`` bounds) and kept when it is strictly more faithful on the pruning rows than
    every tree with fewer literals (ties: the earlier path's tree). Largest first; the rule
    view's literals strictly fall along it and fidelity never rises. A path's own order is by
    the literals of the tree's tests, so the merged points need not keep that order.
    """
    sized = [(rule_literals(p.tree), -p.fidelity, k, i, p)
             for k, path in enumerate(paths) for i, p in enumerate(path)]
    kept, best = [], -np.inf
    for _, neg_fid, _, _, p in sorted(sized, key=lambda t: t[:4]):
        if -neg_fid > best + 1e-12:
            kept.append(p)
            best = -neg_fid
    return kept[::-1]


def select_max_literals(path: list[PrunePoint], max_literals: int,
                        count: Any = None) -> int:
    """Index of the first (largest) tree of ``path`` with at most ``max_literals`` literals.

    ``count(tree)`` gives a tree's literals (default: ``literals`` of the point). Because a
    count other than the path's own need not fall monotonically along it, the search bisects
    between a tree over the bound and one within it (the single leaf at the end is within any
    bound >= 0), so the tree returned is within the bound and the one before it is not.
    """
    if count is None:
        return next(i for i, p in enumerate(path) if p.literals <= max_literals)
    cache: dict[int, int] = {}

    def size(i: int) -> int:
        if i not in cache:
            cache[i] = int(count(path[i].tree))
        return cache[i]

    lo, hi = 0, len(path) - 1
    if size(lo) <= max_literals:
        return 0
    while hi - lo > 1:  # invariant: size(lo) > max_literals, size(hi) <= max_literals
        mid = (lo + hi) // 2
        if size(mid) <= max_literals:
            hi = mid
        else:
            lo = mid
    return hi


def rule_literals(tree: TreeSurrogate) -> int:
    """Literals of the tree's rule view (one rule per leaf): what ``max_literals`` bounds."""
    return int(tree.complexity()["conditions"])
