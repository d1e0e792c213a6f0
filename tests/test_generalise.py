"""Shapes the generalisation sweep (benchmarks/generalise.py) found nnrules mishandling.

Each test failed before its fix. Fixtures: tests/fixtures/generalise/ (scripts/make_generalise_fixtures.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris

from nnrules.io.graph import read_dense

FIX = Path(__file__).parent / "fixtures" / "generalise"


def _ort_proba(path: Path, X: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: X.astype(np.float32)})
    proba = outs[1]
    if isinstance(proba, list):  # ZipMap: a list of {class: probability}
        proba = np.array([[row[k] for k in sorted(row)] for row in proba])
    return np.asarray(proba, dtype=np.float64)


@pytest.mark.parametrize("name", ["skl_scaler_iris.onnx", "skl_scaler_binary.onnx"])
def test_standard_scaler_pipeline_reads_as_dense_layers(name):
    """skl2onnx writes StandardScaler as ai.onnx.ml Scaler: folded into the first affine layer."""
    ir = read_dense(onnx.load(str(FIX / name)))
    assert ir.n_inputs == 4
    assert "Scaler" in ir.layers[0].name  # the scaler is part of the first affine map
    rng = np.random.default_rng(0)
    X = np.vstack([load_iris().data, rng.uniform([4, 2, 1, 0], [8, 4.5, 7, 2.5], (200, 4))])
    out = ir.apply_head(ir.forward(X))
    got = _ort_proba(FIX / name, X)
    if out.shape[1] == 1:  # one logistic unit: the network's [1 - p, p]
        out = np.hstack([1 - out, out])
    np.testing.assert_allclose(out, got, rtol=1e-5, atol=1e-5)


def test_scaler_pipeline_white_box_methods_run_and_via_boxes_are_sound():
    """VIA proves boxes on the scaler pipeline; points inside them get the box's class."""
    import nnrules

    network = nnrules.load(FIX / "skl_scaler_iris.onnx")
    X = load_iris().data
    ex = nnrules.VIAExtractor(network, max_verifications=300, random_state=0).fit(X)
    boxes = ex.surrogate_
    assert boxes.n_boxes >= 3
    rng = np.random.default_rng(1)
    for k in range(boxes.n_boxes):
        lo, hi = boxes.lower[k], boxes.upper[k]
        P = rng.uniform(lo, hi, (200, 4))
        labels = np.asarray(network.predict(P))
        assert np.all(labels == boxes.outputs[k])
