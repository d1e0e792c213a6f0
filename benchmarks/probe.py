"""Throughput of Network.predict beside a bare onnxruntime session.run on the same model.

Run from the repository root:  python benchmarks/probe.py

The model is a 30-256-256-2 ReLU MLP with a softmax head, built with onnx.helper from seeded
weights (no torch). "bare" uses the same session settings as nnrules (1 thread, basic graph
optimisation, deterministic compute); "bare, ort defaults" uses onnxruntime's defaults.
Goal: ratio (Network / bare) >= 0.9 at batch >= 4096.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from onnx_builders import dense_mlp, mlp_weights, save

from nnrules.io.model import N_THREADS, load

BATCHES = (1, 256, 4096, 65536)


def _rate(fn, n_rows: int, *, min_seconds: float = 0.3, repeats: int = 3) -> float:
    """Best rows/s over ``repeats`` timings, each looping ``fn`` for at least ``min_seconds``."""
    best = 0.0
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = max(best, calls * n_rows / elapsed)
    return best


def main() -> None:
    layers = mlp_weights([30, 256, 256, 2], seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = save(dense_mlp(layers, head="Softmax"), Path(tmp) / "mlp.onnx")
        net = load(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = N_THREADS
        options.inter_op_num_threads = N_THREADS
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.use_deterministic_compute = True
        bare = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        default = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    print("| batch | Network.predict rows/s | bare session.run rows/s | ratio "
          "| bare, ort defaults rows/s |")
    print("|---:|---:|---:|---:|---:|")
    for batch in BATCHES:
        X = rng.normal(size=(batch, 30)).astype(np.float32)
        ours = _rate(lambda X=X: net.predict(X), batch)
        theirs = _rate(lambda X=X: bare.run(["Y"], {"X": X}), batch)
        defaults = _rate(lambda X=X: default.run(["Y"], {"X": X}), batch)
        print(f"| {batch} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} | {defaults:,.0f} |")


if __name__ == "__main__":
    main()
