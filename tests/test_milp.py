"""Complete verification by mixed-integer programming (nnrules.verify.milp)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from onnx_builders import dense_mlp, mlp_weights, save
from test_via import N_POINTS, box_points, held_out_centres

from nnrules.datasets.tabular import tabular_split
from nnrules.extract.via import VIAExtractor
from nnrules.io.model import load
from nnrules.verify import Verifier
from nnrules.verify.bounds import layer_bounds
from nnrules.verify.milp import _Program, applicable

FIXTURES = Path(__file__).parent / "fixtures"


def _net(tmp_path, activation: str, seed: int = 3):
    layers = mlp_weights([2, 12, 8, 3], seed=seed)
    return load(save(dense_mlp(layers, head="Softmax", activation=activation),
                     tmp_path / f"{activation}.onnx"))


@pytest.mark.parametrize("activation", ["Relu", "LeakyRelu"])
def test_program_minimum_matches_a_dense_grid(tmp_path, activation):
    """The encoding is exact: the program's optimum is the network's true minimum."""
    net = _net(tmp_path, activation)
    ir = Verifier(net).ir
    rng = np.random.default_rng(0)
    g = np.linspace(0.0, 1.0, 401)
    for _ in range(4):
        lo = rng.uniform(-2, 1, size=2)
        hi = lo + rng.uniform(0.3, 1.5, size=2)
        (o_lo, o_hi), inputs = layer_bounds(ir, lo[None], hi[None])
        prog = _Program(ir, lo, hi, [(a[0], b[0]) for a, b in inputs], (o_lo[0], o_hi[0]))
        grid = lo + np.array(list(itertools.product(g, g))) * (hi - lo)
        Z = ir.forward(grid)
        form = np.array([1.0, -1.0, 0.0])
        grid_min = float((Z @ form).min())  # >= the true minimum, by at most a grid step
        bound, x, value = prog.solve(form, gap=1e-9)  # solved to optimality
        assert bound <= grid_min + 1e-6  # a lower bound
        # Exact, not a relaxation: the optimum is the network's minimum (to a grid step of
        # 1/400 of the box), and the point it gives is a real network point with that value.
        assert grid_min - 0.05 <= value <= grid_min + 1e-6
        assert float(ir.forward(x[None, :2])[0] @ form) == pytest.approx(value, abs=1e-5)
        fast_bound, _, _ = prog.solve(form)  # the default stops early: still a lower bound
        assert fast_bound <= grid_min + 1e-6


@pytest.mark.parametrize("activation", ["Relu", "LeakyRelu"])
def test_complete_settles_every_box_and_agrees_with_a_dense_grid(tmp_path, activation):
    net = _net(tmp_path, activation)
    ir = Verifier(net).ir
    assert applicable(ir)
    rng = np.random.default_rng(1)
    lo = rng.uniform(-2, 1, size=(40, 2))
    hi = lo + rng.uniform(0.05, 0.8, size=(40, 2))
    centres = (lo + hi) / 2
    cls = np.array([list(net.classes_).index(v) for v in net.predict(centres)])
    res = Verifier(net, complete=True).prove(lo, hi, cls, random_state=0)
    assert not np.any(res["status"] == "unknown")
    g = np.linspace(0.0, 1.0, 201)
    U = np.array(list(itertools.product(g, g)))
    for k in range(len(lo)):
        labels = net.predict(lo[k] + U * (hi[k] - lo[k]))
        if res["status"][k] == "proven":
            assert np.all(labels == net.classes_[cls[k]]), f"box {k} proven but unsound"
        else:
            cex = res["counterexample"][k]
            assert np.all((cex >= lo[k]) & (cex <= hi[k]))
            assert net.predict(cex[None])[0] != net.classes_[cls[k]]
    assert 0 < np.mean(res["status"] == "proven") < 1  # the boxes test both answers


def test_wine_boxes_proven_only_by_the_program_survive_100k_points():
    net, X, span, cls = held_out_centres("wine", "via_wine.onnx")
    lo, hi = X - 0.1 * span, X + 0.1 * span
    base = Verifier(net, split_depth=8).prove(lo, hi, cls, random_state=0)["status"]
    full = Verifier(net, split_depth=8, complete=True).prove(lo, hi, cls, random_state=0)
    status = full["status"]
    assert not np.any((base == "proven") & (status != "proven"))
    assert not np.any(status == "unknown")  # complete on these boxes
    extra = np.flatnonzero((status == "proven") & (base != "proven"))
    assert extra.size >= 3
    rng = np.random.default_rng(0)
    for k in extra[:4]:
        labels = net.predict(box_points(lo[k], hi[k], N_POINTS, rng))
        assert np.all(labels == net.classes_[cls[k]]), "a box proven by the program is unsound"
    for k in np.flatnonzero(status == "refuted"):
        cex = full["counterexample"][k]
        assert net.predict(cex[None])[0] != net.classes_[cls[k]]


def test_sigmoid_networks_are_left_to_the_bound_engines():
    net, X, span, cls = held_out_centres("iris", "via_iris_sigmoid.onnx", n=10)
    ir = Verifier(net).ir
    assert not applicable(ir)
    a = Verifier(net).prove(X - 0.2 * span, X + 0.2 * span, cls, random_state=0)
    b = Verifier(net, complete=True).prove(X - 0.2 * span, X + 0.2 * span, cls,
                                          random_state=0)
    assert np.array_equal(a["status"], b["status"])


def test_complete_extraction_is_deterministic_and_keeps_its_budget():
    sp = tabular_split("iris")
    net = load(FIXTURES / "via_iris.onnx")

    def run():
        ex = VIAExtractor(net, max_verifications=300, split_depth=0, complete=True,
                          random_state=0).fit(sp.X_train, feature_names=sp.feature_names)
        return ex, json.dumps(ex.surrogate_.to_dict(), sort_keys=True)

    (a, dump_a), (_, dump_b) = run(), run()
    assert dump_a == dump_b
    assert sum(a.counts_.values()) <= 300
    assert a.surrogate_.verification["complete"] is True
    # Settled means settled: the node limit was not reached on these small boxes.
    assert a.counts_["unknown"] <= 0.05 * sum(a.counts_.values())


def test_a_single_rule_is_settled_exactly():
    """A complete verifier answers proven or refuted where the linear bound alone says
    unknown."""
    net, X, span, cls = held_out_centres("wine", "via_wine.onnx")
    exact = Verifier(net, n_samples=256, complete=True)
    bound_only = Verifier(net, n_samples=256)
    answers = [exact.prove_box(x - 0.12 * span, x + 0.12 * span, int(c), random_state=0)
               for x, c in zip(X, cls)]
    loose = [bound_only.prove_box(x - 0.12 * span, x + 0.12 * span, int(c), random_state=0)
             for x, c in zip(X, cls)]
    assert all(a.status != "unknown" for a in answers)
    assert sum(v.status == "unknown" for v in loose) >= 5
    for a, c in zip(answers, cls):
        if a.status == "refuted":
            assert net.predict(a.counterexample[None])[0] != net.classes_[c]


def test_exact_output_ranges_are_sound_and_tight():
    from sklearn.datasets import load_diabetes

    X = load_diabetes().data
    net = load(FIXTURES / "via_regression.onnx")
    span = X.max(axis=0) - X.min(axis=0)
    rng = np.random.default_rng(0)
    centres = X[rng.choice(len(X), size=6, replace=False)]
    lo, hi = centres - 0.1 * span, centres + 0.1 * span
    lin_lo, lin_hi = Verifier(net).output_range(lo, hi)
    ex_lo, ex_hi = Verifier(net, complete=True).output_range(lo, hi)
    assert np.all(ex_lo >= lin_lo) and np.all(ex_hi <= lin_hi)
    assert np.sum(ex_hi - ex_lo) < 0.9 * np.sum(lin_hi - lin_lo)  # it does tighten
    for k in range(len(lo)):
        y = net.predict(box_points(lo[k], hi[k], N_POINTS, rng))
        assert ex_lo[k, 0] <= y.min() and y.max() <= ex_hi[k, 0]  # sound
        # tight: sampling gets within 3% of the proven range (its ends are real extremes)
        assert (ex_hi[k, 0] - ex_lo[k, 0]) <= 1.03 * (y.max() - y.min()) + 1e-3


def test_complete_regression_boxes_hold_their_output_ranges():
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    net = load(FIXTURES / "via_regression.onnx")
    ex = VIAExtractor(net, max_verifications=60, output_tolerance=0.3, complete=True,
                      random_state=0).fit(d.data, feature_names=[str(n) for n in d.feature_names])
    s = ex.surrogate_
    assert s.n_boxes > 0
    rng = np.random.default_rng(0)
    for k in range(s.n_boxes):
        y = net.predict(box_points(s.lower[k], s.upper[k], 20000, rng))
        lo, hi = s.outputs[k]
        assert y.min() >= lo and y.max() <= hi
        assert hi - lo <= ex.output_tol_ + 1e-9
