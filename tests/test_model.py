"""nnrules.io.model: safe loading, task/class inference, probing against numpy and onnxruntime."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx_builders import dense_mlp, mlp_weights, multi_input_model, numpy_forward, save

from nnrules.exceptions import (
    DataError,
    InputFileError,
    ModelLoadError,
    ParameterError,
    UnsafeModelError,
    UnsupportedModelError,
)
from nnrules.io.model import MAX_ELEMENTS, Network, load

FIXTURES = Path(__file__).parent / "fixtures"
RNG = np.random.default_rng(0)
X4 = RNG.normal(size=(50, 4))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def mlp(tmp_path):
    layers = mlp_weights([4, 8, 3], seed=1)

    def make(head, **kwargs):
        return load(save(dense_mlp(layers, head=head), tmp_path / "m.onnx"), **kwargs), layers

    return make


# --------------------------------------------------------------------------- bad inputs


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load(tmp_path / "nope.onnx")


def test_not_onnx(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("hello, this is not a model\n" * 10)
    with pytest.raises(ModelLoadError, match="not"):
        load(path)


def test_truncated(tmp_path):
    data = dense_mlp(mlp_weights([4, 8, 3]), head="Softmax").SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="truncated|not a readable|checker"):
        load(path)


def test_checker_failure_is_one_line(tmp_path):
    model = dense_mlp(mlp_weights([4, 3]), head="Softmax")
    model.graph.node[0].input[1] = "undefined_weight"
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(ModelLoadError, match="fails the ONNX checker") as info:
        load(path)
    assert "\n" not in str(info.value)


def test_custom_domain_refused(tmp_path):
    model = dense_mlp(mlp_weights([4, 3]), head="Softmax")
    model.graph.node[-1].domain = "com.evil"
    model.graph.node[-1].op_type = "Pwn"
    model.opset_import.append(helper.make_opsetid("com.evil", 1))
    path = tmp_path / "custom.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(UnsafeModelError, match=r"'Pwn'.*'head'.*'com\.evil'"):
        load(path)


def _function_model(path: Path, op: str, domain: str, weight: TensorProto) -> Path:
    """A model carrying a local function whose If branch runs ``op`` on a Constant ``weight``."""
    model = dense_mlp(mlp_weights([4, 3]), head="Softmax")
    inner = helper.make_node(op, ["c"], ["o"], domain=domain, name="deep")
    branch = helper.make_graph([inner], "then", [], [helper.make_tensor_value_info(
        "o", TensorProto.FLOAT, [1])])
    const = helper.make_node("Constant", [], ["c"], value=weight)
    cond = helper.make_node("If", ["x"], ["y"], then_branch=branch, else_branch=branch)
    model.functions.append(helper.make_function("local", "F", ["x"], ["y"], [const, cond],
                                                [helper.make_opsetid("", 13)]))
    path.write_bytes(model.SerializeToString())
    return path


def test_inside_a_function_s_subgraph_custom_ops_and_outside_data_are_refused(tmp_path):
    """Model-local function bodies and the subgraphs inside them are searched like the
    main graph: for custom-domain ops and for external data outside the model's folder."""
    weight = numpy_helper.from_array(np.ones(1, dtype=np.float32), "w")
    path = _function_model(tmp_path / "deep.onnx", "Pwn", "com.evil", weight)
    with pytest.raises(UnsafeModelError, match=r"'Pwn'.*'deep'.*'com\.evil'"):
        load(path)
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../secret.bin")
    path = _function_model(tmp_path / "far.onnx", "Identity", "", weight)
    with pytest.raises(UnsafeModelError, match=r"'\.\./secret\.bin'"):
        load(path)


def _external_model(folder: Path, location: str) -> Path:
    """A model whose first weight claims to live at ``location``."""
    model = dense_mlp(mlp_weights([4, 3]), head="Softmax")
    weight = model.graph.initializer[0]
    weight.ClearField("raw_data")
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "48")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    path = folder / "ext.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("location", ["../secret.bin", "sub/../../secret.bin", "a/../w.bin"])
def test_external_data_dotdot_refused(tmp_path, location):
    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "secret.bin").write_bytes(b"\0" * 48)
    with pytest.raises(UnsafeModelError, match=r"without '\.\.'"):
        load(_external_model(folder, location))


