"""Inputs -> one hidden cluster, and the final minimisation on a discrete domain (``setiono``).

A cluster boundary ``h[j] > b`` of a unit is the interval ``z_j > act^-1(b)`` of its
pre-activation ``z_j = W1[j] . x + b1[j]`` (activations are monotone). :class:`InputRules` turns
it into a DNF on the inputs:

* exactly, when the unit's remaining inputs are one-hot groups, binary columns and integer
  columns of at most ``MAX_INT_VALUES`` values (by the schema's bounds), with at most
  ``max_combinations`` combinations: ``z_j`` is evaluated on every combination and the true
  ones are covered by short cubes (:func:`~nnrules.extract.decompose.cover.cover`);
* exactly, when the unit reads a single input: one threshold on it (up to the measure-zero
  boundary point, which ``<=`` / ``>`` place on one side);
* otherwise by a tree learned on the training rows and generated rows (the sampling engine's
  ``perturb`` model: real rows with features re-drawn from their marginals and continuous ones
  jittered, so the queries stay on the data's manifold), each labelled exactly by the
  pre-activation (then the rules are no longer exact), or by an M-of-N test (searched, or for
  a unit reading only continuous inputs a staircase read from its weights) when that is about
  as faithful as the tree — or, with
  ``oblique=True``, exactly by one oblique condition on the pre-activation itself,
  ``w . x > act^-1(b) - b1[j]`` (weights scaled so the largest is 1 in magnitude), a
  :class:`~nnrules.surrogates.linear.LinearCondition`.

:func:`conjoin_oblique` multiplies out DNFs that hold linear conditions (the engine's
``conjoin`` reads axis conditions only).

:func:`minimise_on_domain` re-minimises exact rules on the discrete domain of the inputs they
read: each class's points become a short DNF (an equivalence on that domain).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nnrules.extract.decompose.cluster import inverse_activation
from nnrules.extract.decompose.cover import Cube, cover
from nnrules.extract.decompose.mofn import candidate_conditions, learn_mofn, negate_mofn
from nnrules.extract.decompose.staircase import mixed_staircase_mofn, staircase_mofn
from nnrules.extract.decompose.terms import clause_mask, learn_clauses
from nnrules.surrogates.rules import (
    Condition,
    LinearCondition,
    MofN,
    Rule,
    RuleSet,
    simplify_conditions,
)

__all__ = ["InputRules", "conjoin_oblique", "minimise_on_domain", "writes_exactly"]

Clause = tuple[Condition, ...]
# ("onehot", group columns, value indices) or ("int", (column,), the integer values)
Attr = tuple[str, tuple[int, ...], tuple[int, ...]]
MAX_INT_VALUES = 16  # an integer column with at most this many values (bounds) is enumerated
MAX_QUERIES = 50_000  # most generated rows the trees learn from
MOFN_CONDITIONS = 16  # most conditions of an M-of-N test
MOFN_GAIN = 0.002  # an M-of-N condition must raise the rows agreeing by this fraction
# An M-of-N test replaces a tree when it agrees with the boundary on at most this fraction of
# the rows fewer than the tree's leaves (5-fold CV on the training rows of breast cancer, the
# credit stand-in and German credit: 0.02 and 0.03 cost breast cancer). The rows: those both
# learned from (training and generated), each labelled exactly; judging on the training rows
# alone favoured trees (CV on 7 breast-cancer networks with staircases 0.975 / 0.967 against
# 0.977 / 0.975; 6 German networks 0.809 / 0.704 against 0.811 / 0.704).
MOFN_MARGIN = 0.01


def _attributes(columns: Sequence[int], schema: Any) -> list[Attr] | None:
    """The discrete attributes covering ``columns`` — one-hot groups, binary columns, integer
    columns whose schema bounds span at most ``MAX_INT_VALUES`` values — or None if one of the
    columns is none of these."""
    attrs: list[Attr] = []
    seen_groups: set[str] = set()
    for j in sorted(int(c) for c in columns):
        f = schema.features[j] if schema is not None else None
        if f is None:
            return None
        if f.kind == "onehot":
            if f.group not in seen_groups:
                seen_groups.add(f.group)
                cols = tuple(schema.groups[f.group])
                attrs.append(("onehot", cols, tuple(range(len(cols)))))
        elif f.kind == "binary":
            attrs.append(("int", (j,), (0, 1)))
        elif (f.kind == "integer" and f.lower is not None and f.upper is not None
              and np.isfinite(f.lower) and np.isfinite(f.upper)
              and f.upper - f.lower + 1 <= MAX_INT_VALUES):
            attrs.append(("int", (j,), tuple(range(int(np.ceil(f.lower)),
                                                   int(np.floor(f.upper)) + 1))))
        else:
            return None
    return attrs


def _sizes(attrs: list[Attr]) -> list[int]:
    return [len(values) for _, _, values in attrs]


def _ordered(attrs: list[Attr]) -> list[bool]:
    return [kind == "int" for kind, _, _ in attrs]


def _domain(attrs: list[Attr]) -> np.ndarray:
    D = np.array(list(itertools.product(*[range(s) for s in _sizes(attrs)])), dtype=np.int64)
    return D.reshape(-1, len(attrs))


def _domain_size(attrs: list[Attr]) -> int:
    return math.prod(int(s) for s in _sizes(attrs))  # exact: floats overflow past ~2**1024


def _enumerable(columns: Sequence[int], schema: Any, max_combinations: int
                ) -> list[Attr] | None:
    """The discrete attributes of ``columns`` when they have at most ``max_combinations``
    combinations (so they can be enumerated), else None."""
    attrs = _attributes(columns, schema)
    return attrs if attrs is not None and _domain_size(attrs) <= max_combinations else None


def _rows(D: np.ndarray, attrs: list[Attr], n_features: int) -> np.ndarray:
    """The input rows of the domain's points (columns no attribute names are 0)."""
    X = np.zeros((len(D), n_features))
    for a, (kind, cols, values) in enumerate(attrs):
        if kind == "onehot":
            X[np.arange(len(D)), np.asarray(cols)[D[:, a]]] = 1.0
        else:
            X[:, cols[0]] = np.asarray(values, dtype=np.float64)[D[:, a]]
    return X


