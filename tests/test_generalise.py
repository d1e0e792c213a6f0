"""Shapes the generalisation sweep (benchmarks/generalise.py) found nnrules mishandling.

Each test failed before its fix. Fixtures: tests/fixtures/generalise/ (scripts/make_generalise_fixtures.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.datasets import load_iris

from nnrules.io.graph import read_dense

FIX = Path(__file__).parent / "fixtures" / "generalise"


def _ort_proba(path: Path, X: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outs = sess.run(None, {sess.get_inputs()[0].name: X.astype(np.float32)})
    proba = outs[1]
    if isinstance(proba, list):  # ZipMap: a list of {class: probability}
        proba = np.array([[row[k] for k in sorted(row)] for row in proba])
    return np.asarray(proba, dtype=np.float64)


def _matmul_model(path: Path, W: np.ndarray, x_shape: list, out_shape: list,
                  softmax: bool) -> Path:
    """x @ W (then Softmax over axis 1 when asked), with the given input / output shapes."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("MatMul", ["x", "W"], ["z"])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["z"], ["p"], axis=1))
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info("p" if softmax else "z", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(np.asarray(W, dtype=np.float32), "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("name", ["skl_scaler_iris.onnx", "skl_scaler_binary.onnx"])
def test_standard_scaler_pipeline_reads_as_dense_layers(name):
    """skl2onnx writes StandardScaler as ai.onnx.ml Scaler: folded into the first affine layer."""
    ir = read_dense(onnx.load(str(FIX / name)))
    assert ir.n_inputs == 4
    assert "Scaler" in ir.layers[0].name  # the scaler is part of the first affine map
    rng = np.random.default_rng(0)
    X = np.vstack([load_iris().data, rng.uniform([4, 2, 1, 0], [8, 4.5, 7, 2.5], (200, 4))])
    out = ir.apply_head(ir.forward(X))
    got = _ort_proba(FIX / name, X)
    if out.shape[1] == 1:  # one logistic unit: the network's [1 - p, p]
        out = np.hstack([1 - out, out])
    np.testing.assert_allclose(out, got, rtol=1e-5, atol=1e-5)


def test_scaler_pipeline_white_box_methods_run_and_via_boxes_are_sound():
    """VIA proves boxes on the scaler pipeline; points inside them get the box's class."""
    import nnrules

    network = nnrules.load(FIX / "skl_scaler_iris.onnx")
    X = load_iris().data
    ex = nnrules.VIAExtractor(network, max_verifications=300, random_state=0).fit(X)
    boxes = ex.surrogate_
    assert boxes.n_boxes >= 3
    rng = np.random.default_rng(1)
    for k in range(boxes.n_boxes):
        lo, hi = boxes.lower[k], boxes.upper[k]
        P = rng.uniform(lo, hi, (200, 4))
        labels = np.asarray(network.predict(P))
        assert np.all(labels == boxes.outputs[k])


# -- headers that differ from the expected names in case or surrounding spaces ---------------

TAB = Path(__file__).parent / "fixtures" / "tabular"


def _rewrite_header(src: Path, dst: Path, rename) -> None:
    lines = src.read_text().splitlines(keepends=True)
    head = lines[0].rstrip("\n").split(",")
    dst.write_text(",".join(rename(h) if h != "target" else h for h in head) + "\n"
                   + "".join(lines[1:]))


def test_evaluate_and_extract_match_headers_ignoring_case_and_spaces(tmp_path, capsys):
    from nnrules.cli import main

    model = TAB / "iris.onnx"
    assert main(["extract", str(model), "--data", str(TAB / "iris_train.csv"), "--target",
                 "target", "--method", "tree", "--out", str(tmp_path / "t"), "--quiet"]) == 0
    surrogate = tmp_path / "t" / "surrogate.json"
    odd = tmp_path / "odd.csv"
    _rewrite_header(TAB / "iris_test.csv", odd, lambda h: f" {h.upper()} ")
    reports = []
    for data in (TAB / "iris_test.csv", odd):
        out = tmp_path / data.stem
        assert main(["evaluate", str(surrogate), str(model), "--data", str(data), "--target",
                     "target", "--out", str(out)]) == 0
        reports.append(json.loads((out / "report.json").read_text()))
    assert reports[0]["fidelity"] == reports[1]["fidelity"]
    assert reports[0]["n_eval"] == reports[1]["n_eval"] == 45
    err = capsys.readouterr().err
    assert "warning: 'odd.csv': columns matched by name ignoring case" in err
    assert "Traceback" not in err and "UserWarning" not in err
    # Extraction from the odd header: the rules read the model's names.
    assert main(["extract", str(model), "--data", str(odd), "--target", "target", "--method",
                 "tree", "--out", str(tmp_path / "o"), "--quiet"]) == 0
    schema_names = [f["name"] for f in
                    json.loads((tmp_path / "o" / "surrogate.json").read_text())["schema"]["features"]]
    assert schema_names == [f["name"] for f in
                            json.loads(surrogate.read_text())["schema"]["features"]]


def test_loose_header_match_only_when_one_to_one(tmp_path):
    import warnings

    from nnrules.exceptions import ColumnsRenamedWarning, DataError
    from nnrules.io.data import read_data

    train = read_data(TAB / "iris_train.csv", target="target")
    odd = tmp_path / "odd.csv"
    _rewrite_header(TAB / "iris_test.csv", odd, lambda h: h.upper())
    with pytest.warns(ColumnsRenamedWarning):
        got = read_data(odd, target="target", schema=train.schema)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = read_data(TAB / "iris_test.csv", target="target", schema=train.schema)
    assert np.array_equal(got.X, want.X) and got.schema.names == want.schema.names
    # Two columns that would take one name: refused as before.
    clash = tmp_path / "clash.csv"
    first = train.schema.names[0]
    _rewrite_header(TAB / "iris_test.csv", clash,
                    lambda h: first.upper() if h == train.schema.names[1] else h)
    with pytest.raises(DataError, match="do not match the schema"):
        read_data(clash, target="target", schema=train.schema)


# -- evaluation rows holding a category the extraction rows never held ----------------------


def test_unseen_category_refused_with_the_way_out_or_dropped_and_counted(tmp_path):
    from nnrules.cli import main
    from nnrules.exceptions import DataError
    from nnrules.io.data import read_data

    full = Path(__file__).parent / "fixtures" / "pipeline_census.csv"
    model = full.with_suffix(".onnx")
    lines = full.read_text().splitlines(keepends=True)
    train = tmp_path / "train.csv"
    train.write_text("".join(ln for ln in lines if "Never-worked" not in ln))
    n_unseen = sum("Never-worked" in ln for ln in lines)
    assert n_unseen > 0
    schema = read_data(train, target="income").schema
    with pytest.raises(DataError, match=rf"'Never-worked'\] \(on {n_unseen} rows\).*--drop-invalid"):
        read_data(full, target="income", schema=schema)
    kept = read_data(full, target="income", schema=schema, drop_invalid=True)
    assert kept.n_dropped == n_unseen and kept.n_samples == len(lines) - 1 - n_unseen
    out = tmp_path / "t"
    assert main(["extract", str(model), "--data", str(train), "--target", "income", "--method",
                 "tree", "--out", str(out), "--quiet"]) == 0
    assert main(["evaluate", str(out / "surrogate.json"), str(model), "--data", str(full),
                 "--target", "income", "--out", str(tmp_path / "e")]) == 1
    assert main(["evaluate", str(out / "surrogate.json"), str(model), "--data", str(full),
                 "--target", "income", "--drop-invalid", "--out", str(tmp_path / "e")]) == 0
    report = json.loads((tmp_path / "e" / "report.json").read_text())
    assert report["n_eval"] == len(lines) - 1 - n_unseen
    # The dropped rows are counted in the report (streamed and whole-file reading alike).
    assert report["data"]["invalid_dropped"] == n_unseen
    assert any(f"{n_unseen} of {len(lines) - 1} rows of 'pipeline_census.csv' were dropped"
               in w for w in report["warnings"])
    assert main(["evaluate", str(out / "surrogate.json"), str(model), "--data", str(full),
                 "--target", "income", "--drop-invalid", "--sep", ",",
                 "--out", str(tmp_path / "w")]) == 0
    whole = json.loads((tmp_path / "w" / "report.json").read_text())
    assert whole["data"]["invalid_dropped"] == n_unseen
    assert whole["fidelity"] == report["fidelity"] and whole["n_eval"] == report["n_eval"]


# -- a classifier exported without its softmax (raw logits) ---------------------------------


def _logits_model(path: Path, width: int = 2, n_in: int = 4, seed: int = 0) -> None:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    W1 = numpy_helper.from_array(rng.normal(size=(n_in, 6)).astype(np.float32), "W1")
    b1 = numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "b1")
    W2 = numpy_helper.from_array(rng.normal(size=(6, width)).astype(np.float32), "W2")
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"]),
         helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "W2"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n_in])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", width])], [W1, b1, W2])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def test_raw_logits_read_as_a_classifier_with_a_warning(tmp_path):
    import nnrules
    from nnrules.exceptions import NNRulesWarning

    path = tmp_path / "logits.onnx"
    _logits_model(path, width=3)
    with pytest.warns(NNRulesWarning, match="no softmax or sigmoid"):
        net = nnrules.load(path)
    assert net.task == "classification" and list(net.classes_) == [0, 1, 2]
    X = np.random.default_rng(1).normal(size=(300, 4))
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = sess.run(None, {"x": X.astype(np.float32)})[0]
    assert np.array_equal(net.predict(X), raw.argmax(axis=1))
    np.testing.assert_allclose(net.logits(X), raw, rtol=1e-6)
    assert len(set(net.predict(X).tolist())) > 1
    # Regression when the caller says so; one output column stays a regression.
    reg = nnrules.load(path, task="regression")
    assert reg.task == "regression" and reg.predict(X).shape == (300, 3)
    one = tmp_path / "one.onnx"
    _logits_model(one, width=1)
    assert nnrules.load(one).task == "regression"


