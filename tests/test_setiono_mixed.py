"""The staircase for units reading one-hot, binary and numeric inputs (``setiono``,
decompose/staircase.py ``mixed_staircase_mofn``): a condition worth ``k`` steps is listed ``k``
times in an M-of-N test, and every reader of such a test counts each copy."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import sympy
from decompositional_fixtures import german_data

import nnrules
from nnrules.extract import get_extractor
from nnrules.extract.decompose.mofn import best_m
from nnrules.extract.decompose.staircase import mixed_staircase_mofn
from nnrules.io import serialize
from nnrules.io.export import export_bytes
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet

SET = Path(__file__).resolve().parent / "fixtures" / "setiono"
SCHEMA = FeatureSchema((
    Feature("colour_red", "onehot", 0, 1, group="colour", category="red"),
    Feature("colour_green", "onehot", 0, 1, group="colour", category="green"),
    Feature("colour_blue", "onehot", 0, 1, group="colour", category="blue"),
    Feature("colour_grey", "onehot", 0, 1, group="colour", category="grey"),
    Feature("smoker", "binary", 0, 1),
    Feature("children", "integer", 0, 3),
    Feature("income", "continuous", 0.0, 100.0),
))


def _rows(n, rng):
    X = np.zeros((n, 7))
    X[np.arange(n), rng.integers(0, 4, n)] = 1.0
    X[:, 4] = rng.integers(0, 2, n)
    X[:, 5] = rng.integers(0, 4, n)
    X[:, 6] = rng.uniform(0, 100, n)
    return X


def test_whole_step_weights_give_an_exact_test_with_repeats():
    """Weights that are whole multiples of a step (colour 0/3/1/2, smoker -2, children 1 per
    child: spans of 3 + 2 + 3 = 8 steps): on every point of the discrete domain the test is
    the boundary, and the conditions worth several steps are listed that many times. Colour's
    counts are taken from their median (1): red gets one ``colour != red``, green two
    ``colour == green``; written the wrong way round (``==`` for ``!=``) no ``m`` is exact."""
    w = np.array([0.0, 3.0, 1.0, 2.0, -2.0, 1.0, 0.0]) * 0.7
    domain = np.array([[*np.eye(4)[c], s, k, 0.0]
                       for c, s, k in itertools.product(range(4), range(2), range(4))])
    for theta in (0.35, 1.05, 2.45):
        test = mixed_staircase_mofn(w, 0.0, theta, [0, 1, 2, 3, 4, 5], domain, SCHEMA,
                                    n_conditions=8)
        assert isinstance(test, MofN)
        assert np.array_equal(test.holds(domain), domain @ w > theta)
        copies = {c: test.conditions.count(c) for c in set(test.conditions)}
        assert copies[Condition(4, "<=", 0.5)] == 2  # smoker's weight: two steps
        assert copies[Condition(1, ">", 0.5)] == 2 and copies[Condition(0, "<=", 0.5)] == 1
        assert copies[Condition(3, ">", 0.5)] == 1
        assert not {Condition(0, ">", 0.5), Condition(2, ">", 0.5), Condition(2, "<=", 0.5)
                    } & set(copies)
        assert len(test.conditions) == 4 + 2 + 3  # colour 1 + 2 + 1 copies, smoker, children
        assert "colour != red" in test.to_text(SCHEMA)
        wrong = [Condition(c.feature, ">", 0.5) if c == Condition(0, "<=", 0.5) else c
                 for c in test.conditions]
        assert not any(np.array_equal(MofN(m, tuple(wrong)).holds(domain), domain @ w > theta)
                       for m in range(1, len(wrong) + 1))


GROUPS = FeatureSchema((
    *[Feature(f"colour_{v}", "onehot", 0, 1, group="colour", category=v)
      for v in ("red", "green", "blue", "grey")],
    *[Feature(f"size_{v}", "onehot", 0, 1, group="size", category=v) for v in "SML"],
    *[Feature(f"shape_{v}", "onehot", 0, 1, group="shape", category=v) for v in "abcde"],
    Feature("smoker", "binary", 0, 1),
))


def _min_reference(w, schema, n_conditions):
    """The test as it was before counts were taken from the median: value ``v`` of a group
    holds ``round((w_v - w_min) / delta)`` copies of ``group == v``; a binary column
    ``round(|w| / delta)`` copies at 0.5 (the domain's two values)."""
    parts = {g: [int(c) for c in cols] for g, cols in schema.groups.items()}
    binary = [j for j, f in enumerate(schema.features) if f.kind == "binary"]
    delta = (sum(float(np.ptp(w[m])) for m in parts.values())
             + sum(abs(float(w[j])) for j in binary)) / n_conditions
    out = []
    for members in parts.values():
        low = float(w[members].min())
        for c in members:
            out += [Condition(c, ">", 0.5)] * int(round((float(w[c]) - low) / delta))
    for j in binary:
        out += [Condition(j, ">" if w[j] > 0 else "<=", 0.5)] * int(round(abs(w[j]) / delta))
    return out


def test_counts_from_the_median_list_fewer_copies_and_decide_as_from_the_smallest():
    """A planted ``w . x > theta`` over three one-hot groups and a binary column: measuring
    each value's copies from its group's median count instead of its smallest lists strictly
    fewer conditions (copies counted), and with ``m`` chosen on the rows each way, both tests
    give the same answer on every point of the domain (one value of a group holds per row,
    so the counts differ by a constant). A row with no value of a group hot counts as the
    group's median value."""
    rng = np.random.default_rng(3)
    domain = np.array([[*np.eye(4)[a], *np.eye(3)[b], *np.eye(5)[c], s]
                       for a, b, c, s in itertools.product(range(4), range(3), range(5),
                                                           range(2))])
    for _ in range(5):
        w = rng.normal(size=13)
        theta = float(np.median(domain @ w))
        test = mixed_staircase_mofn(w, 0.0, theta, range(13), domain, GROUPS, n_conditions=24)
        old = _min_reference(w, GROUPS, 24)
        assert len(test.conditions) < len(old)
        assert any(c.op == "<=" for c in test.conditions)  # some value below its median
        _, m_old = best_m(MofN(1, tuple(old)).count(domain), domain @ w > theta, len(old))
        assert np.array_equal(test.holds(domain), MofN(m_old, tuple(old)).holds(domain))
        assert np.mean(test.holds(domain) == (domain @ w > theta)) >= 0.9
    # colour's counts 0, 1, 2, 3 (median 1: green): a row without colour counts as green.
    w = np.array([0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2.0])
    test = mixed_staircase_mofn(w, 0.0, 2.5, range(13), domain, GROUPS, n_conditions=5)
    green, none = domain[:1].copy(), domain[:1].copy()
    green[0, :4], none[0, :4] = (0, 1, 0, 0), 0
    assert test.count(none)[0] == test.count(green)[0] == test.count(domain[:1])[0] + 1


def test_a_planted_weighted_threshold_is_followed_and_counting_copies_once_is_not():
    """Learned on one half of mixed rows, scored on the other: 48 steps agree with a planted
    ``w . x > theta`` on most rows; the same test with each condition counted once falls far
    below (the repeats carry the large weights of one-hot and binary inputs)."""
    rng = np.random.default_rng(0)
    X = _rows(8000, rng)
    w = np.array([-0.9, 0.4, 1.3, 0.1, 1.1, -0.35, 0.021])
    theta = float(np.median(X @ w))
    fit, fresh = X[:4000], X[4000:]
    truth = fresh @ w > theta
    test = mixed_staircase_mofn(w, 0.0, theta, range(7), fit, SCHEMA, n_conditions=48)
    assert float(np.mean(test.holds(fresh) == truth)) >= 0.96
    once = tuple(dict.fromkeys(test.conditions))
    assert len(once) < len(test.conditions)
    best_once = max(float(np.mean(MofN(m, once).holds(fresh) == truth))
                    for m in range(1, len(once) + 1))
    assert best_once <= 0.93


def test_repeats_in_text_json_and_sympy():
    """A repeat is written once with its count, survives JSON, and counts twice in sympy."""
    smoker, young = Condition(4, ">", 0.5), Condition(5, "<=", 1.5)
    test = MofN(3, (smoker, young, smoker, Condition(1, ">", 0.5)))
    assert test.to_text(SCHEMA) == ("at least 3 of {smoker == 1 (x2), children <= 1, "
                                    "colour == green}")
    assert MofN(2, (smoker, smoker)).to_text(SCHEMA) == "smoker == 1"
    rs = RuleSet([Rule((test,), 1)], 0, ordered=True, classes=("no", "yes"), schema=SCHEMA)
    X = _rows(300, np.random.default_rng(1))
    want = rs.predict_index(X)
    assert 0 < want.sum() < len(X)
    again = serialize.loads(serialize.dumps(rs))
    assert again.rules[0].conditions[0].conditions.count(smoker) == 2
    assert np.array_equal(again.predict_index(X), want)
    expr = test.to_sympy(rs.symbols())
    f = sympy.lambdify(rs.symbols(), expr, "numpy")
    assert np.array_equal(np.asarray(f(*X.T), dtype=bool), test.holds(X))


def test_real_german_boundaries_become_mixed_staircases():
    """German credit's units read one-hot groups, integers and amounts: with
    ``mixed_conditions=48`` (an option; off by default) their boundaries are staircases with
    repeated conditions. On german_h3 (the trees and the searched test gave 0.887 held-out)
    the rules agree with the network on >= 0.92 of the held-out rows; the Python export, the
    JSON round trip and a second fit give the same answers / bytes. By default no test holds
    a repeat."""
    train, test = german_data()
    net = nnrules.load(SET / "german_h3.onnx")
    fits = []
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(get_extractor("setiono")(net, random_state=0, mixed_conditions=48).fit(
                train.X, feature_names=list(train.schema.names)))
            default = get_extractor("setiono")(net, random_state=0).fit(
                train.X, feature_names=list(train.schema.names))
    assert not any(isinstance(t, MofN) and len(set(t.conditions)) < len(t.conditions)
                   for r in default.surrogate_.rules for t in r.conditions)
    rs = fits[0].surrogate_
    assert np.mean(rs.predict(test.X) == net.predict(test.X)) >= 0.92
    tests = [t for r in rs.rules for t in r.conditions if isinstance(t, MofN)]
    assert tests and any(len(set(t.conditions)) < len(t.conditions) for t in tests)
    assert "(x2)" in rs.to_text()
    ns: dict = {}
    exec(compile(export_bytes(rs, "python").decode(), "exported.py", "exec"), ns)
    rows = [dict(zip(rs.schema.names, map(float, x))) for x in test.X]
    assert ns["predict_many"](rows) == [v.item() if hasattr(v, "item") else v
                                        for v in rs.predict(test.X)]
    again = serialize.loads(serialize.dumps(rs))
    assert np.array_equal(again.predict_index(test.X), rs.predict_index(test.X))
    assert serialize.dumps(fits[1].surrogate_) == serialize.dumps(rs)


def test_steps_on_a_whole_valued_column_fall_half_way_between_its_values():
    """children (0..3) carries most of the weight, so 24 steps give it more cuts than it has
    gaps: every threshold is a half-way point (x.5), cuts between the same two values are one
    condition listed several times, and on every point the test decides as the boundary it
    was read from does wherever the unsnapped cuts would (whole values cannot tell them
    apart)."""
    w = np.array([0.0, 0.3, 0.1, 0.2, -0.2, 2.0, 0.0])
    domain = np.array([[*np.eye(4)[c], s, k, 50.0]
                       for c, s, k in itertools.product(range(4), range(2), range(4))])
    test = mixed_staircase_mofn(w, 0.0, 2.9, range(7), domain, SCHEMA, n_conditions=24)
    cuts = [c.value for c in test.conditions if c.feature == 5]
    assert len(cuts) > 3 and {t % 1 for t in cuts} == {0.5}
    assert len(set(cuts)) < len(cuts)  # repeats, written "(xk)"
    assert "(x" in test.to_text(SCHEMA).split("children")[1]
    assert np.mean(test.holds(domain) == (domain @ w > 2.9)) >= 0.9
