"""nnrules.io.graph: the numpy forward pass of DenseIR against onnxruntime on real exporter output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris

from nnrules.exceptions import DataError, ModelLoadError, UnsupportedModelError
from nnrules.io.graph import Activation, Affine, DenseIR, read_dense

FIX = Path(__file__).parent / "fixtures"
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _data(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "breast_raw":
        return load_breast_cancer().data[::5]
    if kind == "breast_std":
        X = load_breast_cancer().data
        return ((X - X.mean(axis=0)) / X.std(axis=0))[::5]
    if kind == "iris":
        return load_iris().data[::2]
    if kind == "diabetes":
        return load_diabetes().data[::5]
    return rng.normal(scale=2.0, size=(60, int(kind)))


# fixture file -> (data, head, n_inputs, n_outputs, activation kinds in order)
CASES = {
    "graph_torch_script.onnx": ("breast_raw", "softmax", 30, 2,
                                ["relu", "leaky_relu", "tanh", "sigmoid"]),
    "graph_dynamo_inline.onnx": ("iris", "log_softmax", 4, 3, ["relu", "tanh"]),
    "graph_dynamo/model.onnx": ("iris", "log_softmax", 4, 3, ["relu", "tanh"]),
    "graph_skl_binary.onnx": ("breast_std", "sigmoid", 30, 1, ["relu"]),
    "graph_skl_multi.onnx": ("iris", "softmax", 4, 3, ["tanh", "tanh"]),
    "graph_skl_multi_zipmap.onnx": ("iris", "softmax", 4, 3, ["tanh", "tanh"]),
    "graph_skl_reg_relu.onnx": ("diabetes", "none", 10, 1, ["relu"]),
    "graph_skl_reg_logistic.onnx": ("diabetes", "none", 10, 1, ["sigmoid", "sigmoid"]),
    "graph_skl_reg_tanh.onnx": ("diabetes", "none", 10, 1, ["tanh"]),
    "graph_hand_matmul.onnx": ("5", "softmax", 5, 3, ["relu"]),
    "graph_hand_gemm.onnx": ("5", "sigmoid", 5, 1, ["leaky_relu"]),
}


def _session(model: onnx.ModelProto, extra_outputs=()) -> ort.InferenceSession:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    known = {o.name for o in model.graph.output}
    for name in extra_outputs:
        if name not in known:
            model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(model, X, extra_outputs=()) -> dict:
    sess = _session(model, extra_outputs)
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(None, {sess.get_inputs()[0].name: X.astype(np.float32)})
    return dict(zip(names, outs))


def _as_proba(value) -> np.ndarray | None:
    """A float probability/value array from an onnxruntime output (ZipMap lists included)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        keys = sorted(value[0])
        return np.array([[row[k] for k in keys] for row in value])
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else None


@pytest.mark.parametrize("fname", sorted(CASES))
def test_forward_matches_onnxruntime(fname):
    data, head, n_in, n_out, kinds = CASES[fname]
    model = onnx.load(str(FIX / fname))
    ir = read_dense(model)
    assert (ir.head, ir.n_inputs, ir.n_outputs) == (head, n_in, n_out)
    assert [ir.layers[i].kind for i in ir.hidden_layers()] == kinds
    X = _data(data)
    Z = ir.forward(X)
    assert Z.shape == (len(X), n_out) and Z.dtype == np.float64
    out = ir.apply_head(Z)
    compared = 0
    for name, value in _run(model, X).items():
        got = _as_proba(value)
        if got is None:  # the label: argmax of what we compute
            labels = np.asarray(value).reshape(-1)
            full = np.hstack([1 - out, out]) if head == "sigmoid" and n_out == 1 else out
            assert np.array_equal(labels, np.argmax(full, axis=1))
            continue
        if head == "sigmoid" and got.shape[1] == 2:  # skl2onnx binary: [1 - p, p]
            got = got[:, 1:]
        np.testing.assert_allclose(out if name != "logit" else Z, got, **TOL)
        compared += 1
    assert compared >= 1