def test_external_data_absolute_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 48)
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(UnsafeModelError, match="relative path inside"):
        load(_external_model(folder, str(secret)))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_external_data_symlink_outside_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 48)
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "w.bin").symlink_to(secret)
    with pytest.raises(UnsafeModelError, match="outside the model's folder"):
        load(_external_model(folder, "w.bin"))


def test_external_data_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="no such file"):
        load(_external_model(tmp_path, "missing.bin"))


def _bomb(op: str) -> onnx.ModelProto:
    big = numpy_helper.from_array(np.array([2**15, 2**15], dtype=np.int64), "shape")
    one = numpy_helper.from_array(np.ones((1, 1), dtype=np.float32), "one")
    if op == "ConstantOfShape":
        node = helper.make_node("ConstantOfShape", ["shape"], ["big"], name="bomb")
        inits = [big]
    elif op == "Expand":
        node = helper.make_node("Expand", ["one", "shape"], ["big"], name="bomb")
        inits = [big, one]
    else:
        node = helper.make_node("Tile", ["one", "shape"], ["big"], name="bomb")
        inits = [big, one]
    nodes = [
        node,
        helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0, name="sum"),
        helper.make_node("Add", ["X", "s"], ["Y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "bomb",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Tile"])
def test_shape_bomb_refused(tmp_path, op):
    path = save(_bomb(op), tmp_path / "bomb.onnx")
    with pytest.raises(UnsafeModelError, match=rf"'bomb' \({op}\).*{2**30}.*{MAX_ELEMENTS}"):
        load(path)


def test_wrong_number_of_columns(mlp):
    net, _ = mlp("Softmax")
    with pytest.raises(DataError, match="expects 4 columns; got 3"):
        net.predict(np.zeros((5, 3)))
    with pytest.raises(DataError, match="2-D"):
        net.predict(np.zeros(4))
    assert net.n_queries == 0


def test_bad_overrides(tmp_path):
    path = save(dense_mlp(mlp_weights([4, 3]), head="Softmax"), tmp_path / "m.onnx")
    with pytest.raises(ParameterError, match="'task' parameter"):
        load(path, task="clustering")
    with pytest.raises(ParameterError, match="3 columns, got \\['a', 'b'\\]"):
        load(path, classes=["a", "b"])


# --------------------------------------------------------------------------- task inference


@pytest.mark.parametrize("head", ["Softmax", "LogSoftmax", "Sigmoid", "ArgMax"])
def test_neural_heads_are_classifiers(mlp, head):
    net, layers = mlp(head)
    assert net.task == "classification"
    np.testing.assert_array_equal(net.classes_, [0, 1, 2])
    z = numpy_forward(layers, X4)["z1"]
    np.testing.assert_array_equal(net.predict(X4), np.argmax(z, axis=1))
    np.testing.assert_allclose(net.logits(X4), z, atol=1e-5)


def test_softmax_scores_and_logits(mlp):
    net, layers = mlp("Softmax")
    z = numpy_forward(layers, X4)["z1"]
    np.testing.assert_allclose(net.scores(X4), _softmax(z), atol=1e-6)
    np.testing.assert_allclose(_softmax(net.logits(X4)), net.scores(X4), atol=1e-6)


def test_log_softmax_scores_are_probabilities(mlp):
    net, _ = mlp("LogSoftmax")
    np.testing.assert_allclose(net.scores(X4).sum(axis=1), 1.0, atol=1e-6)


def test_regression(mlp):
    # Three float outputs and no head read as class logits (with a warning) unless the caller
    # says regression (tests/test_generalise.py covers the logits reading).
    with pytest.warns(UserWarning, match="no softmax or sigmoid"):
        assert mlp(None)[0].task == "classification"
    net, layers = mlp(None, task="regression")
    assert net.task == "regression" and net.classes_ is None
    np.testing.assert_allclose(net.predict(X4), numpy_forward(layers, X4)["z1"], atol=1e-5)
    with pytest.raises(UnsupportedModelError, match="Logits are unavailable.*scores"):
        net.logits(X4)
    with pytest.raises(UnsupportedModelError, match="needs a classifier.*'regression'"):
        net.scores(X4)


