"""Make tests/fixtures/via_wine_sparse.onnx: a wine 13-16-8-3 ReLU network whose first layer
was trained to read few features (needs the ``[train]`` extra: PyTorch).

The same shape as ``via_wine.onnx``, trained with PyTorch (Adam, cross-entropy, small L2)
plus a group-lasso penalty on the first layer's input columns, applied as a proximal step
after every update, so that whole input columns become exactly zero. Validity interval
analysis proves boxes much more easily on such a network, because a box may span the whole
range of every feature the network ignores. The penalty ``lam`` is picked by 5-fold
cross-validation on the training split only (never on the held-out rows): the largest value
on the grid whose mean validation accuracy is within 0.02 of the best. Run from the
repository root::

    python scripts/make_via_sparse.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import torch
from make_via_fixtures import to_onnx
from sklearn.model_selection import StratifiedKFold

from nnrules.datasets.tabular import tabular_split

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
GRID = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0)
STEPS, LR = 3000, 1e-2


def train(X: np.ndarray, y: np.ndarray, lam: float, seed: int = 0) -> torch.nn.Sequential:
    """13-16-8-3 ReLU network on standardised X; group lasso (proximal) on the first layer."""
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y)
    for _ in range(STEPS):
        opt.zero_grad()
        l2 = sum((p ** 2).sum() for p in net.parameters())
        loss = torch.nn.functional.cross_entropy(net(Xt), yt) + 1e-4 * l2
        loss.backward()
        opt.step()
        with torch.no_grad():  # shrink each input column's norm by LR * lam (to zero at most)
            W = net[0].weight
            norms = W.norm(dim=0, keepdim=True).clamp_min(1e-12)
            W.mul_((1.0 - LR * lam / norms).clamp_min(0.0))
    return net


def accuracy(net, X, y) -> float:
    with torch.no_grad():
        return float((net(torch.tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean())


def choose_lambda(X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scores = {}
    for lam in GRID:
        accs = []
        for fit_idx, val_idx in folds.split(X, y):
            mean, std = X[fit_idx].mean(0), X[fit_idx].std(0)
            net = train((X[fit_idx] - mean) / std, y[fit_idx], lam)
            accs.append(accuracy(net, (X[val_idx] - mean) / std, y[val_idx]))
        scores[lam] = float(np.mean(accs))
        print(f"lambda {lam}: cross-validated accuracy {scores[lam]:.3f}", flush=True)
    best = max(scores.values())
    return max(lam for lam, s in scores.items() if s >= best - 0.02), scores


class _Weights:
    """What to_onnx reads from a fitted scikit-learn MLP."""

    def __init__(self, net):
        layers = [m for m in net if isinstance(m, torch.nn.Linear)]
        self.coefs_ = [m.weight.detach().numpy().T.astype(np.float64) for m in layers]
        self.intercepts_ = [m.bias.detach().numpy().astype(np.float64) for m in layers]
        self.activation = "relu"


def main() -> None:
    sp = tabular_split("wine")
    X, y = sp.X_train, np.asarray(sp.y_train)
    lam, scores = choose_lambda(X, y)
    mean, std = X.mean(0), X.std(0)
    net = train((X - mean) / std, y, lam)
    weights = _Weights(net)
    used = [n for n, w in zip(sp.feature_names, weights.coefs_[0]) if np.any(w != 0)]
    model = to_onnx(weights, mean, std, sp.feature_names, head="Softmax")
    onnx.save(model, OUT / "via_wine_sparse.onnx")
    acc = accuracy(net, (sp.X_test - mean) / std, np.asarray(sp.y_test))
    meta_path = OUT / "via_fixtures.json"
    meta = json.loads(meta_path.read_text())
    meta["via_wine_sparse"] = {"data": "wine", "hidden": [16, 8], "activation": "relu",
                               "group_lasso": lam, "cv_accuracy": scores,
                               "features_used": used, "test_accuracy": acc}
    meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    print(json.dumps(meta["via_wine_sparse"], indent=1))


if __name__ == "__main__":
    main()