@pytest.mark.parametrize("fname", sorted(CASES))
def test_logits_and_hidden_layers_match_onnxruntime(fname):
    """Expose the head's input and every activation's output as graph outputs and compare."""
    model = onnx.load(str(FIX / fname))
    ir = read_dense(model)
    by_name = {n.name: n for n in model.graph.node}
    hidden = {i: by_name[ir.layers[i].name].output[0] for i in ir.hidden_layers()}
    head_ops = {"softmax": "Softmax", "log_softmax": "LogSoftmax", "sigmoid": "Sigmoid"}
    extra = list(hidden.values())
    logit_name = None
    if ir.head != "none":
        logit_name = [n for n in model.graph.node if n.op_type == head_ops[ir.head]][-1].input[0]
        extra.append(logit_name)
    X = _data(CASES[fname][0])
    got = _run(model, X, extra)
    steps = ir.forward_all(X)
    assert len(steps) == len(ir.layers)
    np.testing.assert_array_equal(steps[-1], ir.forward(X))
    for i, name in hidden.items():
        np.testing.assert_allclose(steps[i], got[name], **TOL)
    if logit_name is not None:
        np.testing.assert_allclose(ir.forward(X), got[logit_name].reshape(len(X), -1), **TOL)


def test_torch_script_folds_normalisation_and_batchnorm_into_first_affine():
    ir = read_dense(onnx.load(str(FIX / "graph_torch_script.onnx")))
    first = ir.layers[0]
    assert isinstance(first, Affine) and first.weight.shape == (12, 30)
    assert first.name == "/Sub+/Div+/l1/Gemm+/bn/BatchNormalization"
    assert sum(isinstance(layer, Affine) for layer in ir.layers) == 5


def test_external_data_must_be_loaded():
    path = FIX / "graph_dynamo" / "model.onnx"
    assert (FIX / "graph_dynamo" / "model.onnx.data").exists()
    with pytest.raises(ModelLoadError, match="external file"):
        read_dense(onnx.load(str(path), load_external_data=False))


def test_same_model_same_ir():
    model = onnx.load(str(FIX / "graph_skl_multi.onnx"))
    a, b = read_dense(model), read_dense(model)
    assert a.head == b.head and len(a.layers) == len(b.layers)
    for la, lb in zip(a.layers, b.layers):
        if isinstance(la, Affine):
            assert np.array_equal(la.weight, lb.weight) and np.array_equal(la.bias, lb.bias)
        else:
            assert la == lb


def test_forward_refuses_wrong_width():
    ir = read_dense(onnx.load(str(FIX / "graph_skl_multi.onnx")))
    with pytest.raises(DataError, match=r"\(n_samples, 4\)"):
        ir.forward(np.zeros((3, 5)))


def test_dense_ir_by_hand():
    ir = DenseIR(
        (Affine(np.array([[1.0, -1.0]]), np.array([0.5]), "a"), Activation("leaky_relu", 0.1, "r")),
        "none", "x", 2, 1)
    np.testing.assert_allclose(ir.forward([[1.0, 2.0], [3.0, 1.0]]), [[-0.05], [2.5]])
    assert ir.hidden_layers() == [1]


# -- hand-built graphs for each reading rule -----------------------------------------------

def _f32(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def _model(nodes, inits, d=3, out="y", inputs=None, opset=17):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", d])]
    g = helper.make_graph(nodes, "t", inputs,
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def test_either_operand_order_reshape_and_constant_chains():
    rng = np.random.default_rng(1)
    W, c, s, b = rng.normal(size=(4, 3)), rng.normal(size=3), rng.uniform(1, 2, 3), rng.normal(size=4)
    nodes = [
        helper.make_node("Sub", ["c", "x"], ["a"], name="c_minus_x"),
        helper.make_node("Div", ["a", "s"], ["b"], name="div"),
        helper.make_node("Add", ["half", "b"], ["b2"], name="add_scalar"),
        helper.make_node("Reshape", ["b2", "shape"], ["b3"], name="reshape"),
        helper.make_node("Constant", [], ["Wc"], name="wconst", value=_f32("w", W)),
        helper.make_node("Transpose", ["Wc"], ["Wt"], name="wt", perm=[1, 0]),
        helper.make_node("MatMul", ["b3", "Wt"], ["m"], name="mm"),
        helper.make_node("Add", ["m", "bias"], ["z"], name="bias_add"),
        helper.make_node("Tanh", ["z"], ["t"], name="tanh"),
        helper.make_node("Mul", ["t", "two"], ["y"], name="times_two"),
    ]
    inits = [_f32("c", c), _f32("s", s), _f32("half", 0.5), _f32("bias", b), _f32("two", [2.0]),
             numpy_helper.from_array(np.array([-1, 3], dtype=np.int64), "shape")]
    model = _model(nodes, inits)
    ir = read_dense(model)
    assert [type(layer).__name__ for layer in ir.layers] == ["Affine", "Activation", "Affine"]
    X = rng.normal(size=(20, 3))
    np.testing.assert_allclose(ir.forward(X), _run(model, X)["y"], **TOL)


def test_unknown_width_resolved_by_per_feature_constant():
    nodes = [helper.make_node("Mul", ["x", "s"], ["y0"], name="scale"),
             helper.make_node("Relu", ["y0"], ["y"], name="relu")]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)]
    model = _model(nodes, [_f32("s", [1.0, -2.0])], inputs=inputs)
    ir = read_dense(model)
    assert ir.n_inputs == 2
    np.testing.assert_allclose(ir.forward([[1.0, 1.0]]), [[1.0, 0.0]])