def test_single_sigmoid_is_binary(tmp_path):
    layers = mlp_weights([4, 5, 1], seed=2)
    net = load(save(dense_mlp(layers, head="Sigmoid"), tmp_path / "s.onnx"))
    np.testing.assert_array_equal(net.classes_, [0, 1])
    z = numpy_forward(layers, X4)["z1"]
    p = 1.0 / (1.0 + np.exp(-z[:, 0]))
    np.testing.assert_allclose(net.scores(X4), np.c_[1 - p, p], atol=1e-6)
    logits = net.logits(X4)
    assert logits.shape == (50, 1)
    # A sigmoid head is a softmax over [0, z].
    np.testing.assert_allclose(_softmax(np.c_[0 * logits, logits]), net.scores(X4), atol=1e-6)
    np.testing.assert_array_equal(net.predict(X4), (p > 0.5).astype(int))


def test_overrides(mlp):
    net, _ = mlp(None, task="classification", classes=["a", "b", "c"])
    assert net.task == "classification"
    assert set(net.predict(X4)) <= {"a", "b", "c"}
    net, _ = mlp("Softmax", task="regression")
    assert net.task == "regression" and net.predict(X4).shape == (50, 3)


SKL = [
    ("model_mlp_binary.onnx", [0, 1], 6),
    ("model_mlp_binary_nozipmap.onnx", [0, 1], 6),
    ("model_mlp_multiclass.onnx", [10, 20, 30], 4),
    ("model_mlp_multiclass_nozipmap.onnx", [10, 20, 30], 4),
]


@pytest.mark.parametrize(("name", "classes", "width"), SKL)
def test_skl2onnx_classifiers(name, classes, width):
    net = load(FIXTURES / name)
    assert net.task == "classification"
    np.testing.assert_array_equal(net.classes_, classes)
    X = np.random.default_rng(1).uniform(0, 5, size=(40, width))
    session = ort.InferenceSession(str(FIXTURES / name), providers=["CPUExecutionProvider"])
    label, prob = session.run(None, {net.inputs[0].name: X.astype(np.float32)})
    np.testing.assert_array_equal(net.predict(X), label)
    if isinstance(prob, list):  # ZipMap: one dict per row
        prob = np.array([[row[c] for c in classes] for row in prob])
    np.testing.assert_allclose(net.scores(X), prob, atol=1e-6)
    logits = net.logits(X)
    if len(classes) == 2:
        assert logits.shape == (40, 1)
        np.testing.assert_allclose(1 / (1 + np.exp(-logits[:, 0])), prob[:, 1], atol=1e-5)
    else:
        np.testing.assert_allclose(_softmax(logits), prob, atol=1e-5)


def test_skl2onnx_regressor():
    net = load(FIXTURES / "model_mlp_regressor.onnx")
    assert net.task == "regression"
    X = np.random.default_rng(1).normal(size=(30, 5))
    session = ort.InferenceSession(
        str(FIXTURES / "model_mlp_regressor.onnx"), providers=["CPUExecutionProvider"]
    )
    (expected,) = session.run(None, {net.inputs[0].name: X.astype(np.float32)})
    np.testing.assert_allclose(net.predict(X), expected.ravel(), rtol=1e-6)


# --------------------------------------------------------------------------- external data & hashes


