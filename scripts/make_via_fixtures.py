"""Make the seeded networks the ``via`` tests and benchmarks use (tests/fixtures/via_*.onnx).

Each network is a scikit-learn MLP trained on standardised inputs; the standardisation is
folded into the first layer, so the ONNX graph reads raw features (data units) and is a plain
``MatMul + Add`` chain with ``Relu`` / ``Sigmoid`` / ``Tanh`` between layers and a ``Softmax``
head (no head for regression). Run from the repository root::

    python scripts/make_via_fixtures.py

Writes:
- via_iris.onnx          4-16-8-3 ReLU, iris (tabular_split train rows)
- via_iris_sigmoid.onnx  4-16-8-3 sigmoid, iris
- via_iris_tanh.onnx     4-16-8-3 tanh, iris
- via_wine.onnx          13-16-8-3 ReLU, wine
- via_breast_cancer.onnx 30-16-8-1 ReLU with a sigmoid head, breast cancer
- via_discrete.onnx      7-12-8-3 ReLU on 4 integer features in 0..3 and a one-hot group of 3
- via_regression.onnx    10-16-8-1 ReLU regression on scikit-learn's diabetes data
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nnrules.datasets.tabular import tabular_split

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
_ONNX_ACT = {"relu": "Relu", "logistic": "Sigmoid", "tanh": "Tanh"}


def to_onnx(mlp, mean: np.ndarray, std: np.ndarray, names, *, head: str | None) -> onnx.ModelProto:
    """MatMul+Add chain of a fitted MLP with input standardisation folded into layer 0."""
    weights = [np.asarray(w, dtype=np.float64) for w in mlp.coefs_]
    biases = [np.asarray(b, dtype=np.float64) for b in mlp.intercepts_]
    weights[0] = weights[0] / std[:, None]
    biases[0] = biases[0] - (mean / std) @ mlp.coefs_[0]
    nodes, inits, cur = [], [], "X"
    for i, (w, b) in enumerate(zip(weights, biases)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"W{i}"),
                  numpy_helper.from_array(b.astype(np.float32), f"B{i}")]
        nodes.append(helper.make_node("MatMul", [cur, f"W{i}"], [f"m{i}"], name=f"matmul{i}"))
        nodes.append(helper.make_node("Add", [f"m{i}", f"B{i}"], [f"z{i}"], name=f"add{i}"))
        cur = f"z{i}"
        if i < len(weights) - 1:
            nodes.append(helper.make_node(_ONNX_ACT[mlp.activation], [cur], [f"a{i}"],
                                          name=f"act{i}"))
            cur = f"a{i}"
    n_out = weights[-1].shape[1]
    if head == "Softmax" and n_out == 1:  # binary MLPClassifier: one logit, sigmoid head
        nodes.append(helper.make_node("Sigmoid", [cur], ["Y"], name="head"))
        cur = "Y"
    elif head == "Softmax":
        nodes.append(helper.make_node("Softmax", [cur], ["Y"], name="head", axis=-1))
        cur = "Y"
    graph = helper.make_graph(
        nodes, "via_mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", len(names)])],
        [helper.make_tensor_value_info(cur, TensorProto.FLOAT, ["N", n_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="make_via_fixtures")
    model.ir_version = 8
    helper.set_model_props(model, {"feature_names": ",".join(names)})
    onnx.checker.check_model(model, full_check=True)
    return model


def fit(X, y, hidden, activation, *, seed=0, regression=False):
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    cls = MLPRegressor if regression else MLPClassifier
    mlp = cls(hidden_layer_sizes=hidden, activation=activation, max_iter=3000,
              random_state=seed, alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit((X - mean) / std, y)
    return mlp, mean, std


def discrete_data(seed: int = 0):
    """4 integer features in 0..3 and a one-hot group c_a, c_b, c_c; 3 classes."""
    rng = np.random.default_rng(seed)
    grid = np.array(np.meshgrid(*[np.arange(4)] * 4, np.arange(3), indexing="ij"))
    grid = grid.reshape(5, -1).T
    onehot = np.eye(3)[grid[:, 4]]
    X = np.hstack([grid[:, :4], onehot]).astype(np.float64)
    score = X[:, 0] + X[:, 1] - X[:, 2] + 2 * X[:, 4] - 2 * X[:, 6]
    y = np.digitize(score, [0.5, 3.5])
    names = ["n1", "n2", "n3", "n4", "c_a", "c_b", "c_c"]
    train = np.sort(rng.choice(len(X), size=300, replace=False))
    return X, y, names, train


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {}
    jobs = [("via_iris", "iris", (16, 8), "relu"), ("via_iris_sigmoid", "iris", (16, 8), "logistic"),
            ("via_iris_tanh", "iris", (16, 8), "tanh"), ("via_wine", "wine", (16, 8), "relu"),
            ("via_breast_cancer", "breast_cancer", (16, 8), "relu")]
    for fname, data, hidden, act in jobs:
        sp = tabular_split(data)
        mlp, mean, std = fit(sp.X_train, sp.y_train, hidden, act)
        model = to_onnx(mlp, mean, std, sp.feature_names, head="Softmax")
        onnx.save(model, OUT / f"{fname}.onnx")
        acc = float(np.mean(mlp.predict((sp.X_test - mean) / std) == sp.y_test))
        meta[fname] = {"data": data, "hidden": list(hidden), "activation": act,
                       "test_accuracy": acc}
    X, y, names, train = discrete_data()
    mlp, mean, std = fit(X[train], y[train], (12, 8), "relu")
    onnx.save(to_onnx(mlp, mean, std, names, head="Softmax"), OUT / "via_discrete.onnx")
    meta["via_discrete"] = {"domain_accuracy": float(np.mean(mlp.predict((X - mean) / std) == y))}
    d = load_diabetes()
    names = [str(n) for n in d.feature_names]
    mlp, mean, std = fit(d.data, d.target, (16, 8), "relu", regression=True)
    onnx.save(to_onnx(mlp, mean, std, names, head=None), OUT / "via_regression.onnx")
    (OUT / "via_fixtures.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(json.dumps(meta, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
