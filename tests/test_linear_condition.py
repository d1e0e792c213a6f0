"""Oblique (linear) conditions in the rule algebra: files, text, symbols, exports on the
boundary, certification's interval evaluation, simplification keeping them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import export_cases as ec
from test_export import run_onnx, run_python, run_sqlite

from nnrules.certification.regions import ALL, NONE, SOME, linear3
from nnrules.exceptions import FormatError, ParameterError, UnsupportedModelError
from nnrules.io import serialize
from nnrules.io.export import export_bytes
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.rules import (
    Condition,
    LinearCondition,
    Rule,
    RuleSet,
    simplify_conditions,
)
from nnrules.surrogates.simplify import simplify_body


def _bytes(rs: RuleSet) -> bytes:
    return json.dumps(rs.to_dict(), sort_keys=True).encode()


def test_json_round_trip_same_bytes_same_predictions():
    rs = ec.oblique_list()
    text = serialize.dumps(rs)  # checked against nnrules/io/schemas/ruleset.json on load
    back = serialize.loads(text)
    assert serialize.dumps(back) == text
    assert _bytes(back) == _bytes(rs)
    X = ec.edge_rows(rs, 2000)
    assert (back.predict(X) == rs.predict(X)).all()
    assert any(isinstance(t, LinearCondition) for r in back.rules for t in r.conditions)


@pytest.mark.parametrize("change, what", [
    ({"weights": [1.0]}, "weight"),
    ({"weights": [1.0, float("nan"), 2.0]}, "finite"),
    ({"weights": [1.0, float("inf"), 2.0]}, "finite"),
    ({"features": [0, 1, 99]}, "feature"),
    ({"features": [0, 0, 1]}, "distinct"),
    ({"op": "=="}, "compares"),
    ({"value": float("nan")}, "finite"),
    ({"weights": "abc"}, "list"),
    ({"features": [0, -1, 2]}, "non-negative"),
])
def test_hostile_linear_condition_is_a_format_error(change, what):
    d = json.loads(_bytes(ec.oblique_list()))
    d["rules"][0]["conditions"][0].update(change)
    with pytest.raises(FormatError, match=what):
        RuleSet.from_dict(json.loads(json.dumps(d)))
    if not any(isinstance(v, float) and not np.isfinite(v) for v in change.get("weights", [])):
        with pytest.raises(FormatError):  # the file reader refuses it too (schema or checks)
            serialize.loads(json.dumps(d))


def test_constructor_refuses_bad_conditions():
    with pytest.raises(ParameterError, match="one weight per feature"):
        LinearCondition((0, 1), (1.0,), ">", 0.0)
    with pytest.raises(ParameterError, match="non-zero"):
        LinearCondition((0, 1), (1.0, 0.0), ">", 0.0)
    assert LinearCondition.make({3: 0.0, 1: 2.0, 0: -1.0}, ">", 1.0) == \
        LinearCondition((0, 1), (-1.0, 2.0), ">", 1.0)
    assert LinearCondition.make([0.0, 0.0], "<=", 1.0) is None


def test_text_rounds_weights_omits_zeros_and_uses_labels():
    schema = FeatureSchema((Feature("radius", "continuous", 0.0, 30.0),
                            Feature("area", "continuous", 0.0, 2500.0),
                            Feature("texture", "continuous", 0.0, 40.0)))
    c = LinearCondition.make([2.000049, 0.0, -1.0], ">", 0.400001)
    assert c.to_text() == "2·x0 − x2 > 0.4"
    assert c.to_text(schema) == "2·radius − texture > 0.4"
    labelled = schema.with_labels({"features": {"radius": {"name": "mean radius",
                                                           "unit": "mm"}}})
    assert c.to_text(labelled) == "2·mean radius [mm] − texture > 0.4"
    assert LinearCondition((1,), (-0.123456,), "<=", 3.0).to_text(schema) == \
        "−0.123·area <= 3"


def test_sympy_and_negation_agree_with_holds():
    rng = np.random.default_rng(0)
    c = LinearCondition((0, 2), (1.5, -0.25), "<=", 0.3)
    X = rng.normal(size=(200, 3))
    assert (c.negate().holds(X) == ~c.holds(X)).all()
    import sympy

    syms = sympy.symbols("a b c", real=True)
    expr = c.to_sympy(syms)
    got = [bool(expr.subs(dict(zip(syms, row)))) for row in X[:50].tolist()]
    assert got == c.holds(X[:50]).tolist()


def _on_boundary_rows(rs, n, seed=1):
    """Rows (float32-representable) whose linear sums sit at, or one step from, the
    thresholds: the comparison's edge cases for the exports."""
    rng = np.random.default_rng(seed)
    X = ec.edge_rows(rs, n, seed).astype(np.float32).astype(np.float64)
    lin = [t for r in rs.rules for t in r.conditions if isinstance(t, LinearCondition)]
    for i in range(n):
        c = lin[i % len(lin)]
        j, w = c.features[-1], c.weights[-1]
        rest = c.score(X[i:i + 1]) - w * X[i, j]
        target = (c.value - rest[0]) / w
        x = np.float32(target)
        X[i, j] = float(np.nextafter(x, np.float32(rng.choice([-np.inf, np.inf])))) \
            if i % 3 == 0 else float(x)
    return X


