"""The verifier object: built once, its answers confirmed by onnxruntime and by sampling, and
the network's layer IR read once per network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_via import box_points, held_out_centres

from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract.via import VIAExtractor
from nnrules.io.model import load
from nnrules.verify import Budget, Verifier

FIXTURES = Path(__file__).parent / "fixtures"


def test_counterexamples_are_confirmed_points_of_their_boxes():
    net, X, span, cls = held_out_centres("iris", "via_iris.onnx")
    lo, hi = X - 0.15 * span, X + 0.15 * span
    verifier = Verifier(net)
    status = verifier.prove(lo, hi, cls, random_state=0)["status"]
    found = verifier.find_counterexample(lo, hi, cls, random_state=0)
    hit = ~np.isnan(found[:, 0])
    assert hit.sum() >= 5 and not np.any(hit & (status == "proven"))
    assert np.all((found[hit] >= lo[hit]) & (found[hit] <= hi[hit]))
    assert np.all(net.predict(found[hit]) != net.classes_[cls[hit]])  # onnxruntime agrees


def test_search_points_are_valid_rows_of_the_domain():
    """With a domain, a counterexample has whole integers and exactly one hot column."""
    net = load(FIXTURES / "via_discrete.onnx")
    rng = np.random.default_rng(0)
    X = np.hstack([rng.integers(0, 4, size=(200, 4)), np.eye(3)[rng.integers(0, 3, 200)]])
    names = ["n1", "n2", "n3", "n4", "c_a", "c_b", "c_c"]
    ex = VIAExtractor(net, max_verifications=20, random_state=0).fit(X.astype(float),
                                                                      feature_names=names)
    verifier, dom = ex.verifier_, ex.domain_
    lo, hi = np.tile(dom.lower, (3, 1)), np.tile(dom.upper, (3, 1))
    found = verifier.find_counterexample(lo, hi, [0, 1, 2], random_state=0)
    hit = ~np.isnan(found[:, 0])
    assert hit.sum() >= 2
    pts = found[hit]
    assert np.array_equal(pts[:, :4], np.round(pts[:, :4]))
    assert np.array_equal(pts[:, 4:].sum(axis=1), np.ones(len(pts)))
    assert set(np.unique(pts[:, 4:])) <= {0.0, 1.0}
    assert np.all(net.predict(pts) != net.classes_[np.array([0, 1, 2])[hit]])


def test_prove_range_holds_on_sampled_points():
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data
    net = load(FIXTURES / "via_regression.onnx")
    span = X.max(axis=0) - X.min(axis=0)
    lo, hi = X[:8] - 0.02 * span, X[:8] + 0.02 * span
    verifier = Verifier(net)
    out_lo, out_hi = verifier.output_range(lo, hi)
    width = out_hi[:, 0] - out_lo[:, 0]
    cut = float(np.median(width))
    status = verifier.prove_range(lo, hi, cut)["status"]
    assert np.array_equal(status == "proven", width <= cut)
    assert 0 < np.sum(status == "proven") < len(lo)
    rng = np.random.default_rng(0)
    for k in np.flatnonzero(status == "proven"):
        y = net.predict(box_points(lo[k], hi[k], 5000, rng))
        assert y.max() - y.min() <= cut


def test_budget_counts_what_is_spent():
    budget = Budget(5)
    budget.spend(np.array(["proven", "refuted", "proven"]))
    assert budget.left == 2 and budget.counts == {"proven": 2, "refuted": 1, "unknown": 0}


def test_the_layer_ir_is_read_once_per_network(monkeypatch):
    from nnrules.io import graph

    calls = []
    original = graph.read_dense

    def counting(model):
        calls.append(1)
        return original(model)

    monkeypatch.setattr(graph, "read_dense", counting)
    net = load(FIXTURES / "via_iris.onnx")
    X = held_out_centres("iris", "via_iris.onnx")[1]
    ex = VIAExtractor(net, max_verifications=40, random_state=0).fit(X)
    ex.verify({}, net.classes_[0])
    assert net.layers is net.layers
    assert len(calls) == 1
    bad = load(FIXTURES / "graph_bad_conv.onnx")
    for _ in range(2):  # an unsupported graph raises on every access
        with pytest.raises(UnsupportedModelError, match="Conv"):
            _ = bad.layers


def test_bad_settings_and_boxes():
    net = load(FIXTURES / "via_iris.onnx")
    with pytest.raises(ParameterError, match="bound"):
        Verifier(net, bound="exact")
    with pytest.raises(UnsupportedModelError, match="black box|dense layer IR"):
        Verifier(lambda X: X)
    verifier = Verifier(net)
    with pytest.raises(DataError, match="one per box"):
        verifier.prove(np.zeros((3, 4)), np.ones((3, 4)), [0, 1])
    with pytest.raises(ParameterError, match="Class indices"):
        verifier.find_counterexample(np.zeros((1, 4)), np.ones((1, 4)), [7])
