"""The bound engine under ``via``: soundness of every bound, linear never looser than interval,
the float32 error bound against onnxruntime, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrules.exceptions import DataError, UnsupportedModelError
from nnrules.io.graph import Activation, Affine, DenseIR
from nnrules.io.model import load
from nnrules.verify import Verifier
from nnrules.verify.bounds import (
    _act,
    _relax,
    check_ir,
    float32_error,
    layer_bounds,
    spec_lower_bounds,
)
from nnrules.verify.verifier import class_spec

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = ["relu", "leaky_relu", "sigmoid", "tanh"]


def random_ir(sizes, kind, seed=0, alpha=0.1):
    rng = np.random.default_rng(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(0, 1.5 / np.sqrt(a), (b, a)).astype(np.float32).astype(np.float64)
        bias = rng.normal(0, 0.3, b).astype(np.float32).astype(np.float64)
        layers.append(Affine(W, bias, f"l{i}"))
        if i < len(sizes) - 2:
            layers.append(Activation(kind, alpha, f"a{i}"))
    return DenseIR(tuple(layers), "softmax", "x", sizes[0], sizes[-1])


def random_boxes(n, d, seed=1, width=0.5):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, d))
    w = rng.random((n, d)) * width
    return c - w, c + w


@pytest.mark.parametrize(("kind", "alpha"), [(k, 0.1) for k in KINDS]
                         + [("leaky_relu", -0.3), ("leaky_relu", 1.5)])
def test_relaxation_lines_enclose_the_activation(kind, alpha):
    rng = np.random.default_rng(0)
    lo = rng.normal(0, 3, 500)
    hi = lo + rng.exponential(2, 500) * (rng.random(500) > 0.05)  # some zero widths
    aL, bL, aU, bU = _relax(kind, alpha, lo, hi)
    t = rng.random((200, 1))
    z = lo + t * (hi - lo)
    f = _act(kind, alpha, z)
    assert np.all(aL * z + bL <= f + 1e-12)
    assert np.all(aU * z + bU >= f - 1e-12)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["interval", "linear"])
def test_layer_bounds_contain_every_sampled_output(kind, method):
    ir = random_ir([5, 12, 9, 3], kind)
    lo, hi = random_boxes(40, 5)
    (out_lo, out_hi), _ = layer_bounds(ir, lo, hi, method=method)
    rng = np.random.default_rng(2)
    for b in range(len(lo)):
        P = lo[b] + rng.random((500, 5)) * (hi[b] - lo[b])
        Z = ir.forward(P)
        assert np.all(Z >= out_lo[b] - 1e-9) and np.all(Z <= out_hi[b] + 1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_linear_spec_bounds_are_sound_and_never_looser(kind):
    ir = random_ir([6, 16, 8, 4], kind, seed=3)
    lo, hi = random_boxes(60, 6, seed=4, width=0.3)
    cls = ir.forward((lo + hi) / 2).argmax(axis=1)
    spec = class_spec(ir, cls)
    lin = spec_lower_bounds(ir, lo, hi, spec, method="linear")["bound"]
    iv = spec_lower_bounds(ir, lo, hi, spec, method="interval")["bound"]
    assert np.all(lin >= iv - 1e-12)
    assert np.mean(lin > iv + 1e-6) > 0.5  # strictly tighter on most boxes
    rng = np.random.default_rng(5)
    for b in range(len(lo)):
        P = lo[b] + rng.random((400, 6)) * (hi[b] - lo[b])
        values = np.einsum("mn,pn->pm", spec[b], ir.forward(P))
        assert np.all(values >= lin[b] - 1e-9)


@pytest.mark.parametrize("name", ["via_iris", "via_iris_sigmoid", "via_iris_tanh", "via_wine"])
def test_float32_error_bound_covers_onnxruntime(name):
    net = load(FIXTURES / f"{name}.onnx")
    ir = net.layers
    rng = np.random.default_rng(0)
    base = rng.random((1, ir.n_inputs)) * 10
    lo, hi = base - 5.0, base + 5.0
    _, inputs = layer_bounds(ir, lo, hi, method="interval")
    err = float32_error(ir, lo, hi, inputs)[0]
    P = lo + rng.random((20000, ir.n_inputs)) * (hi - lo)
    observed = np.abs(net.logits(P) - ir.forward(P)).max(axis=0)
    assert np.all(observed <= err), (observed, err)
    assert np.all(err < 1e-2)  # and it is not vacuous


def test_output_range_contains_regression_outputs():
    net = load(FIXTURES / "via_regression.onnx")
    rng = np.random.default_rng(0)
    lo = rng.uniform(-0.1, 0.05, (10, 10))
    hi = lo + rng.uniform(0, 0.05, (10, 10))
    for method in ("interval", "linear"):
        out_lo, out_hi = Verifier(net, bound=method).output_range(lo, hi)
        for b in range(10):
            y = net.predict(lo[b] + rng.random((2000, 10)) * (hi[b] - lo[b]))
            assert y.min() >= out_lo[b, 0] and y.max() <= out_hi[b, 0]


def test_bad_boxes_and_layers_are_refused():
    ir = random_ir([2, 4, 2], "relu")
    with pytest.raises(DataError, match="empty"):
        Verifier(ir).prove_box([1.0, 0.0], [0.0, 1.0], 0)
    with pytest.raises(DataError, match="finite"):
        Verifier(ir).prove_box([np.nan, 0.0], [1.0, 1.0], 0)
    with pytest.raises(DataError, match="shape"):
        Verifier(ir).prove_box([0.0, 0.0, 0.0], [1.0, 1.0, 1.0], 0)
    odd = DenseIR((Affine(np.eye(2), np.zeros(2), "a"), Activation("gelu", 0.0, "g")),
                  "softmax", "x", 2, 2)
    with pytest.raises(UnsupportedModelError, match="gelu.*pedagogical"):
        check_ir(odd)


@pytest.mark.parametrize(("kind", "alpha"), [("relu", 0.0), ("leaky_relu", 0.1),
                                             ("leaky_relu", -0.3), ("leaky_relu", 1.5),
                                             ("tanh", 0.0)])
def test_alpha_spec_bounds_are_sound_and_never_looser_than_linear(kind, alpha):
    ir = random_ir([6, 16, 8, 4], kind, seed=3, alpha=alpha)
    lo, hi = random_boxes(60, 6, seed=4, width=0.6)
    cls = ir.forward((lo + hi) / 2).argmax(axis=1)
    spec = class_spec(ir, cls)
    lin = spec_lower_bounds(ir, lo, hi, spec, method="linear")
    opt = spec_lower_bounds(ir, lo, hi, spec, method="alpha")
    assert np.all(opt["bound"] >= lin["bound"] - 1e-12)
    if kind in ("relu", "leaky_relu") and alpha <= 1.0:
        assert np.mean(opt["bound"] > lin["bound"] + 1e-6) > 0.3  # the slopes do move
    else:  # no free slopes: exactly the linear bound
        assert np.array_equal(opt["bound"], lin["bound"])
    # Same float32 error formula, fed with (tighter) optimised hidden-layer bounds.
    assert np.all(opt["error"] <= lin["error"]) and np.all(opt["error"] > 0)
    rng = np.random.default_rng(5)
    for b in range(len(lo)):
        P = lo[b] + rng.random((400, 6)) * (hi[b] - lo[b])
        P[:64] = np.where(rng.random((64, 6)) < 0.5, lo[b], hi[b])  # corners
        values = np.einsum("mn,pn->pm", spec[b], ir.forward(P))
        assert np.all(values >= opt["bound"][b] - 1e-9)
        # The returned coefficients are those of a valid linear lower bound at its vertex.
        vertex = np.where(opt["coef"][b] > 0, lo[b], hi[b])  # (m, d)
        at_vertex = np.einsum("mn,mn->m", spec[b], ir.forward(vertex))
        assert np.all(at_vertex >= opt["bound"][b] - 1e-9)


@pytest.mark.parametrize("kind", ["relu", "leaky_relu"])
def test_alpha_layer_bounds_are_sound_and_inside_linear(kind):
    ir = random_ir([5, 12, 9, 3], kind, seed=7)
    lo, hi = random_boxes(40, 5, seed=8, width=0.8)
    (a_lo, a_hi), a_in = layer_bounds(ir, lo, hi, method="alpha")
    (l_lo, l_hi), l_in = layer_bounds(ir, lo, hi, method="linear")
    for (al, ah), (ll, lh) in zip(a_in + [(a_lo, a_hi)], l_in + [(l_lo, l_hi)]):
        assert np.all(al >= ll - 1e-12) and np.all(ah <= lh + 1e-12)
    rng = np.random.default_rng(9)
    for b in range(len(lo)):
        acts = [lo[b] + rng.random((500, 5)) * (hi[b] - lo[b])]
        for layer in ir.layers:
            acts.append(layer(acts[-1]))
        for (al, ah), z in zip(a_in + [(a_lo, a_hi)], acts):
            assert np.all(z >= al[b] - 1e-9) and np.all(z <= ah[b] + 1e-9)


def test_alpha_output_range_contains_regression_outputs():
    net = load(FIXTURES / "via_regression.onnx")
    rng = np.random.default_rng(0)
    lo = rng.uniform(-0.1, 0.05, (10, 10))
    hi = lo + rng.uniform(0, 0.1, (10, 10))
    out_lo, out_hi = Verifier(net, bound="alpha").output_range(lo, hi)
    lin_lo, lin_hi = Verifier(net, bound="linear").output_range(lo, hi)
    assert np.all(out_lo >= lin_lo) and np.all(out_hi <= lin_hi)
    for b in range(10):
        y = net.predict(lo[b] + rng.random((2000, 10)) * (hi[b] - lo[b]))
        assert y.min() >= out_lo[b, 0] and y.max() <= out_hi[b, 0]


@pytest.mark.parametrize(("kind", "alpha"), [("relu", 0.0), ("leaky_relu", 0.1)])
def test_bounds_on_a_relu_phase_part_hold_on_that_part(kind, alpha):
    ir = random_ir([4, 10, 8, 3], kind, seed=11, alpha=alpha)
    lo, hi = random_boxes(30, 4, seed=12, width=1.0)
    rng = np.random.default_rng(13)
    phase = rng.choice([-1.0, 0.0, 1.0], size=(30, 10), p=[0.2, 0.6, 0.2])
    cls = ir.forward((lo + hi) / 2).argmax(axis=1)
    spec = class_spec(ir, cls)
    whole = spec_lower_bounds(ir, lo, hi, spec, method="alpha")["bound"]
    part = spec_lower_bounds(ir, lo, hi, spec, method="alpha", phase=phase)
    n_checked = 0
    for b in range(len(lo)):
        P = lo[b] + rng.random((4000, 4)) * (hi[b] - lo[b])
        z = ir.layers[0](P)
        inside = np.all((phase[b] == 0) | (np.sign(z) == phase[b]) | (z == 0), axis=1)
        if part["empty"][b]:
            assert not inside.any()  # an empty part really has no point
            continue
        values = np.einsum("mn,pn->pm", spec[b], ir.forward(P[inside]))
        assert np.all(values >= part["bound"][b] - 1e-9)
        n_checked += int(inside.sum())
    assert n_checked > 1000
    assert np.mean(part["bound"] > whole + 1e-6) > 0.3  # the part's constraints are used


def test_relu_splitting_proves_more_and_stays_sound():
    from nnrules.verify.relu_split import prove_by_relu_splitting

    ir = random_ir([5, 16, 8, 3], "relu", seed=21)
    lo, hi = random_boxes(80, 5, seed=22, width=0.7)
    cls = ir.forward((lo + hi) / 2).argmax(axis=1)
    spec = class_spec(ir, cls)
    res = spec_lower_bounds(ir, lo, hi, spec, method="alpha")
    todo = np.flatnonzero((res["bound"] - res["error"]).min(axis=1) <= 1e-5)
    split = prove_by_relu_splitting(ir, lo[todo], hi[todo], spec[todo], depth=8)
    assert 0 < split.sum() < todo.size  # proves boxes the whole-box bound cannot (not all)
    rng = np.random.default_rng(23)
    for b in todo[split]:
        P = lo[b] + rng.random((3000, 5)) * (hi[b] - lo[b])
        P[:200] = np.where(rng.random((200, 5)) < 0.5, lo[b], hi[b])
        assert np.all(ir.forward(P).argmax(axis=1) == cls[b])
