"""Where each rule of a surrogate decides, asked of whole boxes at once.

A certificate partitions every rule's region into boxes. The search needs, for a box and a
rule, one of three answers: the rule decides **all** of the box, **none** of it, or **some**
(then: a test of the surrogate that cuts the box, so splitting there resolves it). These are
computed exactly from the surrogate's tests, with no sampling:

* trees (axis-aligned and m-of-n tests): a leaf's region is the conjunction of the tests on its
  path (:meth:`TreeSurrogate.paths`);
* rule sets (ordered or not): rule ``i`` decides where its body holds and no earlier rule's
  does (the first-firing semantics of :class:`RuleSet`); the default where no body holds; an
  oblique (linear) test is decided over a box by interval bounds of its weighted sum;
* box sets (:class:`BoxRuleSet`): box ``k`` decides where it holds and no earlier box does;
  the fallback tree's leaves where no box holds.

Additive models are handled in :mod:`nnrules.certification.additive`.

Boxes are ``(lo, hi, open_lo)``: closed bounds in schema space, plus, per continuous feature,
whether the lower bound itself is excluded (the right part of a split at a threshold ``t`` of
``x <= t`` is ``t < x <= hi``). Discrete features keep whole-number closed bounds; one-hot
columns are ``[0, 0]``, ``[0, 1]`` or ``[1, 1]`` as in :class:`~nnrules.verify.Domain`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnrules.surrogates.rules import Condition, LinearCondition, MofN

__all__ = ["ALL", "NONE", "SOME", "Region", "RuleRegions", "regions_of"]

NONE, SOME, ALL = 0, 1, 2


def _label(value):
    return value.item() if isinstance(value, np.generic) else value


def cond3(c: Condition, lo: np.ndarray, hi: np.ndarray, op: np.ndarray, discrete: np.ndarray):
    """ALL / NONE / SOME: does ``c`` hold on all, none or some valid points of the box?"""
    j, v = c.feature, c.value
    a, b, o = lo[j], hi[j], bool(op[j])
    if c.op in ("<=", ">"):
        below_all = b <= v                      # every point satisfies x <= v
        below_none = a > v or (o and a >= v)    # no point does
        if c.op == "<=":
            return ALL if below_all else NONE if below_none else SOME
        return NONE if below_all else ALL if below_none else SOME
    whole = bool(discrete[j])
    if (whole and not float(v).is_integer()) or v < a or v > b or (o and v == a):
        eq = NONE
    elif a == b == v:
        eq = ALL
    else:
        eq = SOME
    if c.op == "==":
        return eq
    return {NONE: ALL, ALL: NONE, SOME: SOME}[eq]


def linear3(c: LinearCondition, lo: np.ndarray, hi: np.ndarray):
    """ALL / NONE / SOME for an oblique test over the box, from interval bounds of its sum.

    Sound: the bounds hold for every point of the closed box (open lower faces and
    whole-number features only shrink the set), widened for float64 rounding, so ALL and NONE
    are never wrong; a box the bounds cannot decide is SOME (the search then splits it).
    """
    low, high = c.bounds(lo, hi)
    if c.op == "<=":
        return ALL if high <= c.value else NONE if low > c.value else SOME
    return ALL if low > c.value else NONE if high <= c.value else SOME


def holds3(t, lo, hi, op, discrete):
    """Three-valued truth of a Condition, MofN or LinearCondition over the box, and a cutting
    Condition (None for a linear test: the search splits the box its own way)."""
    if isinstance(t, LinearCondition):
        return linear3(t, lo, hi), None
    if isinstance(t, Condition):
        s = cond3(t, lo, hi, op, discrete)
        return s, (t if s == SOME else None)
    states = [cond3(c, lo, hi, op, discrete) for c in t.conditions]
    n_all = sum(s == ALL for s in states)
    n_some = sum(s == SOME for s in states)
    if n_all >= t.m:
        return ALL, None
    if n_all + n_some < t.m:
        return NONE, None
    cut = next(c for c, s in zip(t.conditions, states) if s == SOME)
    return SOME, cut


def conj3(tests, lo, hi, op, discrete):
    """Three-valued conjunction; the cut is the first undecided test's."""
    state, cut = ALL, None
    for t in tests:
        s, c = holds3(t, lo, hi, op, discrete)
        if s == NONE:
            return NONE, None
        if s == SOME:
            state = SOME
            cut = cut or c
    return state, cut


@dataclass(frozen=True)
class Region:
    """One rule (or leaf, box, class) of a surrogate.

    Attributes
    ----------
    name : str
        ``"leaf 7"``, ``"rule 3"``, ``"default"``, ``"box 2"``, ``"class yes"``.
    text : str
        The rule in words.
    label : object
        The class the surrogate gives there, as the network names it.
    """

    name: str
    text: str
    label: object


