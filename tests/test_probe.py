"""nnrules.io.probe.run_batched: chunking, joining, fast path, errors."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx_builders import dense_mlp, mlp_weights, numpy_forward

from nnrules.exceptions import DataError, ParameterError
from nnrules.io.probe import run_batched


class _Recorder:
    """A stand-in session: doubles its input, returns a ZipMap-like list, records calls."""

    def __init__(self):
        self.calls = []

    def run(self, names, feeds):
        self.calls.append(feeds)
        x = feeds["X"]
        return [x * 2, [{"row": float(v)} for v in x[:, 0]]][: len(names)]


def test_single_chunk_is_one_call_without_copies():
    session, X = _Recorder(), np.arange(12.0).reshape(6, 2)
    out, _ = run_batched(session, {"X": X}, ["a", "b"], batch_size=6)
    assert len(session.calls) == 1
    assert session.calls[0]["X"] is X
    np.testing.assert_array_equal(out, X * 2)


@pytest.mark.parametrize("batch_size", [1, 4, 5, 100])
def test_chunks_join_in_order(batch_size):
    session, X = _Recorder(), np.arange(22.0).reshape(11, 2)
    arr, seq = run_batched(session, {"X": X}, ["a", "b"], batch_size=batch_size)
    assert len(session.calls) == -(-11 // batch_size)
    np.testing.assert_array_equal(arr, X * 2)
    assert [d["row"] for d in seq] == list(X[:, 0])


def test_progress_bar_runs(capsys):
    session, X = _Recorder(), np.zeros((10, 2))
    (out,) = run_batched(session, {"X": X}, ["a"], batch_size=3, progress=True)
    assert out.shape == (10, 2)


def test_real_session_matches_numpy():
    layers = mlp_weights([4, 6, 2], seed=5)
    model = dense_mlp(layers)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    X = np.random.default_rng(0).normal(size=(101, 4)).astype(np.float32)
    (out,) = run_batched(session, {"X": X}, ["z1"], batch_size=10)
    np.testing.assert_allclose(out, numpy_forward(layers, X)["z1"], atol=1e-5)


def test_unequal_rows_refused():
    with pytest.raises(DataError, match="same number of rows"):
        run_batched(_Recorder(), {"X": np.zeros((3, 2)), "Y": np.zeros((4, 1))}, ["a"])


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size(bad):
    with pytest.raises(ParameterError, match="'batch_size' parameter"):
        run_batched(_Recorder(), {"X": np.zeros((3, 2))}, ["a"], batch_size=bad)
