"""Make tests/fixtures/generalise/monk3_skl_8_s21.onnx, a MONK-3 network nnrules was not tuned on.

scikit-learn ``MLPClassifier((8,), alpha=1.0, solver="lbfgs", random_state=21)`` on MONK-3's
122 training rows (17 one-hot inputs), converted by skl2onnx without ZipMap; feature names in
the model's metadata. It learns MONK-3's label noise as small exceptions that sit in nodes with
fewer than 4 real rows: TREPAN with ``min_real=4`` (its old default) stops at 0.979 fidelity on
the 432 rows, with the new default (``min_real=1`` on all-discrete domains) it reaches 1.000
(``tests/test_generalise.py::test_new_monk3_network_needs_queries_to_split_small_nodes``; the choice
of the default: ``benchmarks/trepan_monk.py``).

Seeded; needs scikit-learn and skl2onnx (the ``[train]`` extra). Run from the repository root::

    python scripts/make_trepan_monk3.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
from sklearn.neural_network import MLPClassifier
from skl2onnx import to_onnx

from nnrules.datasets import load_monk

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "generalise"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = load_monk(3)
    X = data.X_train.astype(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = MLPClassifier((8,), solver="lbfgs", alpha=1.0, max_iter=1000,
                            random_state=21).fit(X, data.y_train)
    model = to_onnx(net, X[:1].astype(np.float32), target_opset=17,
                    options={id(net): {"zipmap": False}})
    onnx.helper.set_model_props(model, {"feature_names": ",".join(data.feature_names)})
    path = OUT / "monk3_skl_8_s21.onnx"
    onnx.save(model, str(path))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
