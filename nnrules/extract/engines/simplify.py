"""Simplification of trees and rule sets that never changes a prediction on the rows it checks.

Applied by ``tree`` and ``trepan`` after fitting (``simplify=True``, the default) and offered to
every rule-set method. Four steps, each either exact or checked on rows:

1. **Tests decided by the path** (exact on rows that obey the schema): a condition the path
   already implies or contradicts is removed (``x > 5`` under ``x > 7``; ``a1 == 2`` under
   ``a1_1 == 1`` in one one-hot group); an m-of-n test loses the conditions the path decides and
   its ``m`` drops by the ones that hold, so it may become a single condition or disappear.
2. **Simpler m-of-n tests** (checked): an m-of-n test is replaced by the simplest test (a
   single condition, then fewer conditions, conjunctions and disjunctions before other m-of-n
   tests) that gives the same answer on every real and generated row reaching its node.
3. **Branches no row reaches** (reported): a branch reached by none of the real rows and none of
   the generated rows becomes a leaf with its parent's class, and the report lists it with the
   class its leaves predicted before. This is the one step that can change a prediction: on a
   row of a region neither the data nor ``n_generated`` sampled rows visit.
4. **Sibling leaves with the same output** merge (exact), bottom-up, repeatedly.

Generated rows are drawn by ``nnrules.extract.engines.sampling`` (half "perturb", half "marginal"),
schema-valid, seeded. They are the surrogate's own rows: no network query is made.

Examples
--------
>>> import numpy as np
>>> from nnrules.surrogates.rules import Condition
>>> from nnrules.surrogates.tree import TreeSurrogate
>>> from nnrules.extract.engines.simplify import simplify_tree
>>> c = Condition(0, ">", 0.5)
>>> tree = TreeSurrogate([c, None, c, None, None], [1, -1, 3, -1, -1], [2, -1, 4, -1, -1],
...                      [[0.2, 0.8], [0, 1], [0.5, 0.5], [0, 1], [1, 0]])
>>> small, info = simplify_tree(tree, np.array([[0.0], [1.0]]))
>>> print(small.to_text())
if x0 > 0.5:
  -> 1  (leaf 1, n=1)
else:
  -> 0  (leaf 2, n=1)
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet
from nnrules.surrogates.simplify import reduce_test, simplify_body
from nnrules.surrogates.tree import TreeSurrogate, negate_test

__all__ = ["generate_rows", "simplest_equivalent", "simplify_rules", "simplify_tree"]

N_GENERATED = 20_000
MAX_SUBSET_CONDITIONS = 12  # m-of-n tests with more conditions are only reduced by the path


def generate_rows(schema: Any, X: np.ndarray, n: int = N_GENERATED, *,
                  random_state: int = 0) -> np.ndarray:
    """``n`` schema-valid rows modelled on ``X``: half near real rows, half from marginals."""
    from nnrules.extract.engines.sampling import QuerySampler

    if schema is None or n <= 0 or len(X) == 0:
        return np.empty((0, np.asarray(X).shape[1]))
    half = n // 2
    # X is extraction data, already checked against the schema: not checked again.
    first = QuerySampler(schema, X, method="perturb", random_state=random_state,
                         validate=False)
    a = first.sample(half)
    # Same rows, same data model: the marginal sampler reuses it (no second sort of X).
    b = first.sibling("marginal", random_state + 1).sample(n - half)
    return np.vstack([a, b])


# --------------------------------------------------------------------------- tests


def simplest_equivalent(test: MofN, X: np.ndarray) -> Condition | MofN:
    """The simplest test that agrees with ``test`` on every row of ``X`` (``test`` itself if
    none is simpler). Order: fewer conditions first; at equal size, a conjunction or a
    disjunction before another m-of-n; then the conditions' order."""
    n = len(test.conditions)
    if len(X) == 0 or n > MAX_SUBSET_CONDITIONS:
        return test
    H = np.column_stack([c.holds(X) for c in test.conditions]).astype(np.int64)
    target = H.sum(axis=1) >= test.m
    if target.all() or not target.any():
        return test  # constant on these rows: the path step or pruning handles it
    for size in range(1, n + 1):
        ms = [1] if size == 1 else [size, 1, *range(2, size)]
        for subset in itertools.combinations(range(n), size):
            counts = H[:, subset].sum(axis=1)
            for m in ms:
                if size == n and m == test.m:
                    continue
                if np.array_equal(counts >= m, target):
                    if size == 1:
                        return test.conditions[subset[0]]
                    return MofN(m, tuple(test.conditions[i] for i in subset))
    return test