def test_raw_logits_white_box_and_cli_fidelity(tmp_path, capsys):
    import warnings

    import nnrules
    from nnrules.cli import main

    path = tmp_path / "logits.onnx"
    _logits_model(path, width=2, seed=3)
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = nnrules.load(path)
        # VIA reads the logits (it failed with "Logits are unavailable" even with task= given).
        boxes = nnrules.VIAExtractor(net, max_verifications=200, random_state=0).fit(X).surrogate_
    for k in range(boxes.n_boxes):
        P = rng.uniform(boxes.lower[k], boxes.upper[k], (100, 4))
        assert np.all(net.predict(P) == boxes.outputs[k])
    y = net.predict(X)
    for name, rows in (("train.csv", X[:300]), ("test.csv", X[300:])):
        labels = y[:300] if name == "train.csv" else y[300:]
        (tmp_path / name).write_text("a,b,c,d,target\n" + "".join(
            ",".join(repr(float(v)) for v in r) + f",{int(t)}\n" for r, t in zip(rows, labels)))
    assert main(["extract", str(path), "--data", str(tmp_path / "train.csv"), "--eval",
                 str(tmp_path / "test.csv"), "--target", "target", "--method", "tree",
                 "--out", str(tmp_path / "o"), "--quiet"]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["task"] == "classification"
    surrogate = nnrules.io.serialize.load(tmp_path / "o" / "surrogate.json")
    assert report["fidelity"] == np.mean(surrogate.predict(X[300:]) == y[300:])
    assert "warning: 'logits.onnx' has no softmax or sigmoid" in capsys.readouterr().err


# -- models exported with a fixed batch size (no dynamic batch axis) -------------------------


@pytest.mark.parametrize("batch", [1, 3])
def test_fixed_batch_table_model_answers_every_row(tmp_path, batch):
    import nnrules
    from nnrules.exceptions import NNRulesWarning

    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3)).astype(np.float32)
    path = _matmul_model(tmp_path / "fixed.onnx", W, [batch, 4], [batch, 3], softmax=True)
    with pytest.warns(NNRulesWarning, match=f"fixed batch of {batch}"):
        net = nnrules.load(path)
    X = rng.normal(size=(7, 4))
    want = (X.astype(np.float32) @ W).argmax(axis=1)
    assert np.array_equal(net.predict(X), want)
    assert net.scores(X).shape == (7, 3) and np.array_equal(net.predict(X[:1]), want[:1])
    tree = nnrules.TreeExtractor(net, max_leaves=4, random_state=0).fit(
        rng.normal(size=(60, 4))).surrogate_
    assert tree.predict(X).shape == (7,)


