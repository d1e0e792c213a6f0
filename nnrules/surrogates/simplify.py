"""Exact logic for simplifying rules: tests decided by other conditions, and a tree's rule view.

Nothing here looks at data; every step is exact on rows that obey the schema (one-hot groups
with one hot column). The data-checked steps live in ``nnrules.extract.engines.simplify``.

Examples
--------
>>> from nnrules.surrogates.rules import Condition, MofN
>>> from nnrules.surrogates.simplify import reduce_test
>>> t = MofN(2, (Condition(0, "==", 1), Condition(1, "==", 1), Condition(2, "==", 1)))
>>> reduce_test(t, [Condition(0, "==", 1)])
MofN(m=1, conditions=(Condition(feature=1, op='==', value=1.0), Condition(feature=2, op='==', value=1.0)))
>>> reduce_test(t, [Condition(0, "==", 1), Condition(1, "==", 0)])
Condition(feature=2, op='==', value=1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nnrules.surrogates.rules import (
    Condition,
    LinearCondition,
    MofN,
    Rule,
    RuleSet,
    simplify_conditions,
)

if TYPE_CHECKING:
    from nnrules.surrogates.tree import TreeSurrogate

__all__ = ["contradictory", "reduce_test", "simplify_body", "tree_rules"]


def _decided(cond: Condition, known: Sequence[Condition], schema: Any) -> bool | None:
    """True / False when the conjunction ``known`` implies / contradicts ``cond``."""
    if simplify_conditions([*known, cond], schema=schema) is None:
        return False
    if simplify_conditions([*known, cond.negate()], schema=schema) is None:
        return True
    return None


def reduce_test(test: Condition | MofN, known: Sequence[Condition],
                schema: Any = None) -> Condition | MofN | bool:
    """``test`` given that every condition of ``known`` holds.

    Returns True / False when ``known`` decides it, else the test without the conditions
    ``known`` decides (an m-of-n's ``m`` drops by those that hold; one condition left is that
    condition).
    """
    if isinstance(test, Condition):
        d = _decided(test, known, schema)
        return test if d is None else d
    m, rest = test.m, []
    for c in test.conditions:
        d = _decided(c, known, schema)
        if d is None:
            rest.append(c)
        elif d:
            m -= 1
    if m <= 0:
        return True
    if m > len(rest):
        return False
    if len(rest) == 1:
        return rest[0]
    return MofN(m, tuple(rest))


def simplify_body(tests: Sequence[Condition | MofN],
                  schema: Any = None) -> tuple[Condition | MofN, ...] | None:
    """A conjunction of tests made canonical: plain conditions merged (``simplify_conditions``),
    m-of-n tests reduced by them, linear conditions kept as they are (opaque). None when the
    conjunction is contradictory."""
    flat: list = []
    for t in tests:  # "all of {...}" is a conjunction of plain conditions
        flat.extend(t.conditions if isinstance(t, MofN) and t.m == len(t.conditions) else (t,))
    tests = flat
    plain = simplify_conditions([t for t in tests if isinstance(t, Condition)], schema=schema)
    if plain is None:
        return None
    out: list = list(plain)
    for t in tests:  # linear conditions are opaque: kept, never decided by the others
        if isinstance(t, LinearCondition) and t not in out:
            out.append(t)
    for t in tests:
        if isinstance(t, MofN):
            r = reduce_test(t, plain, schema)
            if r is False:
                return None
            if r is True or r in out:
                continue
            out.append(r)
    # A single condition produced by a reduction may now merge with the plain ones.
    if any(isinstance(t, Condition) for t in out[len(plain):]):
        return simplify_body(out, schema)
    return tuple(out)


def contradictory(tests: Sequence[Condition | MofN], schema: Any = None) -> bool:
    """Whether no row (obeying ``schema``) satisfies every test (sound, not complete: an
    m-of-n test is used only through the plain conditions it is conjoined with)."""
    return simplify_body(tests, schema) is None


def tree_rules(tree: TreeSurrogate) -> RuleSet:
    """The tree as a short, exact rule set.

    One rule per leaf whose output is not the default. Each path is made canonical
    (:func:`simplify_body`), then its tests are dropped one at a time, tests with more
    conditions first, as long as the widened rule still meets no leaf of another output
    (checked with :func:`contradictory`). So every row that obeys the schema gets the tree's
    output: a rule's region stays inside leaves of its own output, and rows no rule covers lie
    in default leaves. The default is the output that leaves the fewest conditions in the
    rules (disjunctions and m-of-n tests count one extra), ties to fewer rules, then the
    smallest output.
    """
    outs = tree._leaf_outputs()
    regression = tree.task == "regression"
    paths = {}
    for leaf, p in tree.paths().items():
        body = simplify_body(p, tree.schema)
        if body is not None:
            paths[leaf] = body

    def key(leaf: int) -> Any:
        return float(outs[leaf]) if regression else int(outs[leaf])

    candidates = sorted({key(leaf) for leaf in paths}) or [key(0)]
    # A leaf's shortened rule does not depend on the default: made once, then filtered.
    leaf_rules = _leaf_rules(tree, paths, key)
    best = None
    for default in candidates:
        rules = [rule for rule in leaf_rules if rule.output != default]
        literals = sum(t.n_conditions() for r in rules for t in r.conditions)
        hard = sum(1 for r in rules for t in r.conditions
                   if isinstance(t, MofN) and t.m < len(t.conditions))
        score = (literals + hard, len(rules))
        if best is None or score < best[0]:
            best = (score, default, rules)
    _, default, rules = best
    return RuleSet(rules, default, ordered=False, classes=tree.classes, schema=tree.schema,
                   task=tree.task, n_features=tree.n_features)


def _boxes(bodies: list, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Each conjunction's plain conditions as a box ``low < x <= high`` per feature (m-of-n
    and ``!=`` tests left out, so each box holds its conjunction's region: boxes that do not
    meet mean conjunctions that do not meet)."""
    low = np.full((len(bodies), n_features), -np.inf)
    high = np.full((len(bodies), n_features), np.inf)
    for i, body in enumerate(bodies):
        for t in body:
            if not isinstance(t, Condition):
                continue
            j = t.feature
            if t.op == ">":
                low[i, j] = max(low[i, j], t.value)
            elif t.op == "<=":
                high[i, j] = min(high[i, j], t.value)
            elif t.op == "==":  # x == v as nextafter(v, -inf) < x <= v
                low[i, j] = max(low[i, j], np.nextafter(t.value, -np.inf))
                high[i, j] = min(high[i, j], t.value)
    return low, high


