"""Careless data, tried as a new user would (issue 16, items 2 and 4-6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnrules.cli import main
from nnrules.io.data import read_data
from nnrules.schema import Feature, FeatureSchema

FIXTURES = Path(__file__).parent / "fixtures"
TABULAR = FIXTURES / "tabular"


# -- item 4: evaluation rows with values unseen in training ---------------------------------

def test_zero_one_columns_are_inferred_integer_not_binary():
    schema = FeatureSchema.infer(np.array([[0.0, 1.0], [1.0, 3.0]]), ["flag", "count"])
    assert [f.kind for f in schema.features] == ["integer", "integer"]
    # A given schema still says binary, and binary stays strict where a schema declares it.
    declared = FeatureSchema((Feature("flag", "binary", 0, 1),))
    with pytest.raises(Exception, match="'flag' \\(binary\\) must be 0 or 1"):
        declared.validate(np.array([[2.0]]))


def test_outside_domain_counts_rows_and_features():
    schema = FeatureSchema((Feature("a", "continuous", 0, 1), Feature("b", "binary", 0, 1),
                            Feature("c", "integer", 0, 5)))
    X = np.array([[0.5, 0, 1], [2.0, 1, 1], [0.5, 2, 1.5], [-1, 3, 9]])
    mask, counts = schema.outside_domain(X)
    assert mask.tolist() == [False, True, True, True]
    assert counts == {"a": 2, "b": 2, "c": 2}


def test_digits_evaluation_values_unseen_in_training_are_reported_not_refused(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["extract", str(TABULAR / "digits.onnx"), "--data",
                 str(TABULAR / "digits_train.csv"), "--eval", str(TABULAR / "digits_test.csv"),
                 "--target", "target", "--method", "tree", "--param", "max_leaves=8",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    outside = report["data"]["outside_domain"]
    test = read_data(TABULAR / "digits_test.csv", target="target")
    train = read_data(TABULAR / "digits_train.csv", target="target")
    j = train.schema.index("pixel_2_0")
    assert train.X[:, j].max() == 1 and test.X[:, j].max() == 2
    lo, hi = train.X.min(axis=0), train.X.max(axis=0)
    expected = int(np.any((test.X < lo) | (test.X > hi), axis=1).sum())
    assert outside["rows"] == expected > 0
    assert outside["features"]["pixel_2_0"] == int((test.X[:, j] > 1).sum())
    assert "digits_test.csv" in err and "outside the domain" in err and "pixel_2_0" in err
    assert "outside the domain" in (out / "report.md").read_text()


def test_schema_refusal_names_the_file(tmp_path):
    schema = FeatureSchema((Feature("colour", "categorical", 0, 1, categories=("a", "b")),))
    path = tmp_path / "rows.csv"
    path.write_text("colour\na\nc\n")
    with pytest.raises(Exception, match="'rows.csv'.*'colour'.*\\['c'\\]"):
        read_data(path, schema=schema)


# -- item 5: labels that match no class ------------------------------------------------------

def _relabelled(tmp_path: Path, name: str) -> Path:
    lines = (TABULAR / name).read_text().splitlines()
    out = [lines[0]] + [",".join(row.split(",")[:-1] + [f"cls{row.split(',')[-1]}"])
                        for row in lines[1:]]
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n")
    return path


def test_labels_matching_no_class_are_refused_listing_both(tmp_path, capsys):
    test = _relabelled(tmp_path, "iris_test.csv")
    code = main(["extract", str(TABULAR / "iris.onnx"), "--data", str(TABULAR / "iris_train.csv"),
                 "--eval", str(test), "--target", "target", "--method", "tree",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "None of the labels in 'iris_test.csv'" in err
    assert "'cls0', 'cls1', 'cls2'" in err and "[0, 1, 2]" in err and "--label-map" in err


def test_label_map_maps_data_labels_to_classes(tmp_path):
    test = _relabelled(tmp_path, "iris_test.csv")
    out = tmp_path / "out"
    assert main(["extract", str(TABULAR / "iris.onnx"), "--data",
                 str(TABULAR / "iris_train.csv"), "--eval", str(test), "--target", "target",
                 "--method", "tree", "--label-map", "cls0=0,cls1=1,cls2=2",
                 "--out", str(out)]) == 0
    mapped = json.loads((out / "report.json").read_text())["accuracy"]
    plain = tmp_path / "plain"
    assert main(["extract", str(TABULAR / "iris.onnx"), "--data",
                 str(TABULAR / "iris_train.csv"), "--eval", str(TABULAR / "iris_test.csv"),
                 "--target", "target", "--method", "tree", "--out", str(plain)]) == 0
    assert mapped == json.loads((plain / "report.json").read_text())["accuracy"]
    assert mapped["network"] > 0.9


def test_some_unknown_labels_are_warned_about():
    from nnrules.fidelity import evaluate
    from nnrules.io.model import load

    network = load(TABULAR / "iris.onnx")
    test = read_data(TABULAR / "iris_test.csv", target="target")
    y = test.y.astype(object)
    y[:5] = "setosa"

    class Constant:
        def predict(self, X):
            return np.zeros(len(X), dtype=np.int64)

        def complexity(self):
            return {}

    report = evaluate(Constant(), network, test, y)
    assert any("['setosa']" in w and "not among the network's classes" in w
               for w in report.warnings)


# -- item 6: reordered columns on an unnamed model ------------------------------------------

def _unnamed_iris(tmp_path: Path) -> Path:
    import onnx

    model = onnx.load(TABULAR / "iris.onnx")
    keep = [p for p in model.metadata_props if p.key != "feature_names"]
    del model.metadata_props[:]
    model.metadata_props.extend(keep)
    path = tmp_path / "unnamed.onnx"
    onnx.save(model, path)
    return path


def _reordered(src: Path, dst: Path, order: list[int]) -> Path:
    rows = [line.split(",") for line in src.read_text().splitlines()]
    dst.write_text("\n".join(",".join(row[j] for j in order) for row in rows) + "\n")
    return dst


def test_unnamed_model_is_said_in_report_and_warning(tmp_path, capsys):
    model = _unnamed_iris(tmp_path)
    train = _reordered(TABULAR / "iris_train.csv", tmp_path / "train.csv", [2, 0, 1, 3, 4])
    out = tmp_path / "out"
    assert main(["extract", str(model), "--data", str(train), "--target", "target",
                 "--method", "tree", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["columns_matched"].startswith("by position")
    assert "carries no feature names" in err and "petal_length_cm, sepal_length_cm" in err
    assert any("carries no feature names" in w for w in report["warnings"])
    # A model with names gets neither.
    named = tmp_path / "named"
    assert main(["extract", str(TABULAR / "iris.onnx"), "--data",
                 str(TABULAR / "iris_train.csv"), "--target", "target", "--method", "tree",
                 "--out", str(named)]) == 0
    named_report = json.loads((named / "report.json").read_text())
    assert "columns_matched" not in named_report["data"]
    assert not any("feature names" in w for w in named_report["warnings"])


def test_predict_matches_columns_by_the_extraction_names(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", str(_unnamed_iris(tmp_path)), "--data",
                 str(TABULAR / "iris_train.csv"), "--target", "target", "--method", "tree",
                 "--out", str(out)]) == 0
    surrogate = str(out / "surrogate.json")
    plain, shuffled = tmp_path / "plain.csv", tmp_path / "shuffled.csv"
    assert main(["predict", surrogate, "--data", str(TABULAR / "iris_test.csv"),
                 "--target", "target", "-o", str(plain)]) == 0
    reordered = _reordered(TABULAR / "iris_test.csv", tmp_path / "re.csv", [3, 1, 4, 0, 2])
    assert main(["predict", surrogate, "--data", str(reordered), "--target", "target",
                 "-o", str(shuffled)]) == 0
    assert plain.read_text() == shuffled.read_text()
    assert len(set(plain.read_text().splitlines()[1:])) > 1
    missing = _reordered(TABULAR / "iris_test.csv", tmp_path / "missing.csv", [0, 1, 2, 4])
    capsys.readouterr()
    assert main(["predict", surrogate, "--data", str(missing), "--target", "target"]) == 1
    assert "missing ['petal_width_cm']" in capsys.readouterr().err


# -- item 2: a network that answers NaN or inf ----------------------------------------------

def _weird_network(tmp_path: Path, kind: str):
    """A 4-8-3 softmax MLP whose first layer holds NaN (every answer NaN) or one inf weight
    (answers NaN exactly where feature 0 is >= 0)."""
    from onnx_builders import dense_mlp, mlp_weights, save

    layers = mlp_weights([4, 8, 3], seed=3)
    w0 = layers[0][0].copy()
    if kind == "nan":
        w0[:] = np.nan
    else:
        w0[0, 0] = np.inf
    layers[0] = (w0, layers[0][1])
    w1 = layers[1][0].copy()
    w1[0, :] = np.abs(w1[0, :]) + 0.1  # +inf in the hidden unit reaches every logit
    layers[1] = (w1, layers[1][1])
    path = save(dense_mlp(layers, head="Softmax"), tmp_path / f"{kind}.onnx")
    return path, layers


def _table(tmp_path: Path, n: int = 600) -> tuple[Path, np.ndarray]:
    X = np.round(np.random.default_rng(7).normal(size=(n, 4)), 3)
    X[X[:, 0] == 0, 0] = 0.5
    path = tmp_path / "rows.csv"
    path.write_text("a,b,c,d\n" + "\n".join(",".join(str(float(v)) for v in row) for row in X) + "\n")
    return path, X


def _numpy_nonfinite(layers, X):
    with np.errstate(all="ignore"):
        h = X.astype(np.float32)
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = np.maximum(h, 0)
        z = h - h.max(axis=1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return ~np.isfinite(p).all(axis=1)


def test_nan_network_is_refused_not_reported_perfect(tmp_path, capsys):
    from nnrules.exceptions import OracleError
    from nnrules.io.model import load

    model, _ = _weird_network(tmp_path, "nan")
    data, X = _table(tmp_path)
    network = load(model)
    with pytest.raises(OracleError, match=r"answered NaN or inf on 600 of 600 rows \(first: "
                                          r"0, 1, 2, 3, 4, \.\.\.\)"):
        network.predict(X)
    code = main(["extract", str(model), "--data", str(data), "--method", "tree",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "600 of 600 rows" in err and "--nonfinite drop" in err
    assert not (tmp_path / "out" / "report.json").exists()
    code = main(["extract", str(model), "--data", str(data), "--method", "tree",
                 "--nonfinite", "drop", "--out", str(tmp_path / "out")])
    assert code == 1 and "on all 600 rows" in capsys.readouterr().err


def test_inf_network_rows_are_refused_or_dropped_and_counted(tmp_path, capsys):
    model, layers = _weird_network(tmp_path, "inf")
    data, X = _table(tmp_path)
    truth = _numpy_nonfinite(layers, X)
    k = int(truth.sum())
    assert 0 < k < len(X)
    code = main(["extract", str(model), "--data", str(data), "--method", "tree",
                 "--out", str(tmp_path / "refused")])
    err = capsys.readouterr().err
    first = ", ".join(str(i) for i in np.flatnonzero(truth)[:5])
    assert code == 1 and f"{k} of 600 rows (first: {first}, ...)" in err

    out = tmp_path / "dropped"
    assert main(["extract", str(model), "--data", str(data), "--method", "tree",
                 "--nonfinite", "drop", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["nonfinite_dropped"] == k
    assert report["n_eval"] == len(X) - k
    assert f"dropped {k} of 600 rows" in err
    assert any(f"{k} of 600 rows" in w and "NaN or inf" in w for w in report["warnings"])
    assert "NaN or inf" in (out / "report.md").read_text()
    # Fidelity is measured on exactly the finite rows, against the network's answers there.
    from nnrules.io import serialize
    from nnrules.io.model import load

    surrogate = serialize.load(out / "surrogate.json")
    finite = X[~truth]
    agree = np.mean(surrogate.predict(finite) == load(model).predict(finite))
    assert report["fidelity"] == pytest.approx(agree)

    # `evaluate` takes the same option.
    assert main(["evaluate", str(out / "surrogate.json"), str(model), "--data", str(data),
                 "--nonfinite", "drop", "--out", str(tmp_path / "ev")]) == 0
    again = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert again["data"]["nonfinite_dropped"] == k
    capsys.readouterr()
    assert main(["evaluate", str(out / "surrogate.json"), str(model), "--data",
                 str(data)]) == 1
    assert f"{k} of 600 rows" in capsys.readouterr().err


def test_extract_eval_drops_nonfinite_rows_for_the_per_leaf_figures_too(tmp_path):
    """--eval FILE --nonfinite drop: the per-leaf figures are measured on the rows the report
    kept, from the report's own answers (the second pass asked the network about every row
    and stopped at the first NaN / inf answer)."""
    model, layers = _weird_network(tmp_path, "inf")
    data, X = _table(tmp_path)
    k = int(_numpy_nonfinite(layers, X).sum())
    out = tmp_path / "out"
    assert main(["extract", str(model), "--data", str(data), "--eval", str(data),
                 "--method", "tree", "--nonfinite", "drop", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["nonfinite_dropped"] == k and report["n_eval"] == len(X) - k
    local = json.loads((out / "surrogate.json").read_text())["local_fidelity"]
    assert local["n_rows"] == len(X) - k


def test_attach_local_fidelity_after_a_dropping_report_asks_only_the_kept_rows(tmp_path):
    """report(X, nonfinite="drop") then attach_local_fidelity(X, report): the per-leaf
    figures are measured on the rows the report kept, and the network is asked about those
    rows only (it was asked about every row and stopped at the first NaN / inf answer)."""
    import nnrules
    from nnrules.io.model import load

    model, layers = _weird_network(tmp_path, "inf")
    _, X = _table(tmp_path)
    bad = _numpy_nonfinite(layers, X)
    k = int(bad.sum())
    net = load(model)
    ex = nnrules.TreeExtractor(net, max_leaves=4, random_state=0).fit(X[~bad])
    report = ex.report(X, nonfinite="drop")
    assert report.data["nonfinite_dropped"] == k and report.n_eval == len(X) - k
    asked, predict = [], type(net).predict

    def counting(self, rows):
        asked.append(len(rows))
        return predict(self, rows)

    type(net).predict = counting
    try:
        ex.attach_local_fidelity(X, report)
    finally:
        type(net).predict = predict
    assert asked == [len(X) - k]
    local = ex.surrogate_.to_dict()["local_fidelity"]
    assert local["n_rows"] == len(X) - k and local["data"] == "evaluation data"
    # The same figures as attaching on the kept rows themselves, or with the report read
    # back from its JSON (which does not say which rows: the network is asked again).
    ex.attach_local_fidelity(X[~bad], ex.report(X[~bad]))
    assert ex.surrogate_.to_dict()["local_fidelity"] == local
    from nnrules.fidelity_report import FidelityReport

    queries = ex.oracle_.n_queries
    ex.attach_local_fidelity(X, FidelityReport.from_dict(report.to_dict()))
    assert ex.surrogate_.to_dict()["local_fidelity"] == local
    assert ex.oracle_.n_queries == queries



def test_attach_local_fidelity_refuses_rows_the_report_was_not_measured_on():
    """attach_local_fidelity(X, report) with other rows than the report's stored figures
    measured on other rows under the report's data name and kind; now a DataError."""
    import nnrules
    from nnrules.exceptions import DataError, ParameterError

    X = np.random.default_rng(0).normal(size=(300, 3))
    ex = nnrules.TreeExtractor(lambda X: (X[:, 0] > 0).astype(int), task="classification",
                               max_leaves=3, random_state=0).fit(X[:200])
    report = ex.report(X[200:], data_name="held-out")
    with pytest.raises(DataError, match=r"on 'held-out' measured 100 rows, X has 5\. Pass"):
        ex.attach_local_fidelity(X[200:205], report)
    with pytest.raises(ParameterError, match="takes the FidelityReport measured on X"):
        ex.attach_local_fidelity(X[200:], report.to_dict())  # was AttributeError
    ex.attach_local_fidelity(X[200:], report)
    assert ex.surrogate_.to_dict()["local_fidelity"]["n_rows"] == 100