def test_dynamo_external_data(tmp_path):
    folder = tmp_path / "dyn"
    shutil.copytree(FIXTURES / "dynamo_ext", folder)
    net = load(folder / "model.onnx")
    data = (folder / "model.onnx.data").read_bytes()
    assert len(data) > 0
    assert net.files_sha256 == {"model.onnx.data": hashlib.sha256(data).hexdigest()}
    assert net.sha256 == hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    assert net.task == "classification" and list(net.classes_) == [0, 1, 2]
    X = np.random.default_rng(2).normal(size=(7, 4))
    np.testing.assert_allclose(net.scores(X).sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(_softmax(net.logits(X)), net.scores(X), atol=1e-6)
    # The hash follows the data file: a changed weight gives a different digest.
    (folder / "model.onnx.data").write_bytes(data[:-4] + b"\x00\x00\x80\x3f")
    assert load(folder / "model.onnx").files_sha256 != net.files_sha256


def test_external_data_is_read_once_and_loaded_as_onnx_loads_it(tmp_path, monkeypatch):
    """The model file and its data file are each read once (the checker is given the loaded
    model, not the path; the digests come from the bytes read), and the tensors end as onnx's
    own loader leaves them."""
    from onnx import external_data_helper

    folder = tmp_path / "dyn"
    shutil.copytree(FIXTURES / "dynamo_ext", folder)
    reads, path_open = [], Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: reads.append(self.name) or
                        path_open(self, *a, **k))
    checked, check_model = [], onnx.checker.check_model
    monkeypatch.setattr(onnx.checker, "check_model",
                        lambda m, **k: checked.append(type(m)) or check_model(m, **k))
    monkeypatch.setattr(external_data_helper, "load_external_data_for_model",
                        lambda *a: pytest.fail("read again by onnx"))
    net = load(folder / "model.onnx")
    monkeypatch.undo()
    assert sorted(reads) == ["model.onnx", "model.onnx.data"] and checked == [onnx.ModelProto]
    expected = onnx.load(folder / "model.onnx")  # external data loaded by onnx
    assert net.model.SerializeToString() == expected.SerializeToString()
    data = (folder / "model.onnx.data").read_bytes()
    assert net.files_sha256 == {"model.onnx.data": hashlib.sha256(data).hexdigest()}


# --------------------------------------------------------------------------- probing


def test_activations_match_numpy(mlp):
    net, layers = mlp("Softmax")
    expected = numpy_forward(layers, X4)
    acts = net.activations(X4, ["a0", "z0"])
    np.testing.assert_allclose(acts["a0"], expected["a0"], atol=1e-5)
    np.testing.assert_allclose(acts["z0"], expected["z0"], atol=1e-5)
    n_sessions = len(net._sessions)
    net.activations(X4, ["z0", "a0"])  # same set, other order: cached session
    assert len(net._sessions) == n_sessions
    with pytest.raises(ParameterError, match="Unknown tensor names.*'nope'"):
        net.activations(X4, ["nope"])


def test_query_count(mlp):
    net, _ = mlp("Softmax")
    net.predict(X4)
    net.scores(X4[:10])
    net.logits(X4[:5])
    net.activations(X4[:1], "a0")
    assert net.n_queries == 66


def test_chunked_equals_single(mlp):
    net, _ = mlp("Softmax")
    whole = net.scores(X4)
    net.batch_size = 7
    np.testing.assert_array_equal(net.scores(X4), whole)


def test_deterministic(tmp_path):
    layers = mlp_weights([4, 16, 3], seed=3)
    path = save(dense_mlp(layers, head="Softmax"), tmp_path / "m.onnx")
    a, b = load(path).scores(X4), load(path).scores(X4)
    assert a.tobytes() == b.tobytes()


def test_multi_input(tmp_path):
    net = load(save(multi_input_model(), tmp_path / "mi.onnx"))
    assert net.feature_names == ("age", "hours", "color")
    assert net.n_features == 3
    feeds = {"age": [1.0, 2.0], "hours": [0.0, 5.0], "color": np.array(["red", "blue"])}
    expected = _softmax(np.array([[1.0, 1.0], [-3.0, -1.0]]))
    np.testing.assert_allclose(net.scores(feeds), expected, atol=1e-6)
    table = np.array([[1, 0, "red"], [2, 5, "blue"]], dtype=object)
    np.testing.assert_allclose(net.scores(table), expected, atol=1e-6)
    with pytest.raises(DataError, match=r"Missing model inputs \['color'\]"):
        net.predict({"age": [1.0], "hours": [2.0]})
    with pytest.raises(DataError, match="3 columns"):
        net.predict(np.zeros((2, 2)))


