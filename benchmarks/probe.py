"""Throughput of Network.predict beside a bare onnxruntime session.run on the same model.

Run from the repository root:  python benchmarks/probe.py

The model is a 30-256-256-2 ReLU MLP with a softmax head, built with onnx.helper from seeded
weights (no torch). "bare" is a session made by nnrules' own session maker (1 thread, basic
graph optimisation, deterministic compute); "bare, ort defaults" uses onnxruntime's defaults.
Rows/s: the median of 7 interleaved repeats of >= 0.2 s each (export.py's timing).
Goal: ratio (Network / bare) >= 0.9 at batch >= 4096.

The ort-defaults session is timed in a second pass, after every Network / bare pair: it runs
one intra-op thread per core, and its worker threads spin on after each run
(``session.intra_op.allow_spinning``), so on a 2-core machine with one core busy whatever is
timed right after it loses that core. Interleaved with the pair it cost the callable timed next
15-20 % (Network then, ratio 0.85; bare when timed first, ratio 1.16).
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
    data = {batch: rng.normal(size=(batch, 30)).astype(np.float32) for batch in BATCHES}
    pairs = {batch: _rates({"ours": lambda X=X: net.predict(X),
                            "bare": lambda X=X: bare.run(["Y"], {"X": X})}, batch)
             for batch, X in data.items()}
    # Second pass: the multi-threaded session's spinning workers must not slow the pair.
    defaults = {batch: _rates({"defaults": lambda X=X: default.run(["Y"], {"X": X})},
                              batch)["defaults"] for batch, X in data.items()}
    print("| batch | Network.predict rows/s | bare session.run rows/s | ratio "
          "| bare, ort defaults rows/s |")
    print("|---:|---:|---:|---:|---:|")
    for batch in BATCHES:
        ours, theirs = pairs[batch]["ours"], pairs[batch]["bare"]
        print(f"| {batch} | {ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} "
              f"| {defaults[batch]:,.0f} |")


if __name__ == "__main__":
    main()
