"""Structural checks of surrogates read from files: one function per surrogate kind.

A surrogate file is input like any other: it may have been edited by hand, truncated, or made to
hurt. Each ``from_dict`` builds its object and hands it to the check for its kind before anyone
predicts with it, so a file that would loop (a tree node pointing back to an ancestor), index
out of range (a feature index of 10**30, a transition to a state that does not exist) or compute
with NaN is refused here, with a ``FormatError`` that says what is wrong and where.

What is checked:

* trees: nodes form one tree rooted at node 0 (no cycles, no node with two parents, every
  node reachable, children in range); node values finite and as wide as the classes;
* every test (trees, rule sets): feature index within the schema's width, threshold finite,
  m-of-n ``m`` in range; linear conditions: one finite weight per feature, features in range;
* rule sets: outputs (and the default) are class indices in range, or finite values;
* boxes: bounds are numbers or ±inf (never NaN), ``lower <= upper``, outputs among the classes
  (regression: finite ranges with ``lo <= hi``), fallback leaves alike;
* additive models: columns within the width, edges and coefficients finite;
* automata: transitions total, each (state, symbol) given once, every state and symbol in range.

The width of a surrogate (``n_features``) must equal its schema's when it has one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nnrules.exceptions import FormatError

__all__ = [
    "check_additive",
    "check_automaton_transitions",
    "check_boxes",
    "check_ruleset",
    "check_tree",
]

#: Widest surrogate a file may describe (features per row).
MAX_FEATURES = 10_000_000


def _fail(kind: str, what: str) -> FormatError:
    return FormatError(f"Malformed nnrules/{kind} file: {what}. Re-create it with nnrules "
                       "extract.")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _width(kind: str, n_features: Any, schema: Any) -> int:
    """The surrogate's width, checked against its schema's."""
    if not _is_int(n_features) or not 0 <= n_features <= MAX_FEATURES:
        raise _fail(kind, f"n_features must be an int in [0, {MAX_FEATURES}]; got "
                          f"{n_features!r}")
    if schema is not None and int(n_features) != schema.n_features:
        raise _fail(kind, f"n_features is {n_features} but the schema has "
                          f"{schema.n_features} features")
    return int(n_features)


def _finite(kind: str, values: Any, where: str) -> None:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        flat = arr.ravel()
        raise _fail(kind, f"{where} must be finite numbers; got "
                          f"{flat[~np.isfinite(flat)][:3].tolist()}")


def _check_tests(kind: str, tests: Iterable[Any], width: int, where: str) -> None:
    """Feature indices within ``width``, finite thresholds (Condition / MofN / None)."""
    for i, test in enumerate(tests):
        if test is None:
            continue
        if hasattr(test, "weights"):
            _check_linear(kind, test, width, f"{where} {i}")
            continue
        conditions = getattr(test, "conditions", None) or (test,)
        for c in conditions:
            if not 0 <= c.feature < width:
                raise _fail(kind, f"{where} {i} tests feature {c.feature}, outside the "
                                  f"{width} features 0..{width - 1}")
            if not math.isfinite(c.value):
                raise _fail(kind, f"{where} {i} has threshold {c.value!r}; thresholds must be "
                                  "finite")


def _check_linear(kind: str, test: Any, width: int, where: str) -> None:
    """A linear condition: as many weights as features, each feature in range, every weight
    and the value finite (its constructor checks these too; files are checked again here)."""
    feats, weights = tuple(test.features), tuple(test.weights)
    if len(feats) != len(weights) or not feats:
        raise _fail(kind, f"{where} is a linear condition with {len(feats)} features and "
                          f"{len(weights)} weights; it needs one weight per feature (at least one)")
    bad = [j for j in feats if not 0 <= j < width]
    if bad:
        raise _fail(kind, f"{where} weighs feature {bad[0]}, outside the {width} features "
                          f"0..{width - 1}")
    _finite(kind, [*weights, test.value], f"{where}'s weights and value")


def _class_index(kind: str, value: Any, n_classes: int, where: str) -> None:
    ok = _is_int(value) or (isinstance(value, float) and value.is_integer())
    if not ok or not 0 <= int(value) < n_classes:
        raise _fail(kind, f"{where} is {value!r}; it must be a class index in 0..{n_classes - 1}")


def check_tree(tree: Any) -> Any:
    """``tree`` (a TreeSurrogate) if its nodes form one tree over in-range features.

    Raises
    ------
    FormatError
        A child index out of range, a node reached twice (a cycle or a shared child), a node
        the root never reaches, a test on a feature outside the width, a non-finite threshold
        or node value, or values not as wide as the classes.
    """
    kind = "tree"
    n = len(tree.tests)
    left, right = tree.left, tree.right
    for name, child in (("left", left), ("right", right)):
        bad = np.flatnonzero((child < -1) | (child >= n))
        if bad.size:
            i = int(bad[0])
            raise _fail(kind, f"node {i} has {name} child {int(child[i])}; children are node "
                              f"indices 0..{n - 1} (or -1 at leaves)")
    seen = np.zeros(n, dtype=bool)
    seen[0] = True
    stack = [0]
    while stack:
        u = stack.pop()
        if left[u] < 0:
            continue
        for v in (int(left[u]), int(right[u])):
            if seen[v]:
                what = "the root" if v == 0 else f"node {v}"
                raise _fail(kind, f"node {u} points to {what}, which is already in the tree: "
                                  "nodes must form a tree (no cycles, no shared children)")
            seen[v] = True
            stack.append(v)
    if not seen.all():
        raise _fail(kind, f"node {int(np.flatnonzero(~seen)[0])} is not reachable from the "
                          "root (node 0)")
    width = _width(kind, tree.n_features, tree.schema)
    _check_tests(kind, tree.tests, width, "node")
    _finite(kind, tree.value, "node values")
    if tree.task == "classification" and tree.value.shape[1] != len(tree.classes or ()):
        raise _fail(kind, f"node values have {tree.value.shape[1]} entries but there are "
                          f"{len(tree.classes or ())} classes")
    return tree


def check_ruleset(rules: Any) -> Any:
    """``rules`` (a RuleSet) if every test, output and the default are in range."""
    kind = "ruleset"
    width = _width(kind, rules.n_features, rules.schema)
    for r, rule in enumerate(rules.rules):
        _check_tests(kind, rule.conditions, width, f"rule {r}, condition")
    outputs = [(f"rule {r}'s output", rule.output) for r, rule in enumerate(rules.rules)]
    outputs.append(("the default", rules.default))
    for where, value in outputs:
        if rules.task == "classification":
            _class_index(kind, value, len(rules.classes or ()), where)
        elif not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value):
            raise _fail(kind, f"{where} is {value!r}; regression outputs are finite numbers")
    return rules


def _check_bounds(kind: str, lower: np.ndarray, upper: np.ndarray, where: str) -> None:
    if np.isnan(lower).any() or np.isnan(upper).any():
        raise _fail(kind, f"{where} bounds must be numbers or null; got NaN")
    bad = np.argwhere(lower > upper)
    if bad.size:
        k, j = (int(v) for v in bad[0])
        raise _fail(kind, f"{where} {k} has lower bound {float(lower[k, j])!r} above upper "
                          f"bound {float(upper[k, j])!r} for feature {j}")


def _check_outputs(kind: str, outputs: Sequence[Any], task: str, classes: Any,
                   where: str) -> None:
    if task == "regression":
        for k, out in enumerate(outputs):
            lo, hi = (out if isinstance(out, (tuple, list)) else (out, out))[:2]
            if not (math.isfinite(float(lo)) and math.isfinite(float(hi)) and lo <= hi):
                raise _fail(kind, f"{where} {k} has output {out!r}; it must be finite with "
                                  "low <= high")
        return
    labels = list(classes or ())
    for k, out in enumerate(outputs):
        if out not in labels:
            raise _fail(kind, f"{where} {k} answers {out!r}, which is not one of the classes "
                              f"{labels!r}")


def check_boxes(boxes: Any) -> Any:
    """``boxes`` (a BoxRuleSet) if every bound is a number, boxes are not inverted and every
    output is a class (or a finite range)."""
    kind = "boxes"
    if boxes.task not in ("classification", "regression"):
        raise _fail(kind, f"task is {boxes.task!r}; it must be 'classification' or "
                          "'regression'")
    if boxes.fallback not in ("tree", "abstain"):
        raise _fail(kind, f"fallback kind is {boxes.fallback!r}; it must be 'tree' or 'abstain'")
    _check_bounds(kind, boxes.lower, boxes.upper, "box")
    _check_outputs(kind, list(boxes.outputs), boxes.task, boxes.classes, "box")
    if boxes.fallback == "tree":
        if np.isnan(boxes.fallback_lower).any() or np.isnan(boxes.fallback_upper).any():
            raise _fail(kind, "fallback leaf bounds must be numbers or null; got NaN")
        if len(boxes.fallback_outputs) != boxes.fallback_lower.shape[0]:
            raise _fail(kind, "the fallback tree needs one output per leaf")
        if boxes.task == "regression":
            _finite(kind, [float(v) for v in boxes.fallback_outputs], "fallback leaf outputs")
        else:
            _check_outputs(kind, list(boxes.fallback_outputs), boxes.task, boxes.classes,
                           "fallback leaf")
    return boxes


def check_additive(model: Any) -> Any:
    """``model`` (an AdditiveSurrogate) if its columns are in range and its numbers finite."""
    kind = "additive"
    width = _width(kind, model.n_features, model.schema)
    _finite(kind, model.intercept, "the intercept")
    for i, term in enumerate(model.terms):
        for axis in term.axes:
            bad = [c for c in axis.columns if not 0 <= c < width]
            if bad:
                raise _fail(kind, f"term {i} reads column {bad[0]}, outside the {width} "
                                  f"features 0..{width - 1}")
            _finite(kind, axis.edges, f"term {i}'s edges")
        _finite(kind, term.coef, f"term {i}'s coefficients")
    return model


def check_automaton_transitions(transitions: Any, n_states: int,
                                alphabet: Sequence[str]) -> list[tuple[int, int, int]]:
    """``(from, symbol index, to)`` of every transition, checked: states in ``0..n-1``, symbols
    of the alphabet, each (state, symbol) exactly once, none missing (a total machine)."""
    kind = "automaton"
    if not isinstance(transitions, list):
        raise _fail(kind, f"'transitions' must be a list; got {type(transitions).__name__}")
    index = {a: i for i, a in enumerate(alphabet)}
    seen: set[tuple[int, int]] = set()
    out = []
    for t in transitions:
        if not isinstance(t, Mapping):
            raise _fail(kind, f"a transition must be an object; got {t!r}")
        src, dst, symbol = t.get("from"), t.get("to"), t.get("symbol")
        for name, state in (("from", src), ("to", dst)):
            if not _is_int(state) or not 0 <= state < n_states:
                raise _fail(kind, f"transition {name!r} state {state!r} is not a state "
                                  f"0..{n_states - 1}")
        if not isinstance(symbol, str) or symbol not in index:
            raise _fail(kind, f"transition symbol {symbol!r} is not in the alphabet "
                              f"{list(alphabet)!r}")
        key = (int(src), index[symbol])
        if key in seen:
            raise _fail(kind, f"state {src} has two transitions on {symbol!r}")
        seen.add(key)
        out.append((int(src), index[symbol], int(dst)))
    if len(seen) != n_states * len(alphabet):
        missing = next((s, a) for s in range(n_states) for a in alphabet
                       if (s, index[a]) not in seen)
        raise _fail(kind, f"state {missing[0]} has no transition on {missing[1]!r}: an "
                          "automaton must be total")
    return out
