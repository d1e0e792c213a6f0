"""Make the ground-truth networks for the additive extractor's tests and benchmark.

Writes, seeded and reproducible:

- ``tests/fixtures/additive/additive.onnx``: a scikit-learn ``MLPRegressor`` (4-32-32-1, tanh,
  L-BFGS) trained on ``y = sin(2 x1) + x2**2 - |x3| + 0 * x4`` with ``x ~ U[-2, 2]^4``;
- ``tests/fixtures/additive/interaction.onnx``: the same architecture on ``y = x1 * x2 + x3``
  with ``x1, x2 ~ U[-2, 2]`` and ``x3 ~ U[-1, 1]`` (without a pair term an additive model
  explains only about 16% of its variance);
- ``tests/fixtures/additive/meta.json``: the data recipe and the networks' R² on fresh rows.

Both exported with skl2onnx (opset 17). The rows are drawn by :func:`rows` (also used by the
tests, so nothing but the networks needs committing). Needs skl2onnx. Run from the repository
root::

    python scripts/make_additive_fixtures.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "additive"
N_TRAIN = 4000


def rows(problem: str, n: int, seed: int) -> np.ndarray:
    """``n`` rows of ``problem`` ("additive" or "interaction") from seed ``seed``."""
    rng = np.random.default_rng(seed)
    if problem == "additive":
        return rng.uniform(-2.0, 2.0, size=(n, 4))
    X = rng.uniform(-2.0, 2.0, size=(n, 3))
    X[:, 2] /= 2.0
    return X


def target(problem: str, X: np.ndarray) -> np.ndarray:
    if problem == "additive":
        return np.sin(2 * X[:, 0]) + X[:, 1] ** 2 - np.abs(X[:, 2]) + 0.0 * X[:, 3]
    return X[:, 0] * X[:, 1] + X[:, 2]


def main() -> None:
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPRegressor

    OUT.mkdir(parents=True, exist_ok=True)
    meta = {}
    for problem in ("additive", "interaction"):
        X = rows(problem, N_TRAIN, seed=0)
        y = target(problem, X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = MLPRegressor(hidden_layer_sizes=(32, 32), activation="tanh", solver="lbfgs",
                               alpha=1e-4, max_iter=3000, random_state=0).fit(X, y)
        X_new = rows(problem, 2000, seed=1)
        r2 = float(net.score(X_new, target(problem, X_new)))
        model = to_onnx(net, X[:1].astype(np.float32), target_opset=17)
        (OUT / f"{problem}.onnx").write_bytes(model.SerializeToString())
        meta[problem] = {"r2_on_fresh_rows": r2, "n_train": N_TRAIN, "seed": 0}
        print(f"{problem}: R² {r2:.5f} on fresh rows")
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