def _clause(cube: Cube, attrs: list[Attr]) -> Clause:
    out: list[Condition] = []
    for allowed, (kind, cols, values) in zip(cube, attrs):
        size = len(values)
        if len(allowed) == size:
            continue
        if kind == "int":  # an interval of values (ordered attribute)
            lo, hi = min(allowed), max(allowed)
            if lo > 0:
                out.append(Condition(cols[0], ">", values[lo] - 0.5))
            if hi < size - 1:
                out.append(Condition(cols[0], "<=", values[hi] + 0.5))
        elif len(allowed) == 1:
            (v,) = allowed
            out.append(Condition(cols[v], ">", 0.5))
        else:
            out.extend(Condition(cols[v], "<=", 0.5) for v in range(size) if v not in allowed)
    return tuple(sorted(out))


def writes_exactly(net, schema: Any, *, max_combinations: int, oblique: bool) -> bool:
    """Whether :class:`InputRules` writes every kept unit's cluster boundaries of ``net``
    without learning one: the unit reads nothing, or discrete inputs it can enumerate, or a
    single input, or (``oblique``) several (the cases of ``InputRules._learn`` before its
    tree)."""
    for j, c in enumerate(net.clusters):
        cols = np.flatnonzero(net.W1[j])
        if c is None or len(cols) <= 1 or oblique:
            continue
        if _enumerable(cols, schema, max_combinations) is None:
            return False
    return True


