"""Hand-made surrogates of every exportable kind over a schema with every feature kind, the
thresholds each one tests, and rows that sit exactly on them and one float32 ulp either side.

Shared by ``test_export.py`` (and the reasons tests): no extraction, so every case is fast and
its thresholds are known exactly.
"""

from __future__ import annotations

import math

import numpy as np

from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.additive import AdditiveSurrogate, Axis, Term
from nnrules.surrogates.boxes import BoxRuleSet
from nnrules.surrogates.rules import Condition, LinearCondition, MofN, Rule, RuleSet
from nnrules.surrogates.tree import TreeSurrogate

JOBS = ("clerk", "manager", "o'brien & co", "tech")  # a quote: SQL escaping
SCHEMA = FeatureSchema((
    Feature("age", "integer", 18, 90),
    Feature("income", "continuous", 0.0, 100000.0),
    Feature("ratio", "continuous", -1.0, 1.0),
    Feature("smoker", "binary", 0, 1),
    Feature("color_red", "onehot", 0, 1, group="color", category="red"),
    Feature("color_green", "onehot", 0, 1, group="color", category="green"),
    Feature("color_blue", "onehot", 0, 1, group="color", category="blue"),
    Feature("job", "categorical", 0, 3, categories=JOBS),
))
AGE, INCOME, RATIO, SMOKER, RED, GREEN, BLUE, JOB = range(8)


def random_rows(n: int, rng) -> np.ndarray:
    """Valid schema-space rows."""
    X = np.zeros((n, SCHEMA.n_features))
    X[:, AGE] = rng.integers(18, 91, n)
    X[:, INCOME] = rng.uniform(0, 100000, n)
    X[:, RATIO] = rng.uniform(-1, 1, n)
    X[:, SMOKER] = rng.integers(0, 2, n)
    X[np.arange(n), RED + rng.integers(0, 3, n)] = 1.0
    X[:, JOB] = rng.integers(0, 4, n)
    return X


def sklearn_tree(task: str = "classification", seed: int = 0) -> TreeSurrogate:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    rng = np.random.default_rng(seed)
    X = random_rows(3000, rng)
    score = (X[:, INCOME] / 30000 + X[:, RATIO] * 2 - X[:, AGE] / 40 + X[:, BLUE]
             - (X[:, JOB] == 2) + 0.3 * rng.standard_normal(3000))
    if task == "classification":
        est = DecisionTreeClassifier(max_leaf_nodes=40, random_state=0).fit(X, score > 0.5)
        return TreeSurrogate.from_sklearn(est, schema=SCHEMA, classes=("bad", "good"))
    est = DecisionTreeRegressor(max_leaf_nodes=40, random_state=0).fit(X, score * 1000.7)
    return TreeSurrogate.from_sklearn(est, schema=SCHEMA)


def mofn_tree() -> TreeSurrogate:
    """A TREPAN-like tree: m-of-n nodes mixing kinds, ==/!= tests, a non-float32 equality."""
    tests = [
        MofN(2, (Condition(AGE, ">", 40.5), Condition(INCOME, "<=", 30000.123456789),
                 Condition(JOB, "==", 2.0))),                                     # 0
        Condition(RATIO, "<=", 0.1),                                              # 1
        MofN(1, (Condition(GREEN, ">", 0.5), Condition(JOB, "<=", 1.5),
                 Condition(RATIO, "==", 0.1))),                                   # 2
        None, None,                                                               # 3, 4
        Condition(JOB, "!=", 3.0),                                                # 5
        None, None,                                                               # 6, 7
        MofN(3, (Condition(SMOKER, ">", 0.5), Condition(INCOME, ">", 77777.77),
                 Condition(AGE, "<=", 30.5), Condition(BLUE, "<=", 0.5))),        # 8
        None, None,                                                               # 9, 10
    ]
    left = [1, 2, 3, -1, -1, 6, -1, -1, 9, -1, -1]
    right = [8, 5, 4, -1, -1, 7, -1, -1, 10, -1, -1]
    value = np.zeros((11, 3))
    for leaf, dist in {3: [5, 1, 0], 4: [1, 4, 2], 6: [0, 1, 6], 7: [3, 3, 1], 9: [1, 1, 1],
                       10: [0, 2, 1]}.items():
        value[leaf] = dist
    return TreeSurrogate(tests, left, right, value, classes=(0, 1, 2), schema=SCHEMA,
                         n_node_samples=value.sum(axis=1).astype(int))


