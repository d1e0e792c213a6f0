"""Make the small ONNX fixtures that tests/test_graph.py reads with ``nnrules.io.graph``.

Seeded and quick (a few seconds on 2 cores). Needs the ``train`` extra (torch, onnxscript,
skl2onnx). Writes ``tests/fixtures/graph_*.onnx`` (and ``tests/fixtures/graph_dynamo/`` with an
external-data file). Run from the repository root::

    python scripts/make_graph_fixtures.py
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SEED = 0


def _torch_models():
    import torch
    from torch import nn

    torch.manual_seed(SEED)
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    mean = X.mean(axis=0)
    std = X.std(axis=0) + 1e-6

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean))
            self.register_buffer("std", torch.tensor(std))
            self.l1 = nn.Linear(30, 12)
            self.bn = nn.BatchNorm1d(12)
            self.act1 = nn.ReLU()
            self.drop = nn.Dropout(0.1)
            self.l2 = nn.Linear(12, 8)
            self.act2 = nn.LeakyReLU(0.05)
            self.l3 = nn.Linear(8, 6)
            self.act3 = nn.Tanh()
            self.l4 = nn.Linear(6, 5)
            self.act4 = nn.Sigmoid()
            self.l5 = nn.Linear(5, 2)

        def logits(self, x):
            x = (x - self.mean) / self.std
            x = self.drop(self.act1(self.bn(self.l1(x))))
            x = self.act2(self.l2(x))
            x = self.act3(self.l3(x))
            x = self.act4(self.l4(x))
            return self.l5(x)

        def forward(self, x):
            return torch.softmax(self.logits(x), dim=-1)

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.tensor(X), torch.tensor(y, dtype=torch.long)
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net.logits(xt), yt)
        loss.backward()
        opt.step()
    net.eval()
    dummy = xt[:4]
    dyn = {"x": {0: "batch"}}
    torch.onnx.export(
        net, (dummy,), str(OUT / "graph_torch_script.onnx"), input_names=["x"],
        output_names=["proba"], dynamic_axes={"x": {0: "batch"}, "proba": {0: "batch"}},
        dynamo=False, opset_version=17,
    )

    # A second MLP for the dynamo exporter: LogSoftmax head, MatMul-style layers.
    torch.manual_seed(SEED + 1)
    Xi, yi = load_iris(return_X_y=True)
    Xi = Xi.astype(np.float32)
    mi, si = Xi.mean(axis=0), Xi.std(axis=0)

    class Net2(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mi))
            self.register_buffer("std", torch.tensor(si))
            self.body = nn.Sequential(
                nn.Linear(4, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Dropout(0.2),
                nn.Linear(10, 8), nn.Tanh(), nn.Linear(8, 3),
            )

        def forward(self, x):
            return torch.log_softmax(self.body((x - self.mean) / self.std), dim=-1)

    net2 = Net2()
    opt = torch.optim.Adam(net2.parameters(), lr=0.02)
    xt, yt = torch.tensor(Xi), torch.tensor(yi, dtype=torch.long)
    for _ in range(60):
        opt.zero_grad()
        loss = nn.functional.nll_loss(net2(xt), yt)
        loss.backward()
        opt.step()
    net2.eval()
    for name, external in (("graph_dynamo_inline.onnx", False), ("graph_dynamo", True)):
        prog = torch.onnx.export(
            net2, (xt[:4],), dynamo=True, input_names=["x"], output_names=["logproba"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
        if external:
            folder = OUT / name
            folder.mkdir(exist_ok=True)
            prog.save(str(folder / "model.onnx"), external_data=True)
        else:
            prog.save(str(OUT / name), external_data=False)
    del dyn


def _skl_models():
    from skl2onnx import to_onnx
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = (Xb - Xb.mean(axis=0)) / Xb.std(axis=0)
    Xi, yi = load_iris(return_X_y=True)
    Xd, yd = load_diabetes(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: brief training on purpose
        binary = MLPClassifier(hidden_layer_sizes=(8,), max_iter=80, random_state=SEED).fit(Xb, yb)
        multi = MLPClassifier(hidden_layer_sizes=(10, 6), activation="tanh", max_iter=150,
                              random_state=SEED).fit(Xi, yi)
        reg_relu = MLPRegressor(hidden_layer_sizes=(10,), max_iter=150, random_state=SEED).fit(Xd, yd)
        reg_log = MLPRegressor(hidden_layer_sizes=(6, 4), activation="logistic", max_iter=150,
                               random_state=SEED).fit(Xd, yd)
        reg_tanh = MLPRegressor(hidden_layer_sizes=(7,), activation="tanh", max_iter=150,
                                random_state=SEED).fit(Xd, yd)
    f32 = np.float32
    models = {
        "graph_skl_binary.onnx": to_onnx(binary, Xb[:1].astype(f32), target_opset=17),
        "graph_skl_multi_zipmap.onnx": to_onnx(multi, Xi[:1].astype(f32), target_opset=17),
        "graph_skl_multi.onnx": to_onnx(multi, Xi[:1].astype(f32), target_opset=17,
                                        options={id(multi): {"zipmap": False}}),
        "graph_skl_reg_relu.onnx": to_onnx(reg_relu, Xd[:1].astype(f32), target_opset=17),
        "graph_skl_reg_logistic.onnx": to_onnx(reg_log, Xd[:1].astype(f32), target_opset=17),
        "graph_skl_reg_tanh.onnx": to_onnx(reg_tanh, Xd[:1].astype(f32), target_opset=17),
    }
    for name, model in models.items():
        onnx.save(model, str(OUT / name))


def _init(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _const(out: str, arr: np.ndarray) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [out], name=f"const_{out}",
                            value=_init(out + "_v", arr))


def _save(graph: onnx.GraphProto, name: str, opset: int = 17) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(OUT / name))


def _hand_models() -> None:
    rng = np.random.default_rng(SEED)
    d, h, k = 5, 7, 3
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", d])

    # MatMul + Add (bias first), Relu, MatMul + Add (bias second), Softmax.
    W1, b1 = rng.normal(size=(d, h)), rng.normal(size=h)
    W2, b2 = rng.normal(size=(h, k)), rng.normal(size=k)
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["b1", "m1"], ["a1"], name="add1"),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "W2"], ["m2"], name="mm2"),
        helper.make_node("Add", ["m2", "b2"], ["logits"], name="add2"),
        helper.make_node("Softmax", ["logits"], ["proba"], name="softmax", axis=-1),
    ]
    g = helper.make_graph(
        nodes, "matmul_add", [x],
        [helper.make_tensor_value_info("proba", TensorProto.FLOAT, ["N", k])],
        [_init("W1", W1), _init("b1", b1), _init("W2", W2), _init("b2", b2)])
    _save(g, "graph_hand_matmul.onnx")

    # Gemm transB=0 with alpha/beta != 1 (weights behind Constant -> Identity -> Identity),
    # Cast, Flatten, Gemm transB=1, LeakyRelu, scalar-normalisation Sub/Mul, Sigmoid head.
    Wa, ba = rng.normal(size=(d, h)), rng.normal(size=(1, h))
    Wb, bb = rng.normal(size=(1, h)), rng.normal(size=(1,))
    nodes = [
        _const("c_wa", Wa),
        helper.make_node("Identity", ["c_wa"], ["id_wa"], name="id1"),
        helper.make_node("Identity", ["id_wa"], ["wa"], name="id2"),
        _const("ba", ba),
        _const("mu", np.array(0.5)),
        helper.make_node("Cast", ["X"], ["x64"], name="cast64", to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["x64"], ["x32"], name="cast32", to=TensorProto.FLOAT),
        helper.make_node("Sub", ["x32", "mu"], ["xc"], name="center"),
        helper.make_node("Mul", ["scale", "xc"], ["xs"], name="scale_mul"),
        helper.make_node("Flatten", ["xs"], ["xf"], name="flatten", axis=1),
        helper.make_node("Gemm", ["xf", "wa", "ba"], ["g1"], name="gemm1",
                         alpha=0.7, beta=1.3, transB=0),
        helper.make_node("LeakyRelu", ["g1"], ["l1"], name="leaky", alpha=0.2),
        helper.make_node("Dropout", ["l1"], ["dr"], name="dropout"),
        helper.make_node("Gemm", ["dr", "wb", "bb"], ["logit"], name="gemm2",
                         alpha=1.0, beta=0.5, transB=1),
        helper.make_node("Sigmoid", ["logit"], ["p"], name="sigmoid"),
    ]
    g = helper.make_graph(
        nodes, "gemm_const", [x],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["N", 1]),
         helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["N", 1])],
        [_init("scale", rng.uniform(0.5, 2.0, size=d)), _init("wb", Wb), _init("bb", bb)])
    _save(g, "graph_hand_gemm.onnx")

    # Unsupported: a Conv on the path.
    xc = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 1, 8])
    g = helper.make_graph(
        [helper.make_node("Conv", ["X", "Wc"], ["c"], name="conv0"),
         helper.make_node("Flatten", ["c"], ["f"], name="flat", axis=1)],
        "conv", [xc], [helper.make_tensor_value_info("f", TensorProto.FLOAT, ["N", 6])],
        [_init("Wc", rng.normal(size=(1, 1, 3)))])
    _save(g, "graph_bad_conv.onnx")

    # Unsupported: an LSTM.
    xs = helper.make_tensor_value_info("X", TensorProto.FLOAT, [3, "N", 2])
    g = helper.make_graph(
        [helper.make_node("LSTM", ["X", "W", "R"], ["", "Yh"], name="lstm0", hidden_size=4)],
        "lstm", [xs], [helper.make_tensor_value_info("Yh", TensorProto.FLOAT, [1, "N", 4])],
        [_init("W", rng.normal(size=(1, 16, 2))), _init("R", rng.normal(size=(1, 16, 4)))])
    _save(g, "graph_bad_lstm.onnx")

    # Unsupported: a custom-domain op (not checkable by onnxruntime, only read).
    g = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W1"], ["m"], name="mm"),
         helper.make_node("FancyAct", ["m"], ["y"], name="fancy0", domain="com.example")],
        "custom", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", h])],
        [_init("W1", W1)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    onnx.save(model, str(OUT / "graph_bad_custom.onnx"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _hand_models()
    _skl_models()
    _torch_models()
    for p in sorted(OUT.glob("graph_*")):
        print(p.name, p.stat().st_size if p.is_file() else "(dir)")


if __name__ == "__main__":
    main()