class InputRules:
    """Input DNFs for hidden-unit conditions of a pruned, clustered :class:`OneLayerNet`.

    Parameters
    ----------
    net : OneLayerNet
    X : ndarray of shape (n_samples, n_features)
        Training rows (for masks and for the trees).
    schema : FeatureSchema
    max_combinations : int
        Largest enumeration of a unit's inputs.
    max_leaves, max_depth, min_samples_leaf, seed
        The trees' limits and tie-breaking seed.
    queries : int, default=16
        A tree learns from the training rows and this many generated rows per training row (at
        most ``MAX_QUERIES`` in all; drawn once, seeded), each labelled exactly by the unit's
        pre-activation; 0 uses the training rows only.
    oblique : bool, default=False
        Write a unit with several continuous inputs as one oblique condition on its
        pre-activation (exact) instead of learning a tree.
    mofn : bool, default=False
        Learn an M-of-N test too (:func:`~nnrules.extract.decompose.mofn.learn_mofn`) where a
        tree is learned, on the same rows and labels (and, for a unit reading only continuous
        inputs, a staircase read from its weights), and keep it instead of the tree's leaves
        when, on those rows, it agrees with the boundary on no fewer rows than the leaves minus
        ``MOFN_MARGIN`` of the rows.
    mofn_conditions : int, default=16
        Steps of the staircase M-of-N test built from a unit's weights when all its inputs are
        continuous (:mod:`~nnrules.extract.decompose.staircase`).
    mixed_conditions : int or None, default=None
        Steps (copies of a repeated condition counted) of the staircase built when a unit
        reads one-hot or binary inputs too; None: none.

    Attributes
    ----------
    exact : bool
        False once any condition was learned by a tree.
    """

    def __init__(self, net, X: np.ndarray, schema: Any, *, max_combinations: int,
                 max_leaves: int, max_depth: int | None, min_samples_leaf: int, seed: int,
                 queries: int = 16, oblique: bool = False, mofn: bool = False,
                 mofn_conditions: int = 16, mixed_conditions: int | None = None):
        self.net, self.X, self.schema = net, X, schema
        self.max_combinations = max_combinations
        self.max_leaves, self.max_depth = max_leaves, max_depth
        self.min_samples_leaf, self.seed = min_samples_leaf, seed
        self.queries = queries
        self._generated: np.ndarray | None = None
        self.oblique = oblique
        self.n_oblique = 0  # cluster boundaries written as oblique conditions
        self.mofn = mofn
        self.mofn_conditions = mofn_conditions
        self.mixed_conditions = mixed_conditions
        self.n_mofn = 0  # cluster boundaries written as M-of-N tests
        self.exact = True
        self._cache: dict[tuple[int, float], tuple[list[Clause], list[Clause]]] = {}

    def dnf(self, cond: Condition, tick: Callable[[], None] | None = None
            ) -> list[tuple[Clause, np.ndarray]]:
        """Clauses on the inputs (with their training-row masks) equivalent to ``cond``, a
        condition ``h[j] > b`` or ``h[j] <= b`` on the hidden activations."""
        key = (cond.feature, cond.value)
        if key not in self._cache:
            if tick is not None:
                tick()
            self._cache[key] = self._learn(cond.feature, cond.value)
        true, false = self._cache[key]
        clauses = true if cond.op == ">" else false
        return [(c, clause_mask(c, self.X)) for c in clauses]

    def _augmented(self) -> np.ndarray:
        """Training rows plus generated ones (drawn once): the tree learns a linear boundary
        from more points than the data has, each labelled exactly."""
        if self.queries == 0:
            return self.X
        if self._generated is None:
            from nnrules.extract.engines.sampling import sample_queries

            n = min(self.queries * len(self.X), MAX_QUERIES)
            Q = sample_queries(self.schema, self.X, n, random_state=self.seed,
                               method="perturb")
            self._generated = np.vstack([self.X, Q])
        return self._generated

    def _learn(self, j: int, b: float) -> tuple[list[Clause], list[Clause]]:
        net = self.net
        theta = inverse_activation(net.act.kind, b, net.act.alpha)
        w, bias = net.W1[j], float(net.b1[j])
        cols = np.flatnonzero(w)
        if not np.isfinite(theta) or len(cols) == 0:
            holds = bool(bias > theta)
            return ([()] if holds else []), ([] if holds else [()])
        attrs = _enumerable(cols, self.schema, self.max_combinations)
        if attrs is not None:
            D = _domain(attrs)
            z = _rows(D, attrs, len(w)) @ w + bias
            on = z > theta
            kw = {"sizes": _sizes(attrs), "ordered": _ordered(attrs)}
            return ([_clause(c, attrs) for c in cover(D, on, **kw)],
                    [_clause(c, attrs) for c in cover(D, ~on, **kw)])
        if len(cols) == 1:
            i = int(cols[0])
            t = (theta - bias) / float(w[i])
            above, below = (Condition(i, ">", t),), (Condition(i, "<=", t),)
            return ([above], [below]) if w[i] > 0 else ([below], [above])
        if self.oblique:
            scale = float(np.max(np.abs(w[cols])))
            above = LinearCondition.make({int(i): float(w[i]) / scale for i in cols}, ">",
                                         (theta - bias) / scale)
            self.n_oblique += 1
            return [(above,)], [(above.negate(),)]
        self.exact = False
        A = self._augmented()
        target = (A @ w + bias > theta).astype(np.int64)
        scale = len(A) / len(self.X)
        leaves = learn_clauses(A, target, min_samples_leaf=max(1, round(self.min_samples_leaf
                                                                        * scale)),
                               max_depth=self.max_depth, max_leaves=self.max_leaves,
                               columns=cols, schema=self.schema, random_state=self.seed)
        if self.mofn:
            test = self._mofn(A, target.astype(bool), cols, leaves,
                              staircase=(w, bias, theta))
            if test is not None:
                self.n_mofn += 1
                return [(test,)], [(negate_mofn(test),)]
        return ([lf.clause for lf in leaves if lf.value == 1],
                [lf.clause for lf in leaves if lf.value == 0])

    def _mofn(self, A: np.ndarray, truth: np.ndarray, cols: np.ndarray, leaves,
              staircase: tuple[np.ndarray, float, float]) -> MofN | None:
        """An M-of-N test for the boundary, or None when the tree's leaves agree with the
        boundary on more of their rows (training and generated) than the test does plus
        ``MOFN_MARGIN`` of them (one test is preferred to many leaves when it is about as
        faithful).

        The test is searched for on the tree's rows (:func:`learn_mofn`); the staircase read
        from the unit's weights is built too — with ``mofn_conditions`` steps
        (:func:`~nnrules.extract.decompose.staircase.staircase_mofn`) when every input it
        reads is continuous, else with ``mixed_conditions`` steps, a one-hot or binary
        condition repeated as often as its weight is worth steps
        (:func:`~nnrules.extract.decompose.staircase.mixed_staircase_mofn`) — and the one
        agreeing with the boundary on more of those rows is the candidate (ties: the
        search's).
        """
        test, right_a = learn_mofn(A, truth, candidate_conditions(self.X, cols),
                                   max_conditions=MOFN_CONDITIONS,
                                   min_gain=max(1, round(MOFN_GAIN * len(A))))
        w, bias, theta = staircase
        stair = None
        if self._continuous(cols):
            stair = staircase_mofn(w, bias, theta, cols, A, n_conditions=self.mofn_conditions)
        elif self.schema is not None and self.mixed_conditions:  # conditions repeated
            stair = mixed_staircase_mofn(w, bias, theta, cols, A, self.schema,
                                         n_conditions=self.mixed_conditions)
        if stair is not None:
            stair_right = int(np.sum(stair.holds(A) == truth))
            if test is None or stair_right > right_a:
                test, right_a = stair, stair_right
        if test is None:
            return None
        # Both are judged on the rows they were learned from, each labelled exactly.
        tree_right = sum(int(np.sum(truth[clause_mask(lf.clause, A)] == bool(lf.value)))
                         for lf in leaves)
        return test if right_a + MOFN_MARGIN * len(A) >= tree_right else None

    def _continuous(self, cols: np.ndarray) -> bool:
        """Whether every column is continuous or an integer column (no one-hot or binary
        input, whose one condition is worth its whole weight: such units get the mixed
        staircase, where that condition is repeated)."""
        if self.schema is None:
            return False
        return all(self.schema.features[int(j)].kind in ("continuous", "integer")
                   for j in cols)


