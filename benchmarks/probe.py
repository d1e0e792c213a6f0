"""Throughput of Network.predict beside a bare onnxruntime session.run on the same model.

Run from the repository root:  python benchmarks/probe.py

The model is a 30-256-256-2 ReLU MLP with a softmax head, built with onnx.helper from seeded
weights (no torch). "bare" is a session made by nnrules' own session maker (1 thread, basic
graph optimisation, deterministic compute); "bare, ort defaults" uses onnxruntime's defaults.
Rows/s: the median of 7 interleaved repeats of >= 0.2 s each (export.py's timing).
Goal: ratio (Network / bare) >= 0.9 at batch >= 4096.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from onnx_builders import dense_mlp, mlp_weights, save

from export import _rates  # median of interleaved repeats, as export.py times

from nnrules.io.model import load
from nnrules.io.model_load import _session

BATCHES = (1, 256, 4096, 65536)


def main() -> None:
    layers = mlp_weights([30, 256, 256, 2], seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = save(dense_mlp(layers, head="Softmax"), Path(tmp) / "mlp.onnx")
        net = load(path)
        bare = _session(onnx.load(str(path)))  # nnrules' own session settings
        default = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    print("| batch | Network.predict rows/s | bare session.run rows/s | ratio "
          "| bare, ort defaults rows/s |")
    print("|---:|---:|---:|---:|---:|")
    for batch in BATCHES:
        X = rng.normal(size=(batch, 30)).astype(np.float32)
        rates = _rates({"ours": lambda X=X: net.predict(X),
                        "bare": lambda X=X: bare.run(["Y"], {"X": X}),
                        "defaults": lambda X=X: default.run(["Y"], {"X": X})}, batch)
        ours, theirs, defaults = rates["ours"], rates["bare"], rates["defaults"]
        print(f"| {batch} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} | {defaults:,.0f} |")


if __name__ == "__main__":
    main()