@pytest.mark.parametrize("batch", [1, 4])
def test_fixed_batch_sequence_model_gives_the_same_automaton(tmp_path, batch):
    import warnings

    import nnrules
    from nnrules.surrogates.automaton import equivalent

    fix = Path(__file__).parent / "fixtures" / "tomita"
    model = onnx.load(str(fix / "tomita4_gru.onnx"))
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]  # batch-first GRU
    dim.Clear()
    dim.dim_value = batch
    path = tmp_path / "fixed.onnx"
    onnx.save(model, str(path))
    strings = [s for s in (fix / "tomita4_train.txt").read_text().split() if s][:200]
    automata = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in (fix / "tomita4_gru.onnx", path):
            ex = nnrules.AutomatonExtractor(nnrules.load(p), random_state=0)
            automata.append(ex.fit(strings, alphabet="01").surrogate_)
    assert equivalent(automata[0], automata[1])


def _token_gru(path: Path, shape: list) -> Path:
    """Token ids (int64) -> embedding -> GRU read time first (``layout`` 0) -> softmax."""
    from onnx import TensorProto, helper, numpy_helper

    rng, hidden = np.random.default_rng(0), 3
    inits = [numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n) for n, s in [
        ("E", (2, 2)), ("W", (1, 3 * hidden, 2)), ("R", (1, 3 * hidden, hidden)),
        ("B", (1, 6 * hidden)), ("Wout", (hidden, 2))]]
    inits.append(numpy_helper.from_array(np.array([-1, hidden], dtype=np.int64), "flat"))
    nodes = [helper.make_node("Gather", ["E", "x"], ["emb"]),
             helper.make_node("GRU", ["emb", "W", "R", "B"], ["Y", "Y_h"], hidden_size=hidden),
             helper.make_node("Transpose", ["Y_h"], ["hb"], perm=[1, 0, 2]),
             helper.make_node("Reshape", ["hb", "flat"], ["h"]),
             helper.make_node("MatMul", ["h", "Wout"], ["z"]),
             helper.make_node("Softmax", ["z"], ["proba"], axis=-1)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.INT64, shape)],
        [helper.make_tensor_value_info("proba", TensorProto.FLOAT, ["batch", 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_time_first_token_ids_of_fixed_length_are_not_a_fixed_batch(tmp_path, capsys):
    """[6, batch] token ids read time first: six steps per sequence, not a batch of six rows
    (it warned "takes a fixed batch of 6 rows"). A fixed time axis answers one length only, so
    the sequence oracle (an automaton needs every length) refuses it up front in one line; a
    fixed batch on axis 1 is still one."""
    import warnings

    import nnrules
    from nnrules.cli import main
    from nnrules.exceptions import NNRulesWarning, UnsupportedModelError
    from nnrules.io.model import fixed_batch
    from nnrules.oracles import SequenceOracle

    with warnings.catch_warnings():
        warnings.simplefilter("error", NNRulesWarning)
        net = nnrules.load(_token_gru(tmp_path / "six.onnx", [6, "batch"]))
    assert fixed_batch(net.inputs, net.model) is None
    with pytest.raises(UnsupportedModelError, match="fixes its time axis .*6 steps"):
        SequenceOracle(net, alphabet="01")
    (tmp_path / "w.txt").write_text("0110\n111\n")
    code = main(["extract", str(tmp_path / "six.onnx"), "--data", str(tmp_path / "w.txt"),
                 "--method", "automaton", "--alphabet", "01", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "6 steps" in err
    with pytest.warns(NNRulesWarning, match=r"fixed batch of 4 rows .*\{'x': \{1: 'batch'\}\}"):
        four = nnrules.load(_token_gru(tmp_path / "four.onnx", [6, 4]))
    assert fixed_batch(four.inputs, four.model) == 4


# -- a one-hot category the extraction rows never held --------------------------------------


def test_unseen_one_hot_category_is_outside_the_domain():
    """MONK-3 extraction rows without a5 = 4; the 108 domain rows with a5 = 4 lie outside."""
    from nnrules.datasets import load_monk, monk_attributes
    from nnrules.schema import FeatureSchema

    d = load_monk(3)
    col = d.feature_names.index("a5_4")
    keep = d.X_train[:, col] == 0
    schema = FeatureSchema.infer(d.X_train[keep], d.feature_names)
    assert [f.kind for f in schema.features] == ["onehot"] * 17
    mask, counts = schema.outside_domain(d.X_test)
    A = monk_attributes()
    assert np.array_equal(mask, A[:, 4] == 4) and counts == {"a5_4": 108}
    # Seen categories only: nothing outside (both code paths: rows and columns).
    assert not schema.outside_domain(d.X_test[A[:, 4] != 4])[0].any()
    assert not schema.outside_domain(np.asfortranarray(d.X_test[A[:, 4] != 4]))[0].any()
    assert np.array_equal(schema.outside_domain(np.asfortranarray(d.X_test))[0], A[:, 4] == 4)


def test_new_monk3_network_needs_queries_to_split_small_nodes():
    """TREPAN's default reaches the network on a MONK-3 network it was not tuned on.

    ``monk3_skl_8_s21.onnx`` (scripts/make_trepan_monk3.py) learns MONK-3's label noise as
    exceptions inside nodes of fewer than 4 real rows. The old default ``min_real=4`` left them
    unsplit (0.979); on an all-discrete domain the default now lets queries decide (1.000).
    """
    import warnings

    from nnrules.datasets import load_monk, monk_attributes, monk_concept
    from nnrules.extract.trepan import TrepanExtractor
    from nnrules.io.model import load

    d = load_monk(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = load(FIX / "monk3_skl_8_s21.onnx")
    reference = net.predict(d.X_test)
    concept = monk_concept(3, monk_attributes())
    assert np.mean(reference == concept) < 0.98  # the network has its own exceptions

    def fit(**params):
        ex = TrepanExtractor(net, random_state=0, **params)
        return ex.fit(d.X_train, feature_names=d.feature_names).surrogate_.predict(d.X_test)

    old = fit(min_real=4)
    assert np.mean(old == reference) < 0.99  # stops short: exceptions left unsplit
    new = fit()
    assert np.array_equal(new, reference)  # every one of the 432 rows, exceptions included
    # The main disjuncts are still the concept's: where the network follows the concept, so
    # does the tree, and it departs from the concept exactly where the network does.
    assert np.array_equal(np.flatnonzero(new != concept), np.flatnonzero(reference != concept))


def test_fixed_batch_model_with_unknown_width_reads_its_class_count(tmp_path):
    """Probing the width of a fixed-batch model's scores counts columns, not batch x columns."""
    import warnings

    import nnrules

    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3)).astype(np.float32)
    path = _matmul_model(tmp_path / "fixed_k.onnx", W, [2, 4], [2, "k"], softmax=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = nnrules.load(path)
    assert list(net.classes_) == [0, 1, 2]
    X = rng.normal(size=(5, 4))
    want = (X.astype(np.float32) @ W).argmax(axis=1)
    assert np.array_equal(net.predict(X), want)


def test_one_column_output_without_sigmoid_is_refused_as_a_classifier(tmp_path):
    """task='classification' on one raw output column would argmax one column: always class 0."""
    import nnrules
    from nnrules.exceptions import UnsupportedModelError

    path = _matmul_model(tmp_path / "one_logit.onnx", np.ones((4, 1)), ["n", 4], ["n", 1],
                         softmax=False)
    with pytest.raises(UnsupportedModelError, match="Sigmoid"):
        nnrules.load(path, task="classification")
    assert nnrules.load(path).task == "regression"


def test_fixed_batch_model_ignores_a_batch_size_it_cannot_take(tmp_path):
    """A fixed-batch model is asked its own batch size even when batch_size is set after load."""
    import warnings

    import nnrules

    rng = np.random.default_rng(1)
    W = rng.normal(size=(4, 3)).astype(np.float32)
    path = _matmul_model(tmp_path / "fixed3.onnx", W, [3, 4], [3, 3], softmax=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = nnrules.load(path)
    net.batch_size = 7
    X = rng.normal(size=(9, 4))
    want = (X.astype(np.float32) @ W).argmax(axis=1)
    assert np.array_equal(net.predict(X), want)
    assert net.n_queries == 9


def test_every_row_dropped_for_unknown_categories_says_so(tmp_path):
    # When drop_invalid leaves nothing because every row holds a category the schema does not
    # know, the message must name categories, not only missing values.
    from nnrules.exceptions import DataError
    from nnrules.io.data import read_data

    full = Path(__file__).parent / "fixtures" / "pipeline_census.csv"
    lines = full.read_text().splitlines(keepends=True)
    train = tmp_path / "train.csv"
    train.write_text("".join(ln for ln in lines if "Never-worked" not in ln))
    only_unseen = tmp_path / "unseen.csv"
    only_unseen.write_text(lines[0] + "".join(ln for ln in lines[1:] if "Never-worked" in ln))
    schema = read_data(train, target="income").schema
    with pytest.raises(DataError, match=r"All \d+ rows .*categories the schema does not know"):
        read_data(only_unseen, target="income", schema=schema, drop_invalid=True)


def _activation_model(kind: str) -> onnx.ModelProto:
    """Gemm, then GELU (as exporters write it: Div, Erf, Add, Mul, Mul) or SiLU (Sigmoid, Mul),
    then Gemm and Softmax: 3 inputs, 4 hidden units, 2 classes."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n)
             for n, s in (("W1", (4, 3)), ("b1", (4,)), ("W2", (2, 4)), ("b2", (2,)))]
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], transB=1)]
    if kind == "gelu":
        inits += [numpy_helper.from_array(np.array(v, np.float32), n)
                  for n, v in (("r2", 1.4142135), ("one", 1.0), ("half", 0.5))]
        nodes += [helper.make_node("Div", ["h", "r2"], ["d"]),
                  helper.make_node("Erf", ["d"], ["e"]),
                  helper.make_node("Add", ["e", "one"], ["e1"]),
                  helper.make_node("Mul", ["h", "e1"], ["m"]),
                  helper.make_node("Mul", ["m", "half"], ["a"])]
    else:
        nodes += [helper.make_node("Sigmoid", ["h"], ["s"]),
                  helper.make_node("Mul", ["h", "s"], ["a"])]
    nodes += [helper.make_node("Gemm", ["a", "W2", "b2"], ["z"], transB=1),
              helper.make_node("Softmax", ["z"], ["p"], axis=1)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("kind,name", [("gelu", "GELU"), ("silu", "SiLU")])
def test_composite_activation_refusal_names_the_activation(kind, name):
    """A dynamo-exported GELU network was refused as 'tensor branches into 2 nodes' without
    saying that the branch is its activation."""
    from nnrules.exceptions import UnsupportedModelError

    with pytest.raises(UnsupportedModelError, match=f"this is a {name}"):
        read_dense(_activation_model(kind))


def test_fixed_time_axis_sequence_model_is_refused_with_the_way_out(tmp_path):
    """A dynamo-exported LSTM fixed its time axis to the example's 5 steps; the automaton
    method ended in an onnxruntime 'invalid dimensions' internal error on other lengths."""
    import warnings

    import nnrules
    from nnrules.exceptions import UnsupportedModelError

    fix = Path(__file__).parent / "fixtures" / "tomita"
    model = onnx.load(str(fix / "tomita4_gru.onnx"))
    dim = model.graph.input[0].type.tensor_type.shape.dim[1]  # batch-first: time is axis 1
    dim.Clear()
    dim.dim_value = 5
    path = tmp_path / "fixed_time.onnx"
    onnx.save(model, str(path))
    strings = [s for s in (fix / "tomita4_train.txt").read_text().split() if s][:50]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UnsupportedModelError, match="fixes its time axis .* to 5 steps"):
            nnrules.AutomatonExtractor(nnrules.load(path), random_state=0).fit(
                strings, alphabet="01")


def test_one_hot_encoder_front_refusal_says_what_it_is():
    """skl2onnx's Pipeline(OneHotEncoder, MLPClassifier) splits the input per column (Gather,
    OneHotEncoder): the refusal only said 'tensor X branches into 6 nodes'."""
    from onnx import TensorProto, helper, numpy_helper

    from nnrules.exceptions import UnsupportedModelError

    inits = [numpy_helper.from_array(np.array([j], np.int64), f"i{j}") for j in range(2)]
    inits += [numpy_helper.from_array(np.ones((4, 2), np.float32), "W")]
    nodes = []
    for j in range(2):
        nodes += [helper.make_node("Gather", ["x", f"i{j}"], [f"g{j}"], axis=1),
                  helper.make_node("OneHotEncoder", [f"g{j}"], [f"o{j}"], domain="ai.onnx.ml",
                                   cats_int64s=[1, 2]),
                  helper.make_node("Reshape", [f"o{j}", "shape"], [f"r{j}"])]
    inits.append(numpy_helper.from_array(np.array([-1, 2], np.int64), "shape"))
    nodes += [helper.make_node("Concat", ["r0", "r1"], ["e"], axis=1),
              helper.make_node("MatMul", ["e", "W"], ["z"]),
              helper.make_node("Softmax", ["z"], ["p"], axis=1)]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("ai.onnx.ml", 3)])
    with pytest.raises(UnsupportedModelError, match="OneHotEncoder ops"):
        read_dense(model)