def decision_list(task: str = "classification") -> RuleSet:
    out = (lambda i: i) if task == "classification" else (lambda i: 1000.0 * i + 0.123)
    rules = [
        Rule((Condition(INCOME, ">", 61234.5678901), Condition(AGE, "<=", 44.5)), out(1)),
        Rule((MofN(2, (Condition(RATIO, ">", -0.3333333333), Condition(SMOKER, "==", 1.0),
                       Condition(JOB, ">", 1.5))),), out(2)),
        Rule((Condition(RED, ">", 0.5), Condition(JOB, "!=", 0.0)), out(0)),
        Rule((Condition(INCOME, "<=", 12345.678901234567),), out(1)),
    ]
    classes = ("low", "mid", "high") if task == "classification" else None
    return RuleSet(rules, out(2) if task == "classification" else 5.5, ordered=True,
                   classes=classes, schema=SCHEMA, task=task)


def boxes(task: str = "classification", fallback: str = "tree") -> BoxRuleSet:
    inf = math.inf
    d = SCHEMA.n_features
    lo = np.array([[18, 0, -0.123456789, 0, 0, 0, 0, 0],
                   [40, 50000.5, -1, 1, 0, 0, 0, 1],
                   [18, 0, 0.25, 0, 1, 0, 0, 0]], dtype=float)
    hi = np.array([[35, 40000.1234567, 0.5, 1, 1, 1, 1, 3],
                   [90, 100000, 0.7777777, 1, 1, 1, 0, 2],
                   [60, 100000, 1, 0, 1, 0, 0, 3]], dtype=float)
    if task == "classification":
        outputs = ["no", "yes", "yes"]
    else:
        outputs = [(1.0, 2.5), (-3.25, 10.0), (0.1, 0.2)]
    kwargs = {}
    if fallback == "tree":
        flo = np.full((3, d), -inf)
        fhi = np.full((3, d), inf)
        fhi[0, RATIO] = 0.0123456789
        flo[1, RATIO] = 0.0123456789
        fhi[1, INCOME] = 55555.55555
        flo[2, RATIO] = 0.0123456789
        flo[2, INCOME] = 55555.55555
        kwargs = {"fallback_lower": flo, "fallback_upper": fhi,
                  "fallback_outputs": ["no", "yes", "no"] if task == "classification"
                  else [4.0, -2.5, 7.125]}
    return BoxRuleSet(lo, hi, outputs, schema=SCHEMA, task=task,
                      classes=("no", "yes") if task == "classification" else None,
                      fallback=fallback, **kwargs)


def additive(output: str = "logit", pairs: bool = True, seed: int = 0) -> AdditiveSurrogate:
    rng = np.random.default_rng(seed)
    k = {"logit": 1, "logits": 3, "value": 1}[output]
    spline = Axis("spline", (INCOME,), (0.0, 20000.5, 45000.25, 70000.125, 100000.0), 3)
    ratio = Axis("spline", (RATIO,), (-1.0, -0.2, 0.3333333333, 1.0), 2)
    age = Axis("steps", (AGE,), (25.5, 40.5, 60.5))
    job = Axis("steps", (JOB,), (0.5, 1.5, 2.5))
    color = Axis("onehot", (RED, GREEN, BLUE), ())
    smoker = Axis("steps", (SMOKER,), (0.5,))

    def coef(*axes):
        shape = (k,) + tuple(s for a in axes for s in (a.n_cells, a.degree + 1))
        c = rng.standard_normal(shape)
        if axes[0].kind == "spline":
            c = c / np.array([1.0, 1e4, 1e8, 1e12][:axes[0].degree + 1]).reshape(
                (1, 1, -1) + (1,) * (c.ndim - 3))
        return c

    terms = [Term((a,), coef(a)) for a in (spline, ratio, age, job, color, smoker)]
    if pairs:
        terms.append(Term((ratio, job), coef(ratio, job)))
    task = "regression" if output == "value" else "classification"
    classes = {"logit": ("deny", "approve"), "logits": (10, 20, 30), "value": None}[output]
    return AdditiveSurrogate(rng.standard_normal(k) * 0.1, terms, output=output,
                             classes=classes, schema=SCHEMA, task=task)


def oblique_list() -> RuleSet:
    """A decision list with oblique (linear) tests next to plain and m-of-n ones."""
    rules = [
        Rule((LinearCondition((AGE, INCOME, RATIO), (0.731, -1.3e-4, 2.5), ">", -3.21),
              Condition(SMOKER, "==", 1.0)), 1),
        Rule((LinearCondition((RATIO, RED, GREEN), (-1.0, 0.6180339887, 0.3), "<=", 0.125),
              LinearCondition((INCOME, AGE), (1e-5, -0.01), ">", 0.05)), 2),
        Rule((MofN(1, (Condition(JOB, "==", 2.0), Condition(AGE, "<=", 30.5))),
              LinearCondition((AGE,), (-1.0,), "<=", -25.0)), 0),
    ]
    return RuleSet(rules, 0, ordered=True, classes=("low", "mid", "high"), schema=SCHEMA)