class RuleRegions:
    """Regions given by first-firing lists of conjunctions (trees, rule sets, box sets).

    Parameters
    ----------
    regions : list of Region
    bodies : list of tuple of (Condition | MofN)
        Each region's own conjunction.
    earlier : list of list of int
        For region ``r``, the regions whose bodies must all fail for ``r`` to decide (rule
        lists: the rules before it; the default: every rule).
    decide : callable X -> ndarray of int
        Region index per row (the surrogate's own ``explain``, mapped).
    """

    kind = "rules"

    def __init__(self, regions, bodies, earlier, decide, predict) -> None:
        self.regions = list(regions)
        self.bodies = [tuple(b) for b in bodies]
        self.earlier = [list(e) for e in earlier]
        self._decide = decide
        self._predict = predict
        cuts: dict[int, set] = {}
        for body in self.bodies:
            for t in body:
                if isinstance(t, LinearCondition):
                    continue  # no axis threshold; boxes it cannot decide are split
                for c in (t.conditions if isinstance(t, MofN) else (t,)):
                    cuts.setdefault(c.feature, set()).add(c.value)
        self.thresholds = {j: np.array(sorted(v)) for j, v in cuts.items()}

    def region_of(self, X: np.ndarray) -> np.ndarray:
        """Index of the region deciding each row, shape (n,)."""
        return self._decide(np.asarray(X, dtype=np.float64))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self._predict(np.asarray(X, dtype=np.float64))

    def start(self, r: int, lower: np.ndarray, upper: np.ndarray):
        """Bounding box of region r's plain conditions inside the domain (closed, open flags)."""
        lo, hi = lower.copy(), upper.copy()
        op = np.zeros(lo.size, dtype=bool)
        for t in self.bodies[r]:
            if not isinstance(t, Condition):
                continue
            j, v = t.feature, t.value
            if t.op == "<=" and v < hi[j]:
                hi[j] = v
            elif t.op == ">" and v >= lo[j]:
                lo[j], op[j] = v, True
            elif t.op == "==":
                lo[j] = max(lo[j], v)
                hi[j] = min(hi[j], v)
        return lo, hi, op

    def owner(self, r: int, lo, hi, op, discrete):
        """(ALL | NONE | SOME, cutting Condition or None) for region r over the box."""
        pending_cut = None
        some = False
        for e in self.earlier[r]:
            s, c = conj3(self.bodies[e], lo, hi, op, discrete)
            if s == ALL:
                return NONE, None
            if s == SOME:
                some = True
                pending_cut = pending_cut or c
        s, c = conj3(self.bodies[r], lo, hi, op, discrete)
        if s == NONE:
            return NONE, None
        if s == ALL and not some:
            return ALL, None
        return SOME, (c or pending_cut)


def _box_body(lo: np.ndarray, hi: np.ndarray, open_low: bool, lower, upper):
    """Conditions of one box; faces at or beyond the domain's bounds are left out.

    A closed lower face ``x >= a`` is written ``x > a'`` with ``a'`` the float just below
    ``a`` (exact in float64); an open one (fallback leaves) as ``x > a``.
    """
    body = []
    for j in range(lo.size):
        a = float(lo[j])
        if open_low and np.isfinite(a) and a >= lower[j]:
            body.append(Condition(j, ">", a))
        elif not open_low and a > lower[j]:
            body.append(Condition(j, ">", math.nextafter(a, -math.inf)))
        if hi[j] < upper[j]:
            body.append(Condition(j, "<=", float(hi[j])))
    return tuple(body)


def regions_of(surrogate, classes, lower: np.ndarray, upper: np.ndarray):
    """The regions of a tree, rule set or box set (see the module docstring)."""
    from nnrules.surrogates.boxes import BoxRuleSet
    from nnrules.surrogates.rules import RuleSet
    from nnrules.surrogates.tree import TreeSurrogate

    if isinstance(surrogate, TreeSurrogate):
        paths = surrogate.paths()
        leaves = list(paths)
        outs = surrogate._leaf_outputs()
        index = np.full(len(surrogate.tests), -1, dtype=np.int64)
        index[leaves] = np.arange(len(leaves))
        regions = []
        for leaf in leaves:
            body = " and ".join(t.to_text(surrogate.schema) for t in paths[leaf]) or "true"
            regions.append(Region(f"leaf {leaf}", body, _label(classes[int(outs[leaf])])))
        return RuleRegions(regions, [paths[leaf] for leaf in leaves], [[] for _ in leaves],
                           lambda X: index[surrogate.apply(X)], surrogate.predict)
    if isinstance(surrogate, RuleSet):
        n = len(surrogate.rules)
        regions = [Region(f"rule {i + 1}", r.body_text(surrogate.schema),
                          _label(classes[int(r.output)])) for i, r in enumerate(surrogate.rules)]
        regions.append(Region("default", "no rule fires",
                              _label(classes[int(surrogate.default)])))
        bodies = [r.conditions for r in surrogate.rules] + [()]
        earlier = [list(range(i)) for i in range(n)] + [list(range(n))]

        def decide(X):
            e = surrogate.explain(X)
            return np.where(e < 0, n, e)

        return RuleRegions(regions, bodies, earlier, decide, surrogate.predict)
    if isinstance(surrogate, BoxRuleSet):
        k = surrogate.n_boxes
        regions, bodies, earlier = [], [], []
        for b in range(k):
            regions.append(Region(f"box {b + 1}", surrogate._box_text(b),
                                  _label(surrogate.outputs[b])))
            bodies.append(_box_body(surrogate.lower[b], surrogate.upper[b], False, lower, upper))
            earlier.append(list(range(b)))
        n_leaves = len(surrogate.fallback_outputs)
        for f in range(n_leaves):
            regions.append(Region(f"fallback leaf {f + 1}", surrogate._leaf_text(f),
                                  _label(surrogate.fallback_outputs[f])))
            bodies.append(_box_body(surrogate.fallback_lower[f], surrogate.fallback_upper[f],
                                    True, lower, upper))
            earlier.append(list(range(k)))

        def decide_rows(X):
            e = surrogate.explain(X)
            out = np.where(e >= 0, e, k + (-1 - e))
            out[out >= k + n_leaves] = -1  # no box and no fallback leaf (or abstain)
            return out

        def predict(X):
            return np.asarray(surrogate.predict(X), dtype=object)

        return RuleRegions(regions, bodies, earlier, decide_rows, predict)
    raise TypeError(type(surrogate).__name__)
