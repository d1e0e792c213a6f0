"""Make the tiny, seeded model fixtures under tests/fixtures/ used by tests/test_model.py.

Run from the repository root:  python scripts/make_model_fixtures.py

- model_mlp_binary[_nozipmap].onnx      skl2onnx MLPClassifier on breast_cancer (2 classes)
- model_mlp_multiclass[_nozipmap].onnx  skl2onnx MLPClassifier on iris (classes 10, 20, 30)
- model_mlp_regressor.onnx              skl2onnx MLPRegressor on diabetes
- dynamo_ext/model.onnx + model.onnx.data  torch dynamo export with external data
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def _sklearn_fixtures() -> None:
    from skl2onnx import to_onnx
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    warnings.filterwarnings("ignore")
    X, y = load_breast_cancer(return_X_y=True)
    X = (X[:, :6] / X[:, :6].max(axis=0)).astype(np.float32)
    binary = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0).fit(X, y)
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    multi = MLPClassifier(hidden_layer_sizes=(6,), max_iter=400, random_state=0)
    multi.fit(X, (y + 1) * 10)
    X, y = load_diabetes(return_X_y=True)
    X = X[:, :5].astype(np.float32)
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=300, random_state=0).fit(X, y)
    for name, est, n in [("binary", binary, 6), ("multiclass", multi, 4)]:
        for zipmap in (True, False):
            onx = to_onnx(
                est,
                np.zeros((1, n), dtype=np.float32),
                options={id(est): {"zipmap": zipmap}},
                target_opset=17,
            )
            suffix = "" if zipmap else "_nozipmap"
            (OUT / f"model_mlp_{name}{suffix}.onnx").write_bytes(onx.SerializeToString())
    onx = to_onnx(reg, np.zeros((1, 5), dtype=np.float32), target_opset=17)
    (OUT / "model_mlp_regressor.onnx").write_bytes(onx.SerializeToString())


def _dynamo_fixture() -> None:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3), torch.nn.Softmax(dim=1)
    ).eval()
    folder = OUT / "dynamo_ext"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    program = torch.onnx.export(
        net,
        (torch.zeros(2, 4),),
        dynamo=True,
        input_names=["x"],
        output_names=["probs"],
        dynamic_shapes=({0: torch.export.Dim("batch")},),
    )
    program.save(str(folder / "model.onnx"), external_data=True)
    data = folder / "model.onnx.data"
    if not data.exists() or data.stat().st_size == 0:
        # Tiny weights are inlined; force every initializer into the side file.
        import onnx

        model = onnx.load(str(folder / "model.onnx"))
        data.unlink(missing_ok=True)  # onnx appends to an existing data file
        onnx.save_model(
            model,
            str(folder / "model.onnx"),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location="model.onnx.data",
            size_threshold=0,
        )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    _sklearn_fixtures()
    _dynamo_fixture()
    for path in sorted(OUT.glob("model_*.onnx")) + sorted((OUT / "dynamo_ext").iterdir()):
        print(f"{path.relative_to(OUT)}: {path.stat().st_size} bytes")