def _single_code(cond: Condition, known: list[Condition], schema: Any) -> Condition:
    """``code <= 2`` under ``code > 1`` is ``code == 2`` (integer and categorical features,
    values within the schema's bounds); likewise ``!=`` when the other side holds one code."""
    if schema is None or cond.op not in ("<=", ">"):
        return cond
    f = schema.features[cond.feature]
    if f.kind not in ("integer", "categorical"):
        return cond
    lower = max([c.value for c in known if c.feature == cond.feature and c.op == ">"]
                + [f.lower - 0.5])
    upper = min([c.value for c in known if c.feature == cond.feature and c.op == "<="]
                + [f.upper])
    if not (np.isfinite(lower) and np.isfinite(upper)):
        return cond
    first, last = int(np.floor(lower)) + 1, int(np.floor(upper))
    cut = int(np.floor(cond.value))
    below = (first, min(cut, last))      # codes where "<= value" holds
    above = (max(cut + 1, first), last)  # codes where it fails
    for (a, b), holds in ((below, cond.op == "<="), (above, cond.op == ">")):
        if a == b:
            return Condition(cond.feature, "==" if holds else "!=", float(a))
    return cond


def _plain_known(path: list, schema: Any) -> list[Condition]:
    """The plain conditions a path implies (its conditions and its "all of" tests)."""
    body = simplify_body(path, schema)
    return [t for t in body or () if isinstance(t, Condition)]


# --------------------------------------------------------------------------- trees


def _output(tree: TreeSurrogate, value: np.ndarray) -> Any:
    return float(value[0]) if tree.task == "regression" else int(np.argmax(value))