def test_oracle_refuses_nan_from_a_black_box_and_finds_the_rows():
    from nnrules.exceptions import OracleError
    from nnrules.oracles import Oracle

    def regression(X):
        out = X[:, 0].copy()
        out[[2, 5]] = np.nan
        return out

    oracle = Oracle(regression, task="regression")
    X = np.arange(24, dtype=float).reshape(8, 3)
    with pytest.raises(OracleError, match=r"on 2 of 8 rows \(first: 2, 5\)"):
        oracle.predict(X)
    assert np.flatnonzero(oracle.nonfinite_rows(X)).tolist() == [2, 5]


def test_predict_warns_about_rows_outside_the_extraction_domain(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", str(TABULAR / "iris.onnx"), "--data",
                 str(TABULAR / "iris_train.csv"), "--target", "target", "--method", "tree",
                 "--out", str(out)]) == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n"
                    "5.1,3.5,1.4,0.2\n-50,3.0,1.5,0.2\n")
    capsys.readouterr()
    assert main(["predict", str(out / "surrogate.json"), "--data", str(rows)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3
    assert "1 of 2 rows of 'rows.csv' lie outside the domain" in captured.err
    assert "sepal_length_cm (1 row)" in captured.err


def test_one_domain_count_for_the_report_the_batches_and_predict():
    """The in-memory report, the batched report (counts merged over batches, in any order) and
    ``predict``'s warning count rows outside the domain one way and say it in one sentence,
    features in the order ``outside_domain`` lists them (columns, then one-hot groups)."""
    from nnrules.evaluation_checks import DomainCount, outside_domain

    schema = FeatureSchema((Feature("a", "continuous", 0, 1),
                            Feature("g_x", "onehot", 0, 1, group="g", category="x"),
                            Feature("g_y", "onehot", 0, 1, group="g", category="y"),
                            Feature("z", "integer", 0, 5)))
    X = np.array([[0.5, 1, 0, 1], [2.0, 1, 1, 1], [0.5, 0, 0, 9], [0.5, 2, 0, 1],
                  [0.5, 0, 1, 1], [-1, 0, 1, 7]])

    class Surrogate:
        pass

    surrogate = Surrogate()
    surrogate.schema = schema
    warnings: list[str] = []
    whole = outside_domain(surrogate, X, None, "d.csv", warnings)
    assert whole == {"outside_domain": {"rows": 4, "features": {"a": 2, "g_x": 1, "z": 2,
                                                                "g": 3}}}
    assert list(whole["outside_domain"]["features"]) == list(schema.outside_domain(X)[1])
    for order in ([X[:3], X[3:]], [X[3:], X[:3]], [X[i:i + 1] for i in (5, 2, 0, 3, 1, 4)]):
        parts = []
        for batch in order:
            part = DomainCount()
            part.add(schema, batch)
            parts.append(part)
        merged = sum(parts[1:], parts[0])
        assert json.dumps(merged.entry(schema)) == json.dumps(whole)
        assert [merged.warning("d.csv", schema)] == warnings
    assert warnings[0].startswith("4 of 6 rows of 'd.csv' lie outside the domain")
    assert "a (2 rows), g_x (1 row), z (2 rows), g (3 rows))" in warnings[0]
    none = DomainCount()
    none.add(None, X)
    assert none.entry(None) == {} and none.n == 6


def test_careless_arguments_get_typed_errors_that_say_what_to_do():
    """A label_map that is not a mapping raised AttributeError ('int' object has no attribute
    'items'); a model path given where a network goes now says to load it first."""
    import nnrules
    from nnrules.exceptions import ParameterError

    X = np.random.default_rng(0).normal(size=(200, 3))
    ex = nnrules.TreeExtractor(lambda X: (X[:, 0] > 0).astype(int), task="classification",
                               max_leaves=3, random_state=0).fit(X)
    for bad in (3, ["yes", 1], "yes=1"):
        with pytest.raises(ParameterError, match=r"label_map must map data labels .*got"):
            ex.report(X, (X[:, 0] > 0).astype(int), label_map=bad)
    assert ex.report(X, (X[:, 0] > 0).astype(int), label_map={}).accuracy is not None
    model = str(TABULAR / "iris.onnx")
    with pytest.raises(ParameterError, match=r"load it first: nnrules\.load\("):
        nnrules.TreeExtractor(model).fit(np.zeros((20, 4)))


def test_text_columns_for_a_one_tensor_model_say_so(tmp_path, capsys):
    """Text columns given to a model that takes one numeric tensor: the message said
    "Missing model inputs ['features']; the model takes ['features']. Got [<the columns>]"."""
    import nnrules
    from nnrules.exceptions import DataError

    net = nnrules.load(TABULAR / "iris.onnx")
    rows = [["a", "1.0", "2.0", "3.0"], ["b", "1.5", "2.5", "3.5"]] * 10
    with pytest.raises(DataError, match=r"\['x0'\] hold text .* one numeric tensor 'features'"):
        nnrules.TreeExtractor(net).fit(rows)
    data = tmp_path / "text.csv"
    names = "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm"
    data.write_text(names + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    assert main(["extract", str(TABULAR / "iris.onnx"), "--data", str(data), "--method", "tree",
                 "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "['sepal_length_cm'] hold text" in err and "Missing model inputs" not in err