def minimise_on_domain(candidates: Sequence[tuple[Clause, int]], default: int, X: np.ndarray,
                       labels: np.ndarray, schema: Any, classes: tuple, *,
                       max_combinations: int, tick: Callable[[], None] | None = None
                       ) -> RuleSet | None:
    """The decision list ``candidates`` (then ``default``) as short per-class DNFs on the
    discrete domain of the inputs it reads; None when an input is not discrete or the domain
    has more than ``max_combinations`` points.

    The default becomes the class with the most cubes (fewest rules); rules of the other
    classes follow in class order, each class's cubes sorted. On the domain the result decides
    every point as ``candidates`` do.
    """
    if any(isinstance(c, LinearCondition) for clause, _ in candidates for c in clause):
        return None  # an oblique condition reads continuous inputs: no discrete domain
    used = sorted({c.feature for clause, _ in candidates for c in clause})
    attrs = _enumerable(used, schema, max_combinations)
    if attrs is None:
        return None
    D = _domain(attrs)
    rows = _rows(D, attrs, X.shape[1])
    cls = np.full(len(D), default, dtype=np.int64)
    for clause, k in reversed(list(candidates)):
        cls[clause_mask(clause, rows)] = k
    covers = {k: cover(D, cls == k, sizes=_sizes(attrs), ordered=_ordered(attrs), tick=tick)
              for k in np.unique(cls).tolist()}
    counts = np.bincount(labels, minlength=len(classes))
    new_default = max(covers, key=lambda k: (len(covers[k]), counts[k], -k))
    rules = []
    for k in sorted(covers):
        if k == new_default:
            continue
        for cube in covers[k]:
            clause = _clause(cube, attrs)
            mask = clause_mask(clause, X)
            conf = float(np.mean(labels[mask] == k)) if mask.any() else 0.0
            rules.append(Rule(clause, int(k), int(mask.sum()), conf))
    return RuleSet(rules, int(new_default), ordered=True, classes=classes, schema=schema,
                   n_features=X.shape[1])