def simplify_tree(tree: TreeSurrogate, X: np.ndarray, *, generated: np.ndarray | None = None,
                  prune_unreached: bool = True) -> tuple[TreeSurrogate, dict[str, Any]]:
    """Simplify a tree (see the module docstring); return it and a report.

    Parameters
    ----------
    tree : TreeSurrogate
    X : ndarray of shape (n_samples, n_features)
        Real rows (the extraction data).
    generated : ndarray of shape (n_generated, n_features), optional
        Generated rows (``generate_rows``); none by default.
    prune_unreached : bool, default=True
        Step 3 on (branches no row reaches take their parent's class).

    Returns
    -------
    (TreeSurrogate, dict)
        The simplified tree (nodes renumbered depth first) and ``{"before", "after"}`` sizes
        with what each step did.
    """
    X = np.asarray(X, dtype=float)
    G = np.empty((0, X.shape[1])) if generated is None else np.asarray(generated, dtype=float)
    R = _Stacked(X, G)  # the real rows then the generated ones, never copied into one array
    n_real = X.shape[0]
    schema = tree.schema
    tests: list = []
    left: list[int] = []
    right: list[int] = []
    value: list[np.ndarray] = []
    samples: list[int] = []
    info: dict[str, Any] = {"decided_by_path": 0, "mofn_simplified": [], "unreached": [],
                            "merged_leaves": 0}

    def add(test, val, n) -> int:
        tests.append(test)
        left.append(-1)
        right.append(-1)
        value.append(np.asarray(val, dtype=float))
        samples.append(int(n))
        return len(tests) - 1

    def leaf_outputs(u: int) -> list[str]:
        found, stack = set(), [u]
        while stack:
            v = stack.pop()
            if tree.left[v] < 0:
                found.add(tree._out_text(v))
            else:
                stack += [int(tree.left[v]), int(tree.right[v])]
        return sorted(found)

    def build(u: int, path: list, idx: np.ndarray) -> int:
        if tree.left[u] < 0:
            return add(None, tree.value[u], tree.n_node_samples[u])
        test = tree.tests[u]
        reduced = reduce_test(test, _plain_known(path, schema), schema)
        if not isinstance(reduced, bool):
            if simplify_body([*path, reduced], schema) is None:
                reduced = False
            elif simplify_body([*path, negate_test(reduced)], schema) is None:
                reduced = True
        if reduced is True or reduced is False:
            info["decided_by_path"] += 1
            return build(int(tree.left[u] if reduced else tree.right[u]), path, idx)
        if isinstance(reduced, Condition):
            reduced = _single_code(reduced, _plain_known(path, schema), schema)
        if reduced != test:
            info["decided_by_path"] += 1
        if isinstance(reduced, MofN):
            simpler = simplest_equivalent(reduced, R.rows(idx))
            if simpler != reduced:
                info["mofn_simplified"].append(
                    [reduced.to_text(schema), simpler.to_text(schema)])
                reduced = simpler
        holds = R.holds(reduced, idx) if idx.size else np.zeros(0, dtype=bool)
        me = add(reduced, tree.value[u], tree.n_node_samples[u])
        kids = []
        for child, mask, t in ((int(tree.left[u]), holds, reduced),
                               (int(tree.right[u]), ~holds, negate_test(reduced))):
            sub = idx[mask]
            changes = tree.left[child] >= 0 or not _same_output(
                tree, tree.value[child], tree.value[u])
            if prune_unreached and sub.size == 0 and changes:
                was, now = leaf_outputs(child), tree._out_text(u)
                if was != [now]:
                    info["unreached"].append({
                        "test": reduced.to_text(schema),
                        "branch": "holds" if t is reduced else "fails",
                        "predicted": was, "now": now})
                kids.append(add(None, tree.value[u], 0))
            else:
                kids.append(build(child, [*path, t], sub))
        left[me], right[me] = kids
        a, b = kids
        if tests[a] is None and tests[b] is None and \
                _same_output(tree, value[a], value[b]):
            info["merged_leaves"] += 1
            merged = _merge_values(tree, value[a], value[b], samples[a], samples[b])
            # The children are the last nodes added under ``me``: drop them.
            del tests[me + 1:], left[me + 1:], right[me + 1:], value[me + 1:], samples[me + 1:]
            tests[me], left[me], right[me] = None, -1, -1
            value[me] = merged
        return me

    build(0, [], np.arange(R.n_rows))
    out = TreeSurrogate(tests, left, right, np.array(value), classes=tree.classes,
                        schema=schema, task=tree.task, n_node_samples=samples)
    out.n_features = tree.n_features
    # Real-row counts per node recomputed on the new tree.
    out.n_node_samples = _reach_counts(out, X) if n_real else out.n_node_samples
    info["rows_checked"] = {"real": int(n_real), "generated": int(G.shape[0])}
    info["before"], info["after"] = _size(tree), _size(out)
    return out, info


def _same_output(tree: TreeSurrogate, a: np.ndarray, b: np.ndarray) -> bool:
    if tree.task == "regression":
        return bool(a[0] == b[0])
    return int(np.argmax(a)) == int(np.argmax(b))


def _merge_values(tree, a, b, na, nb) -> np.ndarray:
    # Two distributions with the same (first) argmax: their mean keeps it.
    return a.copy() if tree.task == "regression" else (a + b) / 2.0