def test_feature_names_from_metadata(tmp_path):
    model = dense_mlp(mlp_weights([3, 2]), metadata={"feature_names": "a, b,c"})
    assert load(save(model, tmp_path / "m.onnx")).feature_names == ("a", "b", "c")
    model = dense_mlp(mlp_weights([3, 2]), metadata={"feature_names": "a,b"})
    assert load(save(model, tmp_path / "m.onnx")).feature_names is None


def test_describe(mlp):
    net, _ = mlp("Softmax")
    info = net.describe()
    assert info["task"] == "classification"
    assert info["classes"] == [0, 1, 2]
    assert info["inputs"] == [{"name": "X", "dtype": "float32", "shape": [None, 4]}]
    assert info["opset"] == {"ai.onnx": 17}
    assert info["sha256"] == net.sha256
    assert isinstance(info["layers_readable"], bool)
    assert isinstance(net, Network)


def test_layers_readable_for_dense_mlp(mlp):
    net, layers = mlp("Softmax")
    info = net.describe()
    assert info["layers_readable"] is True and info["layers_error"] is None
    np.testing.assert_allclose(net.layers.forward(X4), numpy_forward(layers, X4)["z1"], atol=1e-5)


@pytest.mark.skipif(
    not (FIXTURES / "pipeline_census.onnx").exists(), reason="census pipeline fixture absent"
)
def test_skl2onnx_pipeline_with_string_columns():
    path = FIXTURES / "pipeline_census.onnx"
    net = load(path)
    assert net.task == "classification"
    assert net.feature_names == tuple(s.name for s in net.inputs)
    feeds = {
        "age": np.array([63.0, 45.0, 30.0]),
        "hours_per_week": np.array([16.0, 60.0, 40.0]),
        "workclass": np.array(["Gov", "Private", "Private"], dtype=object),
        "education": np.array(["HS-grad", "Bachelors", "Masters"], dtype=object),
    }
    ort_feeds = {
        s.name: np.asarray(feeds[s.name]).reshape(-1, 1).astype(
            np.float32 if s.dtype != object else object
        )
        for s in net.inputs
    }
    label, prob = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, ort_feeds
    )
    np.testing.assert_array_equal(net.predict(feeds), label)
    np.testing.assert_allclose(net.scores(feeds), prob, atol=1e-6)
    assert set(label) <= set(net.classes_)


def test_recurrent_input_passed_through(tmp_path):
    """A 3-D input (batch, time, features) is fed as is, only cast to float32."""
    w = numpy_helper.from_array(np.array([[1.0, 0.0], [0.0, -1.0]], dtype=np.float32), "W")
    nodes = [
        helper.make_node("ReduceMean", ["X"], ["m"], axes=[1], keepdims=0, name="pool"),
        helper.make_node("MatMul", ["m", "W"], ["z"], name="dense"),
        helper.make_node("Softmax", ["z"], ["Y"], axis=-1, name="head"),
    ]
    graph = helper.make_graph(
        nodes,
        "seq",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", "T", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
        initializer=[w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    net = load(save(model, tmp_path / "seq.onnx"))
    X = np.random.default_rng(4).normal(size=(6, 5, 2))
    m = X.mean(axis=1)
    np.testing.assert_allclose(net.logits(X), m * [1.0, -1.0], atol=1e-5)
    assert net.n_features is None and net.n_queries == 6


def test_local_function_with_standard_body_allowed(tmp_path):
    """Exporters wrap modules in model-local functions of their own domain; those are fine."""
    body = [helper.make_node("Relu", ["x"], ["y"])]
    function = helper.make_function(
        "pkg.local", "MyRelu", ["x"], ["y"], body, [helper.make_opsetid("", 17)]
    )
    nodes = [
        helper.make_node("MyRelu", ["X"], ["h"], domain="pkg.local", name="call"),
        helper.make_node("Softmax", ["h"], ["Y"], axis=-1, name="head"),
    ]
    graph = helper.make_graph(
        nodes,
        "f",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3])],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("pkg.local", 1)],
        functions=[function],
    )
    model.ir_version = 8
    net = load(save(model, tmp_path / "f.onnx"))
    X = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_allclose(net.scores(X), _softmax(np.maximum(X, 0)), atol=1e-6)
    # ...but a custom op inside the function body is still refused.
    model.functions[0].node[0].domain = "com.evil"
    model.functions[0].opset_import.append(helper.make_opsetid("com.evil", 1))
    with pytest.raises(UnsafeModelError, match="'com.evil'"):
        load(save(model, tmp_path / "g.onnx"))