def test_exports_equal_predict_on_rows_at_the_oblique_boundary():
    rs = ec.oblique_list()
    X = _on_boundary_rows(rs, 3000)
    ref = [v.item() if hasattr(v, "item") else v for v in rs.predict(X)]
    assert run_python(rs, X) == ref
    assert run_sqlite(rs, X) == ref
    out, _ = run_onnx(rs, X.astype(np.float32))
    assert out["label"].tolist() == ref
    # the rows reach every rule, so each comparison was exercised
    assert set(np.unique(rs.explain(X))) == {-1, 0, 1, 2}


def test_export_refuses_a_linear_condition_on_a_categorical_feature():
    rs = RuleSet([Rule((LinearCondition((ec.AGE, ec.JOB), (1.0, 2.0), ">", 40.0),), 1)], 0,
                 ordered=True, classes=("a", "b"), schema=ec.SCHEMA)
    for target in ("python", "sql", "onnx"):
        with pytest.raises(UnsupportedModelError, match="categorical feature 'job'"):
            export_bytes(rs, target)


def test_interval_evaluation_is_sound_on_random_boxes():
    rng = np.random.default_rng(3)
    counts = {ALL: 0, NONE: 0, SOME: 0}
    for _ in range(300):
        d = int(rng.integers(1, 5))
        feats = tuple(int(j) for j in rng.choice(6, size=d, replace=False))
        c = LinearCondition(feats, tuple(rng.normal(size=d) * 3 + 0.1), str(rng.choice(
            ["<=", ">"])), float(rng.normal()))
        lo = rng.normal(size=6) * 2
        hi = lo + rng.exponential(size=6) * rng.choice([0.0, 1.0, 3.0])
        state = linear3(c, lo, hi)
        counts[state] += 1
        pts = lo + rng.random((400, 6)) * (hi - lo)
        corners = np.where(rng.random((64, 6)) < 0.5, lo, hi)
        held = c.holds(np.vstack([pts, corners]))
        if state == ALL:
            assert held.all()
        elif state == NONE:
            assert not held.any()
    assert min(counts.values()) > 10  # every answer exercised


def test_simplification_keeps_linear_conditions():
    lin = LinearCondition((0, 1), (1.0, 1.0), ">", 1.0)
    body = (Condition(0, "<=", 3.0), lin, Condition(0, "<=", 5.0), lin)
    assert simplify_conditions(body) == (Condition(0, "<=", 3.0), lin)
    assert simplify_body(body) == (Condition(0, "<=", 3.0), lin)
    # a contradiction among the plain conditions is still found; the linear one never decides
    assert simplify_body((Condition(0, "<=", 1.0), Condition(0, ">", 2.0), lin)) is None


def test_reasons_name_the_oblique_condition():
    rs = ec.oblique_list()
    X = ec.edge_rows(rs, 200)
    texts = rs.reasons(X)
    i = int(np.flatnonzero(rs.explain(X) == 0)[0])
    assert "0.731·age − 0.00013·income + 2.5·ratio > -3.21" in texts[i]
    k = rs.reasons(X[i:i + 1], k=3)[0]
    assert any("0.731·age" in str(r) for r in k["reasons"])


def test_certificate_of_an_oblique_rule_list_is_sound():
    """Proven boxes of rules with linear conditions lie inside their rule's region (the
    surrogate answers the rule's class on every point) and the network agrees there."""
    from test_certify import box_points, iris

    from nnrules.certification import certify

    sur, net, sp = iris("via_iris.onnx", max_leaves=3)
    classes = sur.classes
    rs = RuleSet([Rule((LinearCondition((2, 3), (1.0, 1.0), "<=", 3.2),), 0),
                  Rule((LinearCondition((2, 3), (0.5, 1.0), ">", 4.1),), 2)], 1,
                 ordered=True, classes=classes, schema=sur.schema)
    cert = certify(rs, net, sp.X_train, eval=sp.X_test, max_verifications=30)
    lo, hi, idx = cert.boxes("proven")
    assert len(lo) > 0
    rng = np.random.default_rng(2)
    label = {r["name"]: r["class"] for r in cert.rules}
    for k in rng.permutation(len(lo))[:8]:
        P = box_points(lo[k], hi[k], 5000, rng)
        name = cert.rules[idx[k]]["name"]
        assert np.all(rs.predict(P) == label[name]), f"box {k} leaves {name}'s region"
        assert np.all(net.predict(P) == label[name])


def test_a_tree_file_with_a_linear_test_is_refused():
    from nnrules.surrogates.tree import TreeSurrogate

    d = json.loads(json.dumps(ec.sklearn_tree().to_dict()))
    d["nodes"][0]["test"] = {"features": [0, 1], "weights": [1.0, 2.0], "op": ">",
                             "value": 3.0}
    with pytest.raises(FormatError, match="linear"):
        TreeSurrogate.from_dict(d)


def test_complexity_counts_a_linear_condition_by_its_features():
    rs = ec.oblique_list()
    # rule 1: 3 + 1, rule 2: 3 + 2, rule 3: m-of-n of 2 + 1
    assert rs.complexity()["conditions"] == 4 + 5 + 3