class _Stacked:
    """The rows of ``X`` followed by those of ``G``, read by ascending row indices without
    stacking them: ``rows(idx)`` equals ``np.vstack([X, G])[idx]``, and a test reads only the
    columns it names (no copy of whole rows)."""

    def __init__(self, X: np.ndarray, G: np.ndarray):
        self.X, self.G, self.n_real = X, G, X.shape[0]
        self.n_rows = X.shape[0] + G.shape[0]

    def _split(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = int(np.searchsorted(idx, self.n_real))
        return idx[:k], idx[k:] - self.n_real

    def rows(self, idx: np.ndarray) -> np.ndarray:
        a, b = self._split(idx)
        return np.concatenate([self.X[a], self.G[b]])

    def column(self, idx: np.ndarray, j: int) -> np.ndarray:
        a, b = self._split(idx)
        if b.size == 0:
            return self.X[a, j]
        return np.concatenate([self.X[a, j], self.G[b, j]])

    def holds(self, test: Any, idx: np.ndarray) -> np.ndarray:
        """``test.holds(rows(idx))``: a condition on its one column, an m-of-n test as the count
        of its conditions (as ``MofN.holds``), anything else on whole rows."""
        if type(test) is Condition:
            # The same comparison Condition.holds makes, on the one column it reads.
            return Condition(0, test.op, test.value).holds(self.column(idx, test.feature)[:, None])
        if type(test) is MofN and all(type(c) is Condition for c in test.conditions):
            count = np.zeros(idx.size, dtype=np.int64)
            for c in test.conditions:
                count += self.holds(c, idx)
            return count >= test.m
        return test.holds(self.rows(idx))


def _reach_counts(tree: TreeSurrogate, X: np.ndarray) -> np.ndarray:
    """Rows of ``X`` reaching each node (a row goes left where its node's test holds)."""
    counts = np.zeros(len(tree.tests), dtype=np.int64)
    R = _Stacked(X, X[:0])
    stack = [(0, np.arange(X.shape[0]))]
    while stack:  # each node's rows split by its test: depth passes over X in all
        u, rows = stack.pop()
        counts[u] = rows.size
        if tree.left[u] < 0:
            continue
        h = R.holds(tree.tests[u], rows) if rows.size else np.zeros(0, dtype=bool)
        stack += [(int(tree.left[u]), rows[h]), (int(tree.right[u]), rows[~h])]
    return counts


def _size(s: Any) -> dict[str, Any]:
    c = s.complexity()
    keys = ("leaves", "nodes", "depth", "rules", "conditions")
    return {k: c[k] for k in keys if k in c}


# --------------------------------------------------------------------------- rule sets


def simplify_rules(rules: RuleSet, X: np.ndarray, *, generated: np.ndarray | None = None,
                   prune_unreached: bool = True) -> tuple[RuleSet, dict[str, Any]]:
    """Simplify a rule set (first firing rule decides, as ``RuleSet.explain``).

    Per rule, in order: its conditions are reduced by its own plain conditions (exact; a
    contradictory body drops the rule); each m-of-n test becomes the simplest one that agrees
    on the rows the rule decides or could decide; a rule that decides no row (real or generated)
    is dropped when ``prune_unreached`` (reported). Rules at the end that give the default's
    output are dropped (exact: their rows get the default anyway).

    Returns
    -------
    (RuleSet, dict)
    """
    X = np.asarray(X, dtype=float)
    G = np.empty((0, X.shape[1])) if generated is None else np.asarray(generated, dtype=float)
    R = np.vstack([X, G])
    schema = rules.schema
    info: dict[str, Any] = {"contradictory": 0, "decided_by_body": 0, "mofn_simplified": [],
                            "unreached": [], "redundant": 0}
    kept: list[Rule] = []
    undecided = np.ones(R.shape[0], dtype=bool)
    for rule in rules.rules:
        body = simplify_body(rule.conditions, schema)
        if body is None:
            info["contradictory"] += 1
            continue
        if body != tuple(rule.conditions):
            info["decided_by_body"] += 1
        conds: list = list(body)
        # Rows where the plain part holds and no earlier rule fired: the m-of-n tests' rows.
        where = undecided & Rule(tuple(c for c in conds if isinstance(c, Condition)),
                                 rule.output).holds(R)
        for i, t in enumerate(conds):
            if isinstance(t, MofN):
                s = simplest_equivalent(t, R[where])
                if s != t:
                    info["mofn_simplified"].append([t.to_text(schema), s.to_text(schema)])
                    conds[i] = s
        new = Rule(tuple(conds), rule.output, rule.support, rule.confidence)
        fires = undecided & new.holds(R)
        if prune_unreached and not fires.any():
            info["unreached"].append(new.body_text(schema))
            continue
        kept.append(new)
        undecided &= ~fires
    # Last rules that only repeat the default's output add nothing (first firing rule decides).
    while kept and kept[-1].output == rules.default:
        kept.pop()
        info["redundant"] += 1
    out = RuleSet(kept, rules.default, ordered=rules.ordered, classes=rules.classes,
                  schema=schema, task=rules.task, n_features=rules.n_features)
    info["rows_checked"] = {"real": int(X.shape[0]), "generated": int(G.shape[0])}
    info["before"], info["after"] = _size(rules), _size(out)
    return out, info
