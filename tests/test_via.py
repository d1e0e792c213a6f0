"""Validity interval analysis: proven boxes are sound (sampling and exhaustive enumeration),
the surrogate keeps its contract, and bad input fails clearly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from nnrules.datasets.monks import load_monk
from nnrules.datasets.tabular import tabular_split
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract.via import VIAExtractor
from nnrules.io.model import load
from nnrules.surrogates.boxes import BoxRuleSet
from nnrules.verify import Verifier

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMA = Path(__file__).parents[1] / "nnrules" / "io" / "schemas" / "boxes.json"
N_POINTS = 100_000


def box_points(lo: np.ndarray, hi: np.ndarray, n: int, rng) -> np.ndarray:
    """n points of the closed box: every corner (up to 4096), points on faces, interior."""
    d = lo.size
    if d <= 12:
        corners = np.array(list(itertools.product([0.0, 1.0], repeat=d)))
    else:
        corners = rng.integers(0, 2, size=(4096, d)).astype(float)
    n_face = n // 3
    faces = rng.random((n_face, d))
    which = rng.integers(0, d, size=n_face)
    faces[np.arange(n_face), which] = rng.integers(0, 2, size=n_face)
    inner = rng.random((n - len(corners) - n_face, d))
    U = np.vstack([corners, faces, inner])
    return lo + U * (hi - lo)


def fit(name: str, net_file: str, **params):
    sp = tabular_split(name)
    net = load(FIXTURES / net_file)
    ex = VIAExtractor(net, random_state=0, **params).fit(sp.X_train,
                                                         feature_names=sp.feature_names)
    return ex, net, sp


def held_out_centres(name: str, net_file: str, n: int = 30):
    """(network, first n held-out rows, training range per feature, the network's class
    index at each row): centres of boxes ``row +- r * span`` around held-out rows."""
    sp = tabular_split(name)
    net = load(FIXTURES / net_file)
    X = sp.X_test[:n]
    span = sp.X_train.max(axis=0) - sp.X_train.min(axis=0)
    cls = np.array([list(net.classes_).index(v) for v in net.predict(X)])
    return net, X, span, cls


@pytest.fixture(scope="module")
def iris_rows():
    return fit("iris", "via_iris.onnx", candidates="rows", max_verifications=8000)


@pytest.mark.parametrize("net_file", ["via_iris.onnx", "via_iris_sigmoid.onnx",
                                      "via_iris_tanh.onnx"])
def test_every_proven_box_survives_100k_points(net_file):
    ex, net, _ = fit("iris", net_file, candidates="rows", max_verifications=3000, max_boxes=12)
    s = ex.surrogate_
    assert s.n_boxes > 0
    rng = np.random.default_rng(0)
    for k in range(s.n_boxes):
        P = box_points(s.lower[k], s.upper[k], N_POINTS, rng)
        labels = net.predict(P)
        assert np.all(labels == s.outputs[k]), f"box {k} is unsound"


@pytest.mark.parametrize(("complete", "budget"), [(False, 3000), (True, 600)])
def test_discrete_network_agrees_with_exhaustive_enumeration(complete, budget):
    net = load(FIXTURES / "via_discrete.onnx")
    grid = np.array(list(itertools.product(range(4), range(4), range(4), range(4), range(3))))
    X = np.hstack([grid[:, :4], np.eye(3)[grid[:, 4]]]).astype(float)
    names = ["n1", "n2", "n3", "n4", "c_a", "c_b", "c_c"]
    ex = VIAExtractor(net, candidates="tree", max_verifications=budget, max_boxes=200,
                      complete=complete, random_state=0).fit(X[::3], feature_names=names)
    s = ex.surrogate_
    assert s.n_boxes > 0
    if complete:  # mixed-integer programming settles every box
        assert ex.counts_["unknown"] == 0
    truth = net.predict(X)
    inside = np.zeros(len(X), dtype=bool)
    for k in range(s.n_boxes):
        member = np.all((X >= s.lower[k]) & (X <= s.upper[k]), axis=1)
        assert np.all(truth[member] == s.outputs[k]), f"box {k} is unsound"
        inside |= member
    assert inside.mean() > 0.5
    assert np.array_equal(s.covered(X), inside)


def test_monk1_group_splitting_covers_the_whole_domain():
    data = load_monk(1)
    net = load(FIXTURES / "monks" / "monk1.onnx")
    ex = VIAExtractor(net, candidates="tree", random_state=0).fit(
        data.X_train, feature_names=data.feature_names)
    s = ex.surrogate_
    truth = net.predict(data.X_test)
    assert s.covered(data.X_test).all()  # all 432 points
    assert np.array_equal(s.predict(data.X_test), truth)
    assert s.report_details(data.X_test, truth)["coverage_volume"] == pytest.approx(1.0)
    # The rules speak of categories, never of relaxed [0, 1] one-hot columns.
    assert "a5 == 1" in s.to_text() or "a5 in" in s.to_text()


def test_report_numbers(iris_rows):
    ex, net, sp = iris_rows
    s = ex.surrogate_
    ref = net.predict(sp.X_test)
    d = s.report_details(sp.X_test, ref)
    assert d["fidelity_covered"] == 1.0
    assert 0.5 < d["coverage_rows"] <= 1.0
    assert 0.0 < d["coverage_volume"] <= 1.0
    assert d["proven_boxes"] == s.n_boxes <= 64
    counts = d["verifications"]
    assert sum(counts.values()) <= 8000 and counts["proven"] >= s.n_boxes // 2
    assert d["fidelity_with_fallback"] == pytest.approx(np.mean(s.predict(sp.X_test) == ref))


def test_iris_goal_and_splitting_proves_more():
    covered = {}
    for depth, margin in ((0, 0.0), (8, 0.0), (8, 0.1)):  # 0.1: the default domain_margin
        ex, _, sp = fit("iris", "via_iris.onnx", candidates="rows", split_depth=depth,
                        domain_margin=margin)
        s = ex.surrogate_
        assert s.n_boxes <= 64
        covered[depth, margin] = s.covered(sp.X_test).mean()
    assert covered[8, 0.1] >= covered[8, 0.0] >= 0.85 > covered[0, 0.0]


def test_linear_bounds_prove_more_than_interval():
    covered = {}
    for bound in ("interval", "linear"):
        ex, _, sp = fit("iris", "via_iris.onnx", candidates="rows", bound=bound,
                          max_verifications=3000)
        covered[bound] = ex.surrogate_.covered(sp.X_test).mean()
    assert covered["linear"] > covered["interval"]


def test_surrogate_contract(iris_rows, tmp_path):
    ex, _, sp = iris_rows
    s = ex.surrogate_
    X = sp.X_test
    d = s.to_dict()
    jsonschema.validate(d, json.loads(SCHEMA.read_text()))
    assert d["format"] == "nnrules/boxes" and d["version"] == 2
    for box in d["boxes"]:
        assert box["class"] in (0, 1, 2)
        assert set(box["bounds"]) == set(sp.feature_names)
        assert all(lo <= hi for lo, hi in box["bounds"].values())
    text = json.dumps(d, sort_keys=True, allow_nan=False)
    back = BoxRuleSet.from_dict(json.loads(text))
    assert np.array_equal(back.predict(X), s.predict(X))
    assert np.array_equal(back.explain(X), s.explain(X))
    # explain: boxes >= 0, fallback leaves negative; reasons say which.
    idx = s.explain(X)
    reasons = s.reasons(X)
    for i, r in zip(idx, reasons):
        assert r.startswith("proven box") == (i >= 0)
        assert ("fallback tree" in r) == (i < 0)
    # predict equals the lambdified sympy expression, fallback included.
    from sympy_check import sympy_predict

    assert np.array_equal(sympy_predict(s, X), s.predict(X))
    c = s.complexity()
    assert c["boxes"] == s.n_boxes and c["conditions"] > 0


def test_same_seed_same_bytes():
    a, _, _ = fit("iris", "via_iris.onnx", candidates="tree", max_verifications=1000)
    b, _, _ = fit("iris", "via_iris.onnx", candidates="tree", max_verifications=1000)
    dump = lambda s: json.dumps(s.to_dict(), sort_keys=True)
    assert dump(a.surrogate_) == dump(b.surrogate_)


def test_abstain_fallback():
    ex, _, sp = fit("iris", "via_iris.onnx", candidates="rows", fallback="abstain",
                      max_verifications=2000)
    s = ex.surrogate_
    pred = s.predict(sp.X_test)
    out = ~s.covered(sp.X_test)
    assert all(p is None for p in pred[out])
    assert np.all(s.explain(sp.X_test)[out] == -1)
    assert "abstained" in s.reasons(sp.X_test[out][:1])[0] if out.any() else True


def test_regression_boxes_hold_their_output_ranges():
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    net = load(FIXTURES / "via_regression.onnx")
    ex = VIAExtractor(net, max_verifications=1500, output_tolerance=0.3, random_state=0).fit(
        d.data, feature_names=[str(n) for n in d.feature_names])
    s = ex.surrogate_
    assert s.task == "regression" and s.n_boxes > 0
    assert all("output" in b and "class" not in b for b in s.to_dict()["boxes"])
    rng = np.random.default_rng(0)
    for k in range(s.n_boxes):
        y = net.predict(box_points(s.lower[k], s.upper[k], 20000, rng))
        lo, hi = s.outputs[k]
        assert y.min() >= lo and y.max() <= hi


def test_refuted_rule_has_a_confirmed_counterexample():
    net = load(FIXTURES / "via_iris.onnx")
    lo = np.array([4.3, 2.0, 1.0, 0.1])
    hi = np.array([7.9, 4.4, 6.9, 2.5])
    verifier = Verifier(net, n_samples=256, complete=True)
    verdict = verifier.prove_box(lo, hi, 0, random_state=0)
    assert verdict.status == "refuted"
    cex = verdict.counterexample
    assert np.all(cex >= lo) and np.all(cex <= hi)
    assert net.predict(cex[None])[0] != 0


def test_bad_input():
    ex, net, sp = fit("iris", "via_iris.onnx", max_verifications=200)
    name = sp.feature_names[0]
    with pytest.raises(DataError, match="empty"):
        ex.verify({name: (6.0, 5.0)}, 0)
    with pytest.raises(DataError, match="outside the schema's bounds"):
        ex.verify({name: (0.0, 100.0)}, 0)
    with pytest.raises(ParameterError, match="Unknown class"):
        ex.verify({name: (5.0, 6.0)}, "tulip")
    with pytest.raises(ParameterError, match="max_boxes"):
        VIAExtractor(net, max_boxes=0).fit(sp.X_train)
    with pytest.raises(ParameterError, match="bound"):
        VIAExtractor(net, bound="exact").fit(sp.X_train)
    conv = load(FIXTURES / "graph_bad_conv.onnx")
    with pytest.raises(UnsupportedModelError, match=r"Conv.*(tree|pedagogical)"):
        VIAExtractor(conv).fit(np.zeros((4, _width(conv))))
    with pytest.raises(UnsupportedModelError, match="black box"):
        VIAExtractor(lambda X: np.zeros(len(X), dtype=int)).fit(sp.X_train)


def _width(net) -> int:
    shape = net.inputs[0].shape
    return int(np.prod([d for d in shape[1:] if d]))


@pytest.mark.parametrize("budget", [7, 50, 200])
def test_the_verification_budget_is_never_exceeded(budget):
    ex, _, _ = fit("iris", "via_iris.onnx", max_verifications=budget)
    assert sum(ex.counts_.values()) <= budget


def test_zero_budget_proves_nothing_and_falls_back():
    ex, net, sp = fit("iris", "via_iris.onnx", max_verifications=0)
    s = ex.surrogate_
    assert s.n_boxes == 0
    assert not s.covered(sp.X_test).any()
    assert np.all(s.explain(sp.X_test) < 0)
    d = s.report_details(sp.X_test, net.predict(sp.X_test))
    assert d["coverage_rows"] == 0.0 and d["fidelity_covered"] is None


@pytest.mark.parametrize(("name", "net_file"), [("iris", "via_iris.onnx"),
                                                ("wine", "via_wine.onnx")])
def test_boxes_proven_with_alpha_bounds_survive_100k_points(name, net_file):
    net, X, span, cls = held_out_centres(name, net_file)
    proven, extra = [], []
    for r in (0.05, 0.1, 0.15, 0.2):  # boxes around held-out rows, up to past the limit
        lo, hi = X - r * span, X + r * span
        opt = Verifier(net, bound="alpha").prove(lo, hi, cls, search=False)["status"]
        lin = Verifier(net, bound="linear").prove(lo, hi, cls, search=False)["status"]
        assert not np.any((lin == "proven") & (opt != "proven"))  # never weaker
        extra += [(lo[k], hi[k], cls[k]) for k in np.flatnonzero((opt == "proven")
                                                                 & (lin != "proven"))]
        proven += [(lo[k], hi[k], cls[k]) for k in np.flatnonzero(opt == "proven")]
    assert extra  # alpha proves boxes linear cannot: those and the widest are sampled
    rng = np.random.default_rng(0)
    widest = sorted(proven, key=lambda p: -np.sum(p[1] - p[0]))[:4]
    for lo, hi, c in extra[-4:] + widest:
        labels = net.predict(box_points(lo, hi, N_POINTS, rng))
        assert np.all(labels == net.classes_[c]), "a box proven with alpha bounds is unsound"


def test_boxes_proven_by_relu_splitting_survive_100k_points():
    net, X, span, cls = held_out_centres("wine", "via_wine.onnx")
    lo, hi = X - 0.1 * span, X + 0.1 * span
    alpha = Verifier(net, bound="alpha").prove(lo, hi, cls, random_state=0)["status"]
    split = Verifier(net, bound="alpha", relu_split=10).prove(lo, hi, cls,
                                                             random_state=0)["status"]
    assert not np.any((alpha == "proven") & (split != "proven"))
    extra = np.flatnonzero((split == "proven") & (alpha != "proven"))
    assert extra.size > 0
    rng = np.random.default_rng(0)
    for k in extra[:6]:
        labels = net.predict(box_points(lo[k], hi[k], N_POINTS, rng))
        assert np.all(labels == net.classes_[cls[k]]), "a box proven by ReLU splitting is unsound"


def test_sparse_input_network_gets_far_more_coverage_and_stays_sound():
    """The committed sparse-input wine network (scripts/make_via_sparse.py): its unused
    inputs really have zero weights, and its proven boxes cover many held-out rows."""
    meta = json.loads((FIXTURES / "via_fixtures.json").read_text())["via_wine_sparse"]
    ex, net, sp = fit("wine", "via_wine_sparse.onnx")
    first = net.layers.layers[0].weight  # (16, 13), standardisation folded in
    used = [n for n, col in zip(sp.feature_names, first.T) if np.any(col != 0)]
    assert used == meta["features_used"] and len(used) < 13
    s = ex.surrogate_
    assert s.covered(sp.X_test).mean() >= 0.10  # the plain via_wine.onnx: about 0.02
    rng = np.random.default_rng(0)
    for k in range(min(s.n_boxes, 6)):
        labels = net.predict(box_points(s.lower[k], s.upper[k], 20000, rng))
        assert np.all(labels == s.outputs[k]), f"box {k} is unsound"


def test_domain_margin_lets_proven_boxes_reach_past_the_rows_range_soundly():
    sp = tabular_split("iris")
    net = load(FIXTURES / "via_iris.onnx")
    lo_rows, hi_rows = sp.X_train.min(axis=0), sp.X_train.max(axis=0)
    span = hi_rows - lo_rows
    rng = np.random.default_rng(1)
    past = {}
    for margin in (0.0, 0.1):
        ex = VIAExtractor(net, random_state=0, domain_margin=margin, max_verifications=1500,
                          max_boxes=16).fit(sp.X_train, feature_names=sp.feature_names)
        s = ex.surrogate_
        assert s.n_boxes > 0
        assert np.all(s.lower >= lo_rows - margin * span - 1e-9)
        assert np.all(s.upper <= hi_rows + margin * span + 1e-9)
        past[margin] = bool(np.any(s.lower < lo_rows - 1e-9) or np.any(s.upper > hi_rows + 1e-9))
        for k in range(s.n_boxes):  # the network (onnxruntime) agrees on the widened parts too
            P = box_points(s.lower[k], s.upper[k], 3000, rng)
            assert np.all(net.predict(P) == s.outputs[k]), f"margin {margin}: box {k} unsound"
    assert past == {0.0: False, 0.1: True}
    with pytest.raises(ParameterError):
        VIAExtractor(net, domain_margin=-0.1).fit(sp.X_train, feature_names=sp.feature_names)


def test_volume_counts_only_the_part_of_a_box_inside_the_domain():
    sp = tabular_split("iris")
    ex, _, _ = fit("iris", "via_iris.onnx", max_verifications=600, max_boxes=4)
    s = ex.surrogate_
    lo_rows, hi_rows = sp.X_train.min(axis=0), sp.X_train.max(axis=0)
    span = hi_rows - lo_rows
    wide = BoxRuleSet(np.array([lo_rows - 0.1 * span]), np.array([hi_rows + 0.1 * span]),
                      [s.outputs[0]], schema=s.schema, task="classification",
                      classes=s.classes, fallback="abstain")
    assert wide.report_details(sp.X_test, s.outputs[:1] * len(sp.X_test))["coverage_volume"] == 1.0
    from nnrules.surrogates.boxes_coverage import box_fractions
    assert box_fractions(wide)[0] == pytest.approx(1.0)


def test_regression_spends_the_whole_budget_no_margin_reserve_held_back():
    # domain_margin's reserve is for classification boxes only: regression must not lose it.
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    net = load(FIXTURES / "via_regression.onnx")
    ex = VIAExtractor(net, max_verifications=200, output_tolerance=0.3, random_state=0).fit(
        d.data[:100], feature_names=[str(n) for n in d.feature_names])
    assert ex.budget_.total == 200