def repeats_list() -> RuleSet:
    """M-of-N tests that list a condition more than once (``setiono``'s mixed staircase): each
    copy counts. ``smoker`` alone (2) misses 3 of {smoker (x2), age <= 40.5, blue (x2)}; with
    ``age <= 40.5`` it holds, so an export counting a repeat once would differ."""
    smoker, young, blue = (Condition(SMOKER, ">", 0.5), Condition(AGE, "<=", 40.5),
                           Condition(BLUE, ">", 0.5))
    rules = [
        Rule((MofN(2, (Condition(JOB, "==", 2.0), Condition(INCOME, "<=", 50000.5),
                       Condition(JOB, "==", 2.0))),), 2),
        Rule((MofN(3, (smoker, young, smoker, blue, blue)),), 1),
    ]
    return RuleSet(rules, 0, ordered=True, classes=("low", "mid", "high"), schema=SCHEMA)


CASES = {
    "tree": lambda: sklearn_tree("classification"),
    "tree_regression": lambda: sklearn_tree("regression"),
    "tree_mofn": mofn_tree,
    "ruleset": lambda: decision_list("classification"),
    "ruleset_regression": lambda: decision_list("regression"),
    "ruleset_from_tree": lambda: sklearn_tree("classification").to_rules(),
    "ruleset_oblique": oblique_list,
    "ruleset_repeats": repeats_list,
    "boxes": lambda: boxes("classification", "tree"),
    "boxes_abstain": lambda: boxes("classification", "abstain"),
    "boxes_regression": lambda: boxes("regression", "tree"),
    "additive_logit": lambda: additive("logit"),
    "additive_logits": lambda: additive("logits"),
    "additive_regression": lambda: additive("value"),
}


def thresholds(surrogate) -> dict[int, set[float]]:
    """Feature -> every threshold the surrogate compares it with (every feature it reads: a
    feature only a linear test reads has no thresholds)."""
    from nnrules.io.export._ir import AtLeast, LinearAtom, decision_list, kind_of

    out: dict[int, set[float]] = {}
    if kind_of(surrogate) == "additive":
        for t in surrogate.terms:
            for a in t.axes:
                if a.kind != "onehot":
                    out.setdefault(a.columns[0], set()).update(a.edges)
        return out
    for body in decision_list(surrogate).bodies:
        for t in body:
            if isinstance(t, LinearAtom):  # read, but no axis threshold (its boundary rows:
                for j in t.features:           # test_linear_condition.py)
                    out.setdefault(j, set())
                continue
            for a in (t.atoms if isinstance(t, AtLeast) else (t,)):
                out.setdefault(a.feature, set()).add(a.value)
    return out


def _near(t: float) -> list[float]:
    """t itself and the float32 values around it: one ulp below and above."""
    if not math.isfinite(t):
        return []
    f = np.float32(t)
    below = np.nextafter(f, np.float32(-np.inf))
    above = np.nextafter(f, np.float32(np.inf))
    lower = np.nextafter(below, np.float32(-np.inf))
    upper = np.nextafter(above, np.float32(np.inf))
    return [t, float(f), float(below), float(above), float(lower), float(upper)]


def schema_rows(schema, n: int, rng) -> np.ndarray:
    """Valid rows drawn from any schema's bounds (integers whole, one hot column per group)."""
    X = np.zeros((n, schema.n_features))
    for j, f in enumerate(schema.features):
        if f.kind == "categorical":
            X[:, j] = rng.integers(0, len(f.categories), n)
        elif f.kind in ("integer", "binary"):
            X[:, j] = rng.integers(math.ceil(f.lower), math.floor(f.upper) + 1, n)
        elif f.kind == "continuous":
            X[:, j] = rng.uniform(f.lower, f.upper, n)
    for cols in schema.groups.values():
        X[np.arange(n), np.asarray(cols)[rng.integers(0, len(cols), n)]] = 1.0
    return X


def edge_rows(surrogate, n: int = 10_000, seed: int = 0) -> np.ndarray:
    """``n`` valid rows; continuous features take their thresholds exactly and one float32 ulp
    either side half the time, integer features the whole numbers around them; binary, one-hot
    and categorical features take every value (every category appears)."""
    rng = np.random.default_rng(seed)
    schema = surrogate.schema
    X = random_rows(n, rng) if schema is SCHEMA else schema_rows(schema, n, rng)
    for j, ts in thresholds(surrogate).items():
        f = schema.features[j]
        if f.kind == "continuous":
            pool = sorted({v for t in ts for v in _near(t)})
        elif f.kind == "integer":
            pool = sorted({float(v) for t in ts if math.isfinite(t)
                           for v in (math.floor(t), math.floor(t) + 1, math.ceil(t))
                           if f.lower <= v <= f.upper})
        else:
            continue
        if not pool:
            continue
        pick = rng.random(n) < 0.5
        X[pick, j] = np.asarray(pool)[rng.integers(0, len(pool), int(pick.sum()))]
    for j, f in enumerate(schema.features):
        if f.kind == "categorical":  # every category, whatever the draw
            X[:len(f.categories), j] = np.arange(len(f.categories))
    return X