def conjoin_oblique(dnfs: Sequence[Sequence[tuple[Clause, np.ndarray]]], n_rows: int, *,
                    min_support: int, beam: int, schema: Any = None,
                    tick: Callable[[], None] | None = None
                    ) -> tuple[list[Clause], list[np.ndarray], bool]:
    """Multiply out a conjunction of DNFs whose clauses may hold linear conditions.

    As the engine's ``conjoin``: partial clauses are merged with
    :func:`~nnrules.surrogates.rules.simplify_conditions` (linear conditions kept as they
    are), dropped when contradictory or covering fewer than ``min_support`` training rows, and
    at most ``beam`` kept (most rows first, ties by text).

    Returns
    -------
    (clauses, masks, truncated)
        ``truncated``: the beam cut clauses that training rows meet.
    """
    current: list[tuple[Clause, np.ndarray]] = [((), np.ones(n_rows, dtype=bool))]
    truncated = False
    for dnf in dnfs:
        if tick is not None:
            tick()
        nxt: dict[Clause, np.ndarray] = {}
        for clause, mask in current:
            for other, other_mask in dnf:
                both = mask & other_mask
                if min_support > 0 and int(both.sum()) < min_support:
                    continue
                merged = simplify_conditions((*clause, *other), schema=schema)
                if merged is None:
                    continue
                nxt[merged] = nxt[merged] | both if merged in nxt else both
        ranked = sorted(nxt.items(), key=lambda kv: (-int(kv[1].sum()), repr(kv[0])))
        if len(ranked) > beam:
            truncated = truncated or any(int(m.sum()) > 0 for _, m in ranked[beam:])
            ranked = ranked[:beam]
        current = ranked
        if not current:
            break
    return [c for c, _ in current], [m for _, m in current], truncated
