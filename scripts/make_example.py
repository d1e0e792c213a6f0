"""Make the bundled example: a small PyTorch network for scikit-learn's breast cancer data.

Writes examples/breast_cancer/{model.onnx, train.csv, test.csv}: a 30-16-8-2 ReLU network with
input standardisation inside the graph and a softmax head, exported with PyTorch's TorchScript
exporter; a fixed stratified 70/30 split (seed 0). Needs the ``[train]`` extra. Run:

    python scripts/make_example.py
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnx
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
SEED = 0


class Net(torch.nn.Module):
    def __init__(self, mean: np.ndarray, std: np.ndarray):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.body = torch.nn.Sequential(
            torch.nn.Linear(30, 16), torch.nn.ReLU(),
            torch.nn.Linear(16, 8), torch.nn.ReLU(),
            torch.nn.Linear(8, 2),
        )

    def forward(self, x):
        return torch.softmax(self.body((x - self.mean) / self.std), dim=1)


def write_csv(path: Path, names: list[str], X: np.ndarray, y: np.ndarray) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(names + ["target"])
        for row, label in zip(X, y):
            writer.writerow([repr(float(v)) for v in row] + [int(label)])


def main() -> None:
    torch.manual_seed(SEED)
    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.3, stratify=data.target, random_state=SEED
    )
    net = Net(X_train.mean(axis=0), X_train.std(axis=0) + 1e-9)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    xt = torch.tensor(X_train, dtype=torch.float32)
    yt = torch.tensor(y_train)
    for _ in range(300):
        opt.zero_grad()
        loss = torch.nn.functional.nll_loss(torch.log(net(xt) + 1e-9), yt)
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        acc = (net(torch.tensor(X_test, dtype=torch.float32)).argmax(1).numpy() == y_test).mean()
    print(f"held-out accuracy {acc:.4f}")
    OUT.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        net, (xt[:1],), str(OUT / "model.onnx"), input_names=["features"],
        output_names=["probabilities"], dynamic_axes={"features": {0: "batch"},
                                                      "probabilities": {0: "batch"}},
        dynamo=False, opset_version=17,
    )
    # Name the columns inside the model so nnrules can check a CSV's header against it.
    model = onnx.load(str(OUT / "model.onnx"))
    onnx.helper.set_model_props(model, {"feature_names": ",".join(names)})
    onnx.save(model, str(OUT / "model.onnx"))
    write_csv(OUT / "train.csv", names, X_train, y_train)
    write_csv(OUT / "test.csv", names, X_test, y_test)


if __name__ == "__main__":
    main()
