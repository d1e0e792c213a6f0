"""The `nnrules` command end to end on the bundled example, and its one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nnrules.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "breast_cancer"
MODEL = str(EXAMPLE / "model.onnx")
TRAIN = str(EXAMPLE / "train.csv")
TEST = str(EXAMPLE / "test.csv")


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    out = tmp_path_factory.mktemp("tree")
    code = main(["extract", MODEL, "--data", TRAIN, "--eval", TEST, "--target", "target",
                 "--method", "tree", "--param", "max_leaves=8", "--out", str(out)])
    assert code == 0
    return out


def test_extract_writes_the_four_files_with_honest_report(extracted):
    assert sorted(p.name for p in extracted.iterdir()) == [
        ".nnrules-manifest.json", "report.json", "report.md", "rules.txt", "surrogate.json"]
    manifest = json.loads((extracted / ".nnrules-manifest.json").read_text())
    assert manifest["files"] == ["report.json", "report.md", "rules.txt", "surrogate.json"]
    report = json.loads((extracted / "report.json").read_text())
    assert report["format"] == "nnrules/report"
    assert {"fidelity", "fidelity_ci95", "n_eval", "complexity"} <= set(report)
    assert report["n_eval"] == 171  # the held-out 30% of 569 rows
    lo, hi = report["fidelity_ci95"]
    assert lo <= report["fidelity"] <= hi
    assert report["fidelity"] > 0.85
    assert report["complexity"]["leaves"] <= 8
    assert report["data"]["name"] == "test.csv"
    assert report["model_sha256"] and len(report["model_sha256"]) == 64
    assert report["accuracy"]["network"] > 0.9
    # The only warning: held-out rows beyond the extraction rows' bounds, counted.
    assert [w[:40] for w in report["warnings"]] == [
        f"{report['data']['outside_domain']['rows']} of 171 rows of 'test.csv' lie outside"[:40]]
    surrogate = json.loads((extracted / "surrogate.json").read_text())
    assert surrogate["format"] == "nnrules/tree"
    assert "test.csv" in (extracted / "report.md").read_text()
    assert "mean_" in (extracted / "rules.txt").read_text() or "worst_" in (
        extracted / "rules.txt").read_text()


def test_report_without_eval_warns_it_is_the_extraction_data(tmp_path, capsys):
    code, _, err = run(capsys, "extract", MODEL, "--data", TRAIN, "--target", "target",
                       "--method", "tree", "--out", tmp_path)
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["data"]["kind"] == "the extraction data itself"
    assert any("optimistic" in w for w in report["warnings"])
    assert "optimistic" in err


def test_same_seed_gives_byte_identical_files(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert main(["extract", MODEL, "--data", TRAIN, "--method", "tree", "--seed", "7",
                     "--target", "target", "--param", "n_queries=300", "--out", str(out)]) == 0
        outs.append((out / "surrogate.json").read_bytes())
    assert outs[0] == outs[1]


def test_predict_csv_agrees_with_the_saved_surrogate(extracted, capsys, tmp_path):
    from nnrules.io import serialize
    from nnrules.io.data import read_data

    target = tmp_path / "pred.csv"
    code, _, _ = run(capsys, "predict", extracted / "surrogate.json", "--data", TEST,
                     "--target", "target", "--explain", "-o", target)
    assert code == 0
    with open(target, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["prediction", "reason"]
    assert len(rows) == 171
    surrogate = serialize.load(extracted / "surrogate.json")
    data = read_data(TEST, target="target", schema=surrogate.schema)
    expected = surrogate.predict(data.X)
    assert [int(r["prediction"]) for r in rows] == expected.tolist()
    assert all(r["reason"] for r in rows)


def test_evaluate_gives_the_same_fidelity_as_extract(extracted, capsys):
    code, out, _ = run(capsys, "evaluate", extracted / "surrogate.json", MODEL, "--data", TEST,
                       "--target", "target")
    assert code == 0
    report = json.loads((extracted / "report.json").read_text())
    assert f"{report['fidelity']:.4f}" in out


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_report_given_as_the_surrogate_is_a_one_line_error(extracted, capsys, command):
    model = [MODEL] if command == "evaluate" else []
    code, _, err = run(capsys, command, extracted / "report.json", *model, "--data", TEST,
                       "--target", "target")
    assert code == 1 and err.count("\n") == 1
    assert "is an 'nnrules/report' file, not a surrogate" in err


def test_inspect_names_task_and_methods(capsys):
    code, out, _ = run(capsys, "inspect", MODEL)
    assert code == 0
    lines = out.splitlines()
    labels = [ln.split()[0] for ln in lines if ln[:1].strip()]
    assert labels == ["Model", "SHA-256", "Task", "Inputs", "Outputs", "Features", "Format",
                      "Logits", "Layers", "Methods"]
    # Aligned: every value starts in one column; no Python reprs, no "None", no empty lines.
    column = {len(ln) - len(ln[len(ln.split()[0]):].lstrip()) for ln in lines if ln[:1].strip()}
    assert len(column) == 1
    assert "{" not in out and "None" not in out and all(ln.strip() for ln in lines)
    assert "Task      classification, classes 0, 1" in out
    assert "features  float32  [batch, 30]" in out
    assert lines[-1].startswith("Methods") and "tree" in lines[-1]
    code, out, _ = run(capsys, "inspect", MODEL, "--json")
    assert code == 0 and json.loads(out)["task"] == "classification"


@pytest.mark.parametrize("model, one_layer", [
    (MODEL, False),  # 30-16-8-2
    (ROOT / "tests" / "fixtures" / "decompositional" / "xor_64-32-16_s0.onnx", False),
    (ROOT / "tests" / "fixtures" / "setiono" / "monk1_h3.onnx", True),
])
def test_inspect_lists_one_hidden_layer_methods_only_where_they_run(capsys, model, one_layer):
    # cred and setiono refuse networks with more than one hidden layer at fit, so inspect must
    # not offer them there.
    code, out, _ = run(capsys, "inspect", model)
    assert code == 0
    methods = out.splitlines()[-1].split(None, 1)[1].split(", ")
    assert {"deepred", "eclaire", "tree"} <= set(methods)
    assert ("cred" in methods) is one_layer and ("setiono" in methods) is one_layer


def test_methods_list_and_describe_parameters(capsys):
    code, out, _ = run(capsys, "methods")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["additive", "pedagogical"]
    code, out, _ = run(capsys, "methods", "trepan")
    assert code == 0 and out.startswith("trepan: TREPAN")
    assert any(ln.split()[:2] == ["max_leaves", "16"] for ln in out.splitlines())
    code, out, _ = run(capsys, "extract", "--method", "tree", "--help")
    assert code == 0 and "usage:" in out and "min_samples_leaf" in out
    code, _, err = run(capsys, "methods", "nope")
    assert code != 0 and "Known methods" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["extract", "missing.onnx", "--data", TRAIN, "--method", "tree"], "missing.onnx"),
        (["extract", MODEL, "--data", TRAIN, "--method", "nope"], "Known methods"),
        (["extract", MODEL, "--data", TRAIN, "--method", "tree", "--param", "max_leaves=0"],
         "max_leaves"),
        (["extract", MODEL, "--data", TRAIN, "--method", "tree", "--param", "leaves=3"],
         "Valid:"),
        (["extract", MODEL, "--data", "nowhere.csv", "--method", "tree"], "nowhere.csv"),
        (["predict", str(EXAMPLE / "train.csv"), "--data", TEST], "nnrules"),
    ],
)
def test_user_errors_are_one_line(argv, message, capsys, tmp_path):
    code, _, err = run(capsys, *argv, *([] if argv[0] != "extract" else ["--out", tmp_path / "o"]))
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nnrules: error:")
    assert message in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "surrogate.json").exists()


def test_missing_column_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    with open(TRAIN) as src, open(bad, "w") as dst:
        dst.writelines(",".join(line.rstrip("\n").split(",")[1:]) + "\n" for line in src)  # drop a column
    code, _, err = run(capsys, "extract", MODEL, "--data", bad, "--target", "target",
                       "--method", "tree", "--out", tmp_path / "o")
    assert code != 0 and "missing ['mean_radius']" in err


def test_nan_is_refused_then_dropped_on_request(tmp_path, capsys):
    nan_csv = tmp_path / "nan.csv"
    lines = Path(TRAIN).read_text().splitlines()
    cells = lines[1].split(",")
    cells[0] = "nan"
    lines[1] = ",".join(cells)
    nan_csv.write_text("\n".join(lines) + "\n")
    code, _, err = run(capsys, "extract", MODEL, "--data", nan_csv, "--target", "target",
                       "--method", "tree", "--out", tmp_path / "o")
    assert code != 0 and "NaN" in err and "1" in err
    code, _, _ = run(capsys, "extract", MODEL, "--data", nan_csv, "--target", "target",
                     "--method", "tree", "--out", tmp_path / "o", "--drop-invalid")
    assert code == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["n_eval"] == len(lines) - 2  # header and the NaN row gone


def test_an_existing_output_survives_a_failed_run(extracted, tmp_path, capsys):
    out = tmp_path / "keep"
    shutil.copytree(extracted, out)
    before = (out / "surrogate.json").read_bytes()
    code, _, _ = run(capsys, "extract", MODEL, "--data", TRAIN, "--method", "tree",
                     "--param", "max_depth=-1", "--out", out)
    assert code != 0
    assert (out / "surrogate.json").read_bytes() == before


def test_python_api_matches_the_cli(extracted):
    import nnrules
    from nnrules.io.data import read_data

    network = nnrules.load(MODEL)
    train = read_data(TRAIN, target="target")
    test = read_data(TEST, target="target", schema=train.schema)
    extractor = nnrules.TreeExtractor(network, max_leaves=8, random_state=0)
    extractor.fit(train.X, schema=train.schema)
    # the CLI measures on --eval and stores the local fidelity from those held-out rows
    report = extractor.report(test.X, test.y, data_name=Path(TEST).name)
    extractor.attach_local_fidelity(test.X, report)
    from nnrules.io import serialize

    assert serialize.dumps(extractor.surrogate_) == (extracted / "surrogate.json").read_text()
    assert np.array_equal(extractor.predict(test.X), extractor.surrogate_.predict(test.X))


def test_multi_input_pipeline_reads_rules_on_raw_columns(tmp_path, capsys):
    """skl2onnx pipeline with one graph input per raw column, string columns included."""
    fixtures = ROOT / "tests" / "fixtures"
    model = fixtures / "pipeline_census.onnx"
    data = fixtures / "pipeline_census.csv"
    code, _, err = run(capsys, "extract", model, "--data", data, "--target", "income",
                       "--method", "tree", "--param", "max_leaves=12", "--out", tmp_path)
    assert code == 0, err
    rules = (tmp_path / "rules.txt").read_text()
    assert "workclass" in rules or "education" in rules
    assert "'" in rules  # categories read as strings, not codes
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["fidelity"] > 0.8


def _shuffled(src: Path, dst: Path, order: list[int]) -> Path:
    rows = list(csv.reader(src.open()))
    with dst.open("w", newline="") as f:
        csv.writer(f).writerows([[r[i] for i in order] for r in rows])
    return dst


@pytest.mark.parametrize("sample", [[], ["--sample", "60"]])
def test_model_columns_in_another_order_are_reordered_by_name(tmp_path, capsys, sample):
    """Extraction data holding a named model's columns in another order were refused
    ("reorder the columns to match"); now they are put in the model's order by name, with one
    warning, and the surrogate is the same bytes as from data in the model's order. Names
    that do not match are still refused."""
    iris = ROOT / "tests" / "fixtures" / "tabular"
    model = iris / "iris.onnx"
    train, test = iris / "iris_train.csv", iris / "iris_test.csv"
    shuffled = _shuffled(train, tmp_path / "train.csv", [3, 1, 4, 0, 2])  # target in between
    argv = ["extract", model, "--target", "target", "--method", "tree", "--seed", "1",
            "--eval", test, *sample]
    code, _, err = run(capsys, *argv, "--data", shuffled, "--out", tmp_path / "a")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "input order by name" in line]
    assert len(notes) == 1 and "they were ['petal_width_cm', 'sepal_width_cm', " in notes[0]
    assert run(capsys, *argv, "--data", train, "--out", tmp_path / "b")[0] == 0
    for name in ("surrogate.json", "rules.txt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    rows = list(csv.reader(shuffled.open()))
    rows[0][0] = "petal_width"  # not one of the model's names
    with (tmp_path / "bad.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    code, _, err = run(capsys, *argv, "--data", tmp_path / "bad.csv", "--out", tmp_path / "c")
    assert code == 1 and err.count("\n") == 1
    assert "missing ['petal_width_cm'], unexpected ['petal_width']" in err


def test_extractor_fit_reorders_a_named_models_columns():
    import nnrules
    from nnrules.exceptions import ColumnsReorderedWarning
    from nnrules.io.data import read_data

    iris = ROOT / "tests" / "fixtures" / "tabular"
    data = read_data(iris / "iris_train.csv", target="target")
    order = [2, 0, 3, 1]
    shuffled = read_data(data.X[:, order], feature_names=[data.schema.names[i] for i in order])
    net = nnrules.load(iris / "iris.onnx")
    with pytest.warns(ColumnsReorderedWarning, match="input order by name"):
        ex = nnrules.TreeExtractor(net, random_state=0).fit(shuffled)
    assert ex.schema_.names == data.schema.names
    same = nnrules.TreeExtractor(net, random_state=0).fit(data)
    assert ex.surrogate_.to_dict() == same.surrogate_.to_dict()
    with pytest.warns(ColumnsReorderedWarning):  # predict reorders alike
        assert np.array_equal(ex.predict(shuffled), same.predict(data))


def test_column_warnings_point_at_the_users_call():
    """ColumnsReorderedWarning / ColumnsRenamedWarning name the line of the user's code that
    called nnrules (fit, predict, report, read_data), not a line inside nnrules, whatever the
    depth of the call inside the library."""
    import warnings

    import nnrules
    from nnrules.exceptions import ColumnsRenamedWarning, ColumnsReorderedWarning
    from nnrules.io.data import read_data

    iris = ROOT / "tests" / "fixtures" / "tabular"
    data = read_data(iris / "iris_train.csv", target="target")
    order = [2, 0, 3, 1]
    shuffled = read_data(data.X[:, order], feature_names=[data.schema.names[i] for i in order])
    net = nnrules.load(iris / "iris.onnx")
    upper = read_data(data.X, feature_names=[n.upper() for n in data.schema.names])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = nnrules.TreeExtractor(net, max_leaves=4, random_state=0).fit(shuffled)
        ex.predict(shuffled)
        ex.report(shuffled)
        nnrules.TreeExtractor(net, max_leaves=4, random_state=0).fit(upper)
        read_data(iris / "iris_test.csv", target="target",
                  schema=read_data(data.X, feature_names=upper.schema.names).schema)
    ours = [w for w in caught
            if issubclass(w.category, (ColumnsReorderedWarning, ColumnsRenamedWarning))]
    assert {w.category for w in ours} == {ColumnsReorderedWarning, ColumnsRenamedWarning}
    assert len(ours) >= 5
    assert all(w.filename == __file__ for w in ours), [(w.filename, w.lineno) for w in ours]


def test_unnamed_array_is_checked_by_count_and_read_by_the_models_names(tmp_path, capsys):
    from nnrules.io.data import read_data

    X = read_data(TEST, target="target").X
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "x29.npy", X[:, 1:])
    code, _, err = run(capsys, "extract", MODEL, "--data", tmp_path / "x29.npy",
                       "--method", "tree", "--out", tmp_path / "o")
    assert code != 0 and "29 columns" in err and "takes 30" in err
    code, _, _ = run(capsys, "extract", MODEL, "--data", tmp_path / "x.npy",
                     "--method", "tree", "--out", tmp_path / "o")
    assert code == 0
    assert "worst_" in (tmp_path / "o" / "rules.txt").read_text()


@pytest.mark.parametrize("method, model, data, params", [
    ("tree", MODEL, EXAMPLE, ["--param", "max_leaves=4"]),
    ("via", str(ROOT / "tests" / "fixtures" / "tabular" / "iris.onnx"),
     ROOT / "tests" / "fixtures" / "tabular" / "iris", ["--param", "max_verifications=60"]),
])
def test_each_data_file_is_built_and_validated_once(method, model, data, params, tmp_path,
                                                    monkeypatch):
    """read_data -> _build -> schema.validate once per file read, not again in fit / report."""
    import nnrules.io.data as data_module
    from nnrules.schema import FeatureSchema

    calls = {"build": [], "validate": 0}
    build, validate = data_module._build, FeatureSchema.validate

    def counted_build(*args, **kwargs):
        calls["build"].append(kwargs["name"])
        return build(*args, **kwargs)

    def counted_validate(self, X, **kwargs):
        calls["validate"] += 1
        return validate(self, X, **kwargs)

    monkeypatch.setattr(data_module, "_build", counted_build)
    monkeypatch.setattr(FeatureSchema, "validate", counted_validate)
    train, test = (f"{data}/train.csv", f"{data}/test.csv") if method == "tree" else (
        f"{data}_train.csv", f"{data}_test.csv")
    assert main(["extract", model, "--data", train, "--eval", test, "--target", "target",
                 "--method", method, *params, "--out", str(tmp_path / "a")]) == 0
    assert calls["build"] == [Path(train).name, Path(test).name]
    assert calls["validate"] == 1  # the evaluation file, against the extraction's schema
    calls["build"].clear()
    calls["validate"] = 0
    assert main(["extract", model, "--data", train, "--target", "target",
                 "--method", method, *params, "--out", str(tmp_path / "b")]) == 0
    assert calls["build"] == [Path(train).name] and calls["validate"] == 0
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["data"]["kind"] == "the extraction data itself"
    assert report["partial"] is False and report["partial_reason"] is None


def test_evaluate_reports_without_an_extractor(extracted, tmp_path, capsys):
    """`nnrules evaluate` measures a saved surrogate against the network: the same figures as
    the extraction's report, the method the surrogate file records (issue 17: never
    "surrogate"), and no parameters it cannot know."""
    code, _, _ = run(capsys, "evaluate", extracted / "surrogate.json", MODEL, "--data", TEST,
                     "--target", "target", "--out", tmp_path)
    assert code == 0
    fresh = json.loads((tmp_path / "report.json").read_text())
    first = json.loads((extracted / "report.json").read_text())
    for key in ("fidelity", "fidelity_ci95", "per_class", "accuracy", "complexity",
                "model_sha256", "n_eval"):
        assert fresh[key] == first[key], key
    assert fresh["method"] == "tree" and fresh["parameters"] == {} and fresh["n_queries"] is None
    assert (tmp_path / "report.md").read_text().startswith("## Fidelity report: `tree`")
    assert "not compared" in fresh["data"]["kind"]


def test_python_dash_m_runs_the_same_command_line(tmp_path):
    # `python -m nnrules` must reach the CLI: exit code and one-line error as the script's.
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "nnrules", "--version"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("nnrules ")
    bad = subprocess.run([sys.executable, "-m", "nnrules", "inspect", str(tmp_path / "no.onnx")],
                         capture_output=True, text=True)
    assert bad.returncode != 0
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