def _leaf_rules(tree: TreeSurrogate, paths: dict, key) -> list[Rule]:
    """One shortened rule per leaf: tests dropped while the rule stays off every leaf of
    another output. Leaves whose boxes cannot meet are skipped with one vectorised test, so
    the exact (schema-aware) check runs only on the few that might."""
    regression = tree.task == "regression"
    leaves = list(paths)
    n_features = max([t.feature for b in paths.values() for t in b if isinstance(t, Condition)]
                     + [max(tree.n_features or 1, 1) - 1]) + 1
    low, high = _boxes([paths[lf] for lf in leaves], n_features)
    outputs = np.array([key(lf) for lf in leaves], dtype=float)
    rules = []
    for i, leaf in enumerate(leaves):
        out = key(leaf)
        others = np.flatnonzero(outputs != outputs[i])
        current = list(paths[leaf])
        # Tests with more conditions (negated m-of-n tests) are tried first.
        order = sorted(range(len(current)), key=lambda i: (-current[i].n_conditions(), i))
        keep = [True] * len(current)
        for k in order:
            keep[k] = False
            trial = [t for t, kept in zip(current, keep, strict=True) if kept]
            t_low, t_high = _boxes([trial], n_features)
            meet = np.all(np.maximum(low[others], t_low) < np.minimum(high[others], t_high),
                          axis=1)
            if not all(contradictory([*trial, *paths[leaves[o]]], tree.schema)
                       for o in others[meet]):
                keep[k] = True
        final = tuple(t for t, kept in zip(current, keep, strict=True) if kept)
        v = tree.value[leaf]
        conf = float(v.max() / v.sum()) if not regression and v.sum() > 0 else float("nan")
        rules.append(Rule(final, out, int(tree.n_node_samples[leaf]), conf))
    return rules