def test_shape_bomb_in_subgraph_refused(tmp_path):
    shape = numpy_helper.from_array(np.array([2**15, 2**15], dtype=np.int64), "shape")
    branch = helper.make_graph(
        [
            helper.make_node("ConstantOfShape", ["shape"], ["big"], name="bomb"),
            helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0, name="sum"),
        ],
        "then",
        [],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, [])],
        initializer=[shape],
    )
    other = helper.make_graph(
        [helper.make_node("Constant", [], ["z"], value_float=0.0, name="zero")],
        "else",
        [],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [])],
    )
    nodes = [
        helper.make_node("ReduceMax", ["X"], ["m"], keepdims=0, name="max"),
        helper.make_node("Greater", ["m", "m"], ["c"], name="cond"),
        helper.make_node("If", ["c"], ["v"], then_branch=branch, else_branch=other, name="if"),
        helper.make_node("Add", ["X", "v"], ["Y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with pytest.raises(UnsafeModelError, match=r"'bomb' \(ConstantOfShape\)"):
        load(save(model, tmp_path / "if.onnx"))


def test_a_network_deep_copies_with_its_own_session_and_refuses_pickle():
    import copy
    import pickle

    network = load(FIXTURES / "model_mlp_multiclass.onnx")
    X = np.random.default_rng(0).normal(size=(50, network.n_features))
    before = network.predict(X)
    network.predict(X[:3])
    twin = copy.deepcopy(network)
    assert twin.session is not network.session and twin.model is not network.model
    assert twin.sha256 == network.sha256 and twin.n_queries == network.n_queries == 53
    np.testing.assert_array_equal(twin.predict(X), before)
    np.testing.assert_array_equal(twin.scores(X), network.scores(X))
    np.testing.assert_array_equal(twin.classes_, network.classes_)
    assert twin.n_queries == 153 and network.n_queries == 103  # counted apart
    twin.predict(X[:1])
    assert network.n_queries == 103
    assert copy.copy(network).session is network.session
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(network)


@pytest.mark.parametrize(
    "name", ["model_mlp_binary.onnx", "model_mlp_multiclass.onnx", "graph_torch_script.onnx"]
)
def test_zero_rows_is_a_typed_error_not_an_onnxruntime_failure(name):
    # skl2onnx's ArrayFeatureExtractor and torch's Reshape both fail on an empty batch.
    network = load(FIXTURES / name)
    empty = np.zeros((0, network.n_features), dtype=np.float32)
    for ask in (network.predict, network.scores):
        with pytest.raises(DataError, match="0 rows"):
            ask(empty)
    assert network.n_queries == 0


@pytest.mark.parametrize("name", ["model_mlp_multiclass.onnx", "graph_torch_script.onnx"])
def test_an_oracle_asked_about_no_rows_answers_nothing_without_asking(name):
    # Extractors ask through an oracle; an empty batch of queries (a node with no generated
    # rows) must get an empty answer of the right kind, not the Network's 0-row refusal.
    from nnrules.oracles import as_oracle

    network = load(FIXTURES / name)
    oracle = as_oracle(network)
    empty = np.zeros((0, network.n_features))
    assert oracle.predict(empty).shape == (0,)
    assert oracle.predict(empty).dtype == network.classes_.dtype
    assert oracle.scores(empty).shape == (0, len(network.classes_))
    assert oracle.nonfinite_rows(empty).shape == (0,)
    assert oracle.predict_index(empty).shape == (0,)
    assert network.n_queries == 0 and oracle.n_queries == 0
