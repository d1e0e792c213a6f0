"""Make the networks `certify` is judged on (tests/fixtures/certify/*.onnx).

Three networks per data set that differ in seed and width, none of them used to choose
certify's defaults (those were chosen on tests/fixtures/via_*.onnx and monks/monk*.onnx):

- iris, wine, breast_cancer (``tabular_split`` train rows): ReLU MLPs 8, 16-8 and 32-16,
  seeds 1, 2, 3, standardisation folded into the first layer (``make_via_fixtures.to_onnx``);
- MONK-1, MONK-2, MONK-3 (``load_monk`` train rows, one-hot inputs): ReLU MLPs 8, 12 and 16,
  seeds 1, 2, 3, L2 penalty 0.01 (1.0 for the noisy MONK-3, as ``make_model_fixtures`` does).

Run from the repository root (needs scikit-learn and onnx only)::

    python scripts/make_certify_fixtures.py
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import onnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_via_fixtures import fit, to_onnx

from nnrules.datasets import load_monk
from nnrules.datasets.tabular import tabular_split

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "certify"
TABULAR = {"iris": [(8,), (16, 8), (32, 16)], "wine": [(8,), (16, 8), (32, 16)],
           "breast_cancer": [(8,), (16, 8), (32, 16)]}
MONK = [(8,), (12,), (16,)]
SEEDS = (1, 2, 3)


def fit_monk(X, y, hidden, seed, alpha):
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    mlp = MLPClassifier(hidden_layer_sizes=hidden, activation="relu", max_iter=5000,
                        random_state=seed, alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit((X - mean) / std, y)
    return mlp, mean, std


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {}
    for data, widths in TABULAR.items():
        sp = tabular_split(data)
        for k, (hidden, seed) in enumerate(zip(widths, SEEDS), start=1):
            mlp, mean, std = fit(sp.X_train, sp.y_train, hidden, "relu", seed=seed)
            name = f"{data}_{k}"
            onnx.save(to_onnx(mlp, mean, std, sp.feature_names, head="Softmax"),
                      OUT / f"{name}.onnx")
            acc = float(np.mean(mlp.predict((sp.X_test - mean) / std) == sp.y_test))
            meta[name] = {"data": data, "hidden": list(hidden), "seed": seed,
                          "test_accuracy": acc}
    for problem in (1, 2, 3):
        d = load_monk(problem)
        alpha = 1.0 if problem == 3 else 0.01
        for k, (hidden, seed) in enumerate(zip(MONK, SEEDS), start=1):
            mlp, mean, std = fit_monk(d.X_train, d.y_train, hidden, seed, alpha)
            name = f"monk{problem}_{k}"
            onnx.save(to_onnx(mlp, mean, std, list(d.feature_names), head="Softmax"),
                      OUT / f"{name}.onnx")
            acc = float(np.mean(mlp.predict((d.X_test - mean) / std) == d.y_test))
            meta[name] = {"data": f"monk{problem}", "hidden": list(hidden), "seed": seed,
                          "alpha": alpha, "domain_accuracy": acc}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(json.dumps(meta, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