@pytest.mark.parametrize("fname, op", [
    ("graph_bad_conv.onnx", "Conv"),
    ("graph_bad_lstm.onnx", "LSTM"),
    ("graph_bad_custom.onnx", "FancyAct"),
])
def test_unsupported_fixtures(fname, op):
    with pytest.raises(UnsupportedModelError, match=rf"'{op}'.*node .*tree, trepan, additive"):
        read_dense(onnx.load(str(FIX / fname)))


W33 = _f32("W", np.eye(3))


@pytest.mark.parametrize("nodes, inits, match", [
    ([helper.make_node("Gemm", ["x", "W"], ["y"], name="g", transA=1)], [W33], r"'Gemm'.*transA"),
    ([helper.make_node("Gemm", ["x", "W"], ["z"], name="g"),
      helper.make_node("Softmax", ["z"], ["y"], name="sm", axis=0)], [W33], r"'Softmax'.*axis"),
    ([helper.make_node("Gemm", ["x", "W"], ["z"], name="g"),
      helper.make_node("Relu", ["z"], ["r"], name="r"),
      helper.make_node("Add", ["r", "z"], ["y"], name="skip")], [W33], r"branches"),
    ([helper.make_node("Div", ["v", "x"], ["y"], name="inv")], [_f32("v", [1.0, 2.0, 3.0])],
     r"'Div'.*not affine"),
    ([helper.make_node("Mul", ["x", "W"], ["y"], name="outer")], [W33], r"'Mul'.*shape \(3, 3\)"),
    ([helper.make_node("Gemm", ["x", "W"], ["z"], name="g"),
      helper.make_node("Softmax", ["z"], ["s"], name="sm"),
      helper.make_node("Gemm", ["s", "W"], ["y"], name="g2")], [W33], r"'Gemm'.*head"),
    ([helper.make_node("Dropout", ["x", "r", "t"], ["y"], name="drop")],
     [_f32("r", 0.5), numpy_helper.from_array(np.array(True), "t")], r"'Dropout'.*training"),
    ([helper.make_node("Cast", ["x"], ["i"], name="to_int", to=TensorProto.INT64)], [],
     r"'Cast'.*non-float"),
    ([helper.make_node("Flatten", ["x"], ["y"], name="flat0", axis=0)], [], r"'Flatten'.*axis"),
    ([helper.make_node("Relu", ["x"], ["y"], name="r")], [], r"No affine layer"),
])
def test_unsupported_patterns(nodes, inits, match):
    with pytest.raises(UnsupportedModelError, match=match):
        read_dense(_model(nodes, inits))


def test_two_inputs_refused():
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 3]) for n in ("a", "b")]
    model = _model([helper.make_node("Add", ["a", "b"], ["y"])], [], inputs=inputs)
    with pytest.raises(UnsupportedModelError, match=r"exactly one.*\['a', 'b'\]"):
        read_dense(model)


def test_batchnorm_before_gemm_uses_epsilon_and_either_bias_shape():
    """BatchNormalization folded with its epsilon (variances as small as epsilon matter)."""
    rng = np.random.default_rng(2)
    var = np.array([1e-5, 2e-5, 1.0], dtype=np.float32)
    nodes = [
        helper.make_node("BatchNormalization", ["x", "g", "b", "mu", "var"], ["n"], name="bn",
                         epsilon=1e-5),
        helper.make_node("Gemm", ["n", "W", "c"], ["y"], name="gemm", transB=1, beta=2.0),
    ]
    inits = [_f32("g", rng.uniform(0.5, 1.5, 3)), _f32("b", rng.normal(size=3)),
             _f32("mu", rng.normal(size=3)), _f32("var", var),
             _f32("W", rng.normal(size=(2, 3))), _f32("c", rng.normal(size=(1, 2)))]
    model = _model(nodes, inits)
    ir = read_dense(model)
    assert len(ir.layers) == 1 and ir.layers[0].name == "bn+gemm"
    X = rng.normal(scale=0.01, size=(30, 3))
    np.testing.assert_allclose(ir.forward(X), _run(model, X)["y"], rtol=1e-4, atol=1e-4)
