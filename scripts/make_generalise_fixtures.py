"""Make the small networks of tests/test_generalise.py: tests/fixtures/generalise/.

Each is a shape the robustness sweep (``benchmarks/generalise.py``) found nnrules mishandling:

- ``skl_scaler_iris.onnx``: scikit-learn ``make_pipeline(StandardScaler(), MLPClassifier((5,)))``
  on iris, converted by skl2onnx with its default ZipMap output. The graph starts with the
  ``ai.onnx.ml`` ``Scaler`` op, which the white-box reader refused before.
- ``skl_scaler_binary.onnx``: the same on two iris classes (versicolor vs virginica, one
  logistic output unit: skl2onnx's ``Sigmoid`` + ``Concat`` head behind a ``Scaler``).

Seeded; needs scikit-learn and skl2onnx (the ``[train]`` extra). Run from the repository root::

    python scripts/make_generalise_fixtures.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "generalise"
NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")


def _save(pipe, X: np.ndarray, path: Path, zipmap: bool) -> None:
    options = None if zipmap else {id(pipe.steps[-1][1]): {"zipmap": False}}
    model = to_onnx(pipe, X[:1].astype(np.float32), target_opset=17, options=options)
    onnx.helper.set_model_props(model, {"feature_names": ",".join(NAMES)})
    onnx.save(model, str(path))
    print(f"wrote {path} ({path.stat().st_size} bytes)")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multi = make_pipeline(StandardScaler(), MLPClassifier(
            (5,), solver="lbfgs", max_iter=500, random_state=0)).fit(X, y)
        two = y > 0
        binary = make_pipeline(StandardScaler(), MLPClassifier(
            (4,), solver="lbfgs", max_iter=500, random_state=0)).fit(X[two], y[two])
    _save(multi, X, OUT / "skl_scaler_iris.onnx", zipmap=True)
    _save(binary, X[two], OUT / "skl_scaler_binary.onnx", zipmap=False)


if __name__ == "__main__":
    main()
