"""Rule algebra: sympy agrees with predict, simplification, text, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from nnrules.exceptions import ParameterError
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.rules import (
    Condition,
    MofN,
    Rule,
    RuleSet,
    simplify_conditions,
    symbol_names,
)

GRID = [0.0, 0.5, 1.0, 2.0]  # X is drawn from the same grid, so ties at thresholds occur
N_FEATURES = 4

conditions = st.builds(Condition, st.integers(0, N_FEATURES - 1),
                       st.sampled_from(["<=", ">", "==", "!="]), st.sampled_from(GRID))
mofns = st.lists(conditions, min_size=1, max_size=4).flatmap(
    lambda cs: st.builds(MofN, st.integers(1, len(cs)), st.just(tuple(cs))))
tests = st.one_of(conditions, conditions, mofns)


def sympy_predict(model, X):
    """Evaluate ``model.to_sympy()`` with lambdify (numpy) on the rows of X."""
    expr = model.to_sympy()
    syms = model.symbols()
    n = X.shape[0]
    if isinstance(expr, dict):
        hits = np.column_stack([
            np.broadcast_to(np.asarray(sympy.lambdify(syms, e, "numpy")(*X.T)), (n,))
            for e in expr.values()]).astype(bool)
        assert (hits.sum(axis=1) == 1).all()  # the per-class expressions partition the space
        labels = list(expr)
        return np.asarray(labels, dtype=object)[hits.argmax(axis=1)]
    return np.broadcast_to(np.asarray(sympy.lambdify(syms, expr, "numpy")(*X.T), float), (n,))


@st.composite
def rulesets(draw):
    task = draw(st.sampled_from(["classification", "regression"]))
    k = 3
    outs = st.integers(0, k - 1) if task == "classification" else st.sampled_from([-1.5, 0.0, 2.25])
    rules = draw(st.lists(st.builds(Rule, st.lists(tests, max_size=3).map(tuple), outs),
                          max_size=5))
    return RuleSet(rules, draw(outs), ordered=draw(st.booleans()),
                   classes=("a", "b", "c") if task == "classification" else None,
                   task=task, n_features=N_FEATURES)


@settings(max_examples=60, deadline=None)
@given(rulesets(), st.integers(0, 2**31 - 1))
def test_predict_equals_lambdified_sympy(rs, seed):
    X = np.random.default_rng(seed).choice(GRID, size=(40, N_FEATURES))
    got = sympy_predict(rs, X)
    want = rs.predict(X)
    if rs.task == "regression":
        np.testing.assert_array_equal(got, want)
    else:
        assert list(got) == list(want)
    explain = rs.explain(X)
    assert ((explain >= -1) & (explain < len(rs.rules))).all()
    assert len(rs.reasons(X)) == X.shape[0]


def test_first_firing_rule_decides_and_default():
    rs = RuleSet([Rule((Condition(0, ">", 1.0),), 1), Rule((Condition(1, "<=", 0.0),), 2)], 0,
                 ordered=True, classes=("lo", "mid", "hi"))
    X = np.array([[2.0, 0.0], [0.0, 0.0], [0.0, 5.0]])
    np.testing.assert_array_equal(rs.explain(X), [0, 1, -1])
    assert list(rs.predict(X)) == ["mid", "hi", "lo"]
    assert rs.complexity() == {"rules": 2, "conditions": 2, "mean_rule_length": 1.0}
    assert rs.to_text().splitlines()[-1] == "ELSE lo"


def test_mofn_holds_and_text():
    m = MofN(2, (Condition(0, "==", 1.0), Condition(1, "==", 1.0), Condition(2, "==", 1.0)))
    X = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]], dtype=float)
    np.testing.assert_array_equal(m.holds(X), [True, False, False, True])
    assert m.to_text() == "at least 2 of {x0 == 1, x1 == 1, x2 == 1}"
    with pytest.raises(ParameterError, match="MofN m must be an int in"):
        MofN(4, m.conditions)


def test_mofn_staircase_text_names_each_feature_once_per_run():
    """Thresholds on one feature in one direction read as a run ("radius > 13.1, > 14.6"); a
    change of feature or direction names the feature again."""
    from nnrules.schema import FeatureSchema

    schema = FeatureSchema.from_dict({"features": [
        {"name": "radius", "kind": "continuous"}, {"name": "texture", "kind": "continuous"}]})
    m = MofN(3, (Condition(0, ">", 13.1), Condition(0, ">", 14.6), Condition(0, "<=", 20.0),
                 Condition(1, ">", 20.0), Condition(1, ">", 25.0), Condition(0, ">", 16.1)))
    assert m.to_text(schema) == ("at least 3 of {radius > 13.1, > 14.6, radius <= 20, "
                                 "texture > 20, > 25, radius > 16.1}")


def test_condition_text_uses_schema():
    schema = FeatureSchema((Feature("age", "integer", 18, 90),
                            Feature("color_red", "onehot", 0, 1, group="color", category="red"),
                            Feature("color_blue", "onehot", 0, 1, group="color",
                                    category="blue")))
    assert Condition(1, ">", 0.5).to_text(schema) == "color == red"
    assert Condition(0, ">", 37.5).to_text(schema) == "age > 37"
    with pytest.raises(ParameterError, match="Unknown comparison"):
        Condition(0, "<", 1.0)


def test_symbol_names_sanitised_and_unique():
    schema = FeatureSchema((Feature("petal length (cm)", "continuous", 0, 9),
                            Feature("petal length [cm]", "continuous", 0, 9),
                            Feature("class", "continuous", 0, 1),
                            Feature("2nd", "continuous", 0, 1)))
    assert symbol_names(schema, 4) == ("petal_length__cm_", "petal_length__cm__2", "f_class",
                                       "f_2nd")
    assert symbol_names(None, 2) == ("x0", "x1")


@pytest.mark.parametrize("conds, want", [
    ([Condition(0, "<=", 3), Condition(0, "<=", 5)], (Condition(0, "<=", 3),)),
    ([Condition(0, ">", 1), Condition(0, ">", 2)], (Condition(0, ">", 2),)),
    ([Condition(0, ">", 1), Condition(0, "<=", 4), Condition(0, "!=", 9)],
     (Condition(0, "<=", 4), Condition(0, ">", 1))),
    ([Condition(0, "==", 2), Condition(0, "<=", 4), Condition(0, "!=", 3)],
     (Condition(0, "==", 2),)),
    ([Condition(0, ">", 3), Condition(0, "<=", 3)], None),
    ([Condition(0, "==", 1), Condition(0, "==", 2)], None),
    ([Condition(0, "==", 1), Condition(0, "!=", 1)], None),
    ([Condition(0, "==", 5), Condition(0, "<=", 4)], None),
])
def test_simplify_conditions(conds, want):
    assert simplify_conditions(conds) == want


def test_simplify_onehot_group():
    schema = FeatureSchema((
        Feature("color_red", "onehot", 0, 1, group="color", category="red"),
        Feature("color_blue", "onehot", 0, 1, group="color", category="blue"),
        Feature("color_green", "onehot", 0, 1, group="color", category="green")))
    got = simplify_conditions([Condition(1, "<=", 0.5), Condition(0, ">", 0.5),
                               Condition(2, "<=", 0.5)], schema=schema)
    assert got == (Condition(0, ">", 0.5),)
    assert simplify_conditions([Condition(0, ">", 0.5), Condition(1, "==", 1.0)],
                               schema=schema) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(conditions, max_size=6), st.integers(0, 2**31 - 1))
def test_simplify_is_equivalent(conds, seed):
    X = np.random.default_rng(seed).choice(GRID + [0.25, 1.5, 3.0], size=(200, N_FEATURES))
    before = np.ones(200, dtype=bool)
    for c in conds:
        before &= c.holds(X)
    s = simplify_conditions(conds)
    if s is None:
        assert not before.any()
    else:
        after = np.ones(200, dtype=bool)
        for c in s:
            after &= c.holds(X)
        np.testing.assert_array_equal(before, after)
        assert len(s) <= len(set(conds))


def test_rule_dict_round_trip_keeps_nan_confidence():
    r = Rule((Condition(0, "<=", 0.1),), 1, support=3)
    d = r.to_dict()
    assert d["confidence"] is None
    back = Rule.from_dict(d)
    assert back == r and math.isnan(back.confidence)
