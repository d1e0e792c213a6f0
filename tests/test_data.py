"""io.data: reading tables, refusing bad ones clearly, schema files, columns versus a model."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

from nnrules.exceptions import DataError, FormatError, InputFileError, SchemaError
from nnrules.io.columns import check_columns
from nnrules.io.data import (
    Dataset,
    as_dataset,
    import_or_raise,
    load_schema,
    read_data,
    save_schema,
)
from nnrules.schema import Feature, FeatureSchema

FIXTURES = Path(__file__).parent / "fixtures"
CENSUS_CSV = FIXTURES / "pipeline_census.csv"
CENSUS_ONNX = FIXTURES / "pipeline_census.onnx"


def write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- reading --------------------------------------------------------------------------------
def test_csv_numbers_strings_and_target(tmp_path):
    path = write(tmp_path, "a,color,b,y\n1,red,0.5,yes\n2,blue,1.5,no\n3,red,2.5,yes\n")
    d = read_data(path, target="y")
    assert d.name == "d.csv" and d.n_dropped == 0
    assert d.schema.names == ("a", "color", "b")
    np.testing.assert_array_equal(d.X, [[1, 1, 0.5], [2, 0, 1.5], [3, 1, 2.5]])
    assert d.X.dtype == np.float64
    assert d.schema.features[1].categories == ("blue", "red")
    assert [f.kind for f in d.schema.features] == ["integer", "categorical", "continuous"]
    assert d.y.tolist() == ["yes", "no", "yes"]


def test_csv_numeric_target_is_int(tmp_path):
    d = read_data(write(tmp_path, "a,y\n0.5,1\n1.5,0\n"), target="y")
    assert d.y.dtype == np.int64 and d.y.tolist() == [1, 0]


def test_csv_onehot_group_inferred(tmp_path):
    path = write(tmp_path, "a1_1,a1_2,a1_3,x\n1,0,0,3\n0,1,0,4\n0,0,1,5\n")
    d = read_data(path)
    assert d.schema.groups == {"a1": (0, 1, 2)}
    assert d.schema.describe_condition(1, ">", 0.5) == "a1 == 2"


def test_npy_dataframe_parquet_and_array_agree(tmp_path):
    X = np.array([[1.0, 0.25], [2.0, 0.5], [3.0, 0.75]])
    np.save(tmp_path / "d.npy", X)
    frame = pd.DataFrame(X, columns=["a", "b"])
    frame.to_parquet(tmp_path / "d.parquet")
    reads = [
        read_data(tmp_path / "d.npy", feature_names=["a", "b"]),
        read_data(frame),
        read_data(tmp_path / "d.parquet"),
        as_dataset(X.tolist(), feature_names=["a", "b"]),
        as_dataset(X, feature_names=["a", "b"]),
    ]
    for d in reads:
        np.testing.assert_array_equal(d.X, X)
        assert d.schema == reads[0].schema
    assert read_data(tmp_path / "d.npy").schema.names == ("x0", "x1")


def test_npy_target_by_name(tmp_path):
    np.save(tmp_path / "d.npy", np.array([[1.0, 0.0], [2.0, 1.0]]))
    d = read_data(tmp_path / "d.npy", target="x1")
    assert d.schema.names == ("x0",) and d.y.tolist() == [0, 1]


def test_dataframe_strings_and_feature_selection():
    frame = pd.DataFrame({"w": ["b", "a", "b"], "n": [1, 2, 3], "junk": [0, 0, 0]})
    d = read_data(frame, feature_names=["n", "w"])
    assert d.schema.names == ("n", "w")
    np.testing.assert_array_equal(d.X, [[1, 1], [2, 0], [3, 1]])


def test_as_dataset_with_schema_and_y():
    base = as_dataset(np.array([[0.0, 1.0], [1.0, 0.0]]), feature_names=["p", "q"])
    again = as_dataset(base, y=[1, 0])
    assert again.y.tolist() == [1, 0] and again.schema is base.schema
    # Arrays under a schema with categorical features are codes (schema space).
    s = FeatureSchema((Feature("w", "categorical", 0, 1, categories=("a", "b")),))
    d = as_dataset(np.array([[1.0], [0.0]]), schema=s)
    assert d.schema is s and d.X[:, 0].tolist() == [1.0, 0.0]
    # DataFrames under that schema hold the raw strings.
    d = as_dataset(pd.DataFrame({"w": ["b", "a"]}), schema=s)
    assert d.X[:, 0].tolist() == [1.0, 0.0]
    with pytest.raises(DataError, match=r"y has shape \(3,\) but the data have 2 rows"):
        as_dataset(base, y=[1, 0, 1])
    with pytest.raises(DataError, match="do not match the schema's"):
        as_dataset(base, schema=s)



def test_array_of_another_width_under_a_schema_names_the_schema_not_the_users_names():
    """An extractor's predict / report on an array with a column missing or added: the
    message said "Got 2 feature names for 3 columns; give one name per column", though the
    user gave no names (they were the fitted schema's)."""
    import nnrules

    base = as_dataset(np.array([[0.0, 1.0], [1.0, 0.0]]), feature_names=["p", "q"])
    for X in (np.zeros((2, 3)), np.zeros((2, 1)), [[0.0, 1.0, 2.0]]):
        with pytest.raises(DataError) as err:
            as_dataset(X, schema=base.schema)
        text = str(err.value)
        assert f"have {np.shape(X)[1]} columns but the schema has 2 ['p', 'q']" in text
        assert "feature names" not in text and "in that order" in text
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    ex = nnrules.TreeExtractor(lambda X: (X[:, 0] > 0).astype(int), task="classification",
                               max_leaves=3, random_state=0).fit(X)
    for call in (ex.predict, ex.report):
        with pytest.raises(DataError, match=r"have 4 columns but the schema has 3"):
            call(np.hstack([X, X[:, :1]]))


# -- refusing bad data ----------------------------------------------------------------------
def test_missing_file():
    with pytest.raises(InputFileError, match="'nope.csv' does not exist"):
        read_data("nope.csv")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "is empty"),
        ("a,b\n", "no data rows"),
        ("1,2\n3,4\n", "no header line"),
        ("a,a\n1,2\n", "must be unique"),
        ("a,b\n1,2\n3\n", "line 3 has 1 fields but the header has 2"),
        ("a,b\n1,2\n3,x7\n", r"Column 'b' is numeric but row 1 holds 'x7'"),
    ],
)
def test_bad_csv(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        read_data(write(tmp_path, text))


def test_nan_refused_with_count_then_dropped(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,x\n,3,y\n4,inf,x\n5,6,\n7,8,y\n")
    with pytest.raises(DataError, match=r"has 3 of 5 rows .*drop_invalid=True .*--drop-invalid"):
        read_data(path)
    d = read_data(path, drop_invalid=True)
    assert d.n_dropped == 3 and d.X.tolist() == [[1, 2, 0], [7, 8, 1]]
    with pytest.raises(DataError, match="has 1 of 2 rows"):
        as_dataset(np.array([[1.0], [np.nan]]))
    all_bad = write(tmp_path, "a\nNA\n\n", "bad.csv")
    with pytest.raises(DataError, match="All 1 rows"):
        read_data(all_bad, drop_invalid=True)


def test_missing_target_lists_columns(tmp_path):
    with pytest.raises(DataError, match=r"Target column 'income' .* columns are \['a', 'b'\]"):
        read_data(write(tmp_path, "a,b\n1,2\n"), target="income")


def test_unknown_suffix_and_bad_shapes(tmp_path):
    with pytest.raises(DataError, match=r"Unknown data file type '.xlsx'"):
        read_data(write(tmp_path, "x", "d.xlsx"))
    with pytest.raises(DataError, match="1-D shape"):
        as_dataset(np.arange(3.0))
    with pytest.raises(DataError, match="2 feature names for 3 columns"):
        as_dataset(np.zeros((2, 3)), feature_names=["a", "b"])
    with pytest.raises(DataError, match=r"Feature columns \['zz'\] are not in the data"):
        read_data(pd.DataFrame({"a": [1]}), feature_names=["zz"])


def test_schema_mismatch_unseen_category_and_contradiction(tmp_path):
    s = FeatureSchema(
        (
            Feature("w", "categorical", 0, 1, categories=("a", "b")),
            Feature("c_x", "onehot", 0, 1, group="c", category="x"),
            Feature("c_y", "onehot", 0, 1, group="c", category="y"),
        )
    )
    ok = read_data(write(tmp_path, "c_y,c_x,w\n1,0,b\n0,1,a\n"), schema=s)
    assert ok.schema is s and ok.X.tolist() == [[1, 0, 1], [0, 1, 0]]
    with pytest.raises(DataError, match=r"missing \['c_y'\], unexpected \['z'\]"):
        read_data(write(tmp_path, "w,c_x,z\nb,0,1\n"), schema=s)
    with pytest.raises(DataError, match=r"column 'w' has categories \['q'\] .*known: \['a', 'b'\]"):
        read_data(write(tmp_path, "w,c_x,c_y\nq,0,1\n"), schema=s)
    # A broken one-hot group is outside the schema's domain, not something the network cannot
    # take: read, and counted (the fidelity report says how many rows, which group).
    broken = read_data(write(tmp_path, "w,c_x,c_y\na,0,1\na,1,1\n"), schema=s)
    assert broken.schema.outside_domain(broken.X)[1] == {"c": 1}
    with pytest.raises(SchemaError, match=r"group 'c' .*row 1 has 2"):
        s.validate(broken.X)


def test_import_or_raise_names_the_extra():
    assert import_or_raise("json", "parquet") is json
    with pytest.raises(DataError, match=r"pip install nnrules\[parquet\]"):
        import_or_raise("no_such_module_for_nnrules", "parquet")


# -- schema files ---------------------------------------------------------------------------
def test_schema_file_round_trip_and_errors(tmp_path):
    d = read_data(CENSUS_CSV, target="income")
    path = tmp_path / "schema.json"
    save_schema(d.schema, path)
    assert load_schema(path) == d.schema
    text = json.loads(path.read_text())
    assert text["format"] == "nnrules/schema" and text["version"] == 1
    text["version"] = 7
    path.write_text(json.dumps(text))
    with pytest.raises(FormatError, match="version 7"):
        load_schema(path)
    path.write_text("{not json")
    with pytest.raises(FormatError, match="not an nnrules file: not valid JSON"):
        load_schema(path)
    path.write_text(json.dumps({"features": []}))
    with pytest.raises(FormatError, match="nnrules/schema"):
        load_schema(path)
    bad = {"format": "nnrules/schema", "version": 1, "features": [{"name": "a", "kind": "x"}]}
    path.write_text(json.dumps(bad))
    with pytest.raises(FormatError, match="schema.json.*kind 'x'"):
        load_schema(path)
    with pytest.raises(InputFileError, match="does not exist"):
        load_schema(tmp_path / "none.json")


def test_hand_edited_schema_overrides_inference(tmp_path):
    data = write(tmp_path, "a,b\n1,2\n3,4\n")
    schema_path = write(
        tmp_path,
        json.dumps(
            {
                "format": "nnrules/schema",
                "version": 1,
                "features": [
                    {"name": "a", "kind": "continuous", "lower": 0, "upper": 10},
                    {"name": "b", "kind": "categorical", "categories": ["2", "4"]},
                ],
            }
        ),
        "s.json",
    )
    d = read_data(data, schema=load_schema(schema_path))
    assert d.X.tolist() == [[1, 0], [3, 1]]
    assert d.schema.describe_condition(1, "==", 1) == "b == '4'"


# -- columns versus a model -----------------------------------------------------------------
def spec(name, shape, dtype="tensor(float)"):
    return SimpleNamespace(name=name, shape=shape, dtype=dtype)


def test_check_columns_single_input():
    d = as_dataset(np.zeros((2, 3)))
    net = SimpleNamespace(feature_names=None, n_features=3, inputs=(spec("X", [None, 3]),))
    assert check_columns(d, net) is d.schema
    net4 = SimpleNamespace(feature_names=None, n_features=None, inputs=(spec("X", [None, 4]),))
    with pytest.raises(DataError, match=r"3 feature columns .* model takes 4 inputs"):
        check_columns(d, net4)
    with pytest.raises(DataError, match="takes 4 inputs"):
        check_columns(["a", "b"], net4)


def test_check_columns_multi_input():
    d = read_data(CENSUS_CSV, target="income")
    inputs = tuple(spec(n, [None, 1]) for n in ("age", "hours_per_week"))
    inputs += tuple(spec(n, [None, 1], "tensor(string)") for n in ("workclass", "education"))
    net = SimpleNamespace(
        feature_names=tuple(i.name for i in inputs), n_features=4, inputs=inputs
    )
    s = check_columns(d, net)
    assert s.input_names == d.schema.names
    assert s.input_dtypes == ("float32", "float32", "str", "str")
    short = SimpleNamespace(feature_names=("age", "sex"), n_features=2, inputs=())
    with pytest.raises(DataError, match=r"missing \['sex'\], unexpected \['hours_per_week'"):
        check_columns(d, short)


# -- the multi-input pipeline fixture -------------------------------------------------------
def test_pipeline_fixture_schema_and_predictions():
    d = read_data(CENSUS_CSV, target="income")
    assert 200 <= d.n_samples <= 1000
    feats = {f.name: f for f in d.schema.features}
    assert feats["workclass"].kind == "categorical"
    assert feats["workclass"].categories == ("Gov", "Never-worked", "Private", "Self-emp")
    assert feats["education"].categories == (
        "Bachelors", "Doctorate", "HS-grad", "Masters", "Some-college"
    )
    assert feats["age"].kind == "integer"
    session = ort.InferenceSession(str(CENSUS_ONNX), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(d.schema.names)
    feed = d.schema.to_model_input(d.X)
    labels = session.run(None, feed)[0]
    # The same rows fed raw, straight from the CSV text.
    raw = pd.read_csv(CENSUS_CSV)
    direct = {
        c: raw[[c]].to_numpy().astype(np.float32 if raw[c].dtype.kind in "if" else object)
        for c in d.schema.names
    }
    expected = session.run(None, direct)[0]
    np.testing.assert_array_equal(labels, expected)
    # The network learned the rule: it agrees with the (noisy) labels most of the time.
    assert np.mean(labels == d.y) > 0.8
    assert isinstance(d, Dataset)


def test_dataset_checks_its_shapes():
    s = FeatureSchema((Feature("a", "continuous", 0, 1),))
    with pytest.raises(DataError, match=r"shape \(2, 2\); it must be \(n_samples, 1\)"):
        Dataset(np.zeros((2, 2)), None, s)
    with pytest.raises(DataError, match=r"y has shape \(3,\) but X has 2 rows"):
        Dataset(np.zeros((2, 1)), np.zeros(3), s)
    assert Dataset([[1], [2]], None, s).X.dtype == np.float64


def test_pipeline_fixture_through_network():
    from nnrules.io.model import load

    net = load(CENSUS_ONNX)
    d = read_data(CENSUS_CSV, target="income")
    s = check_columns(d, net)
    assert s.input_names == net.feature_names
    session = ort.InferenceSession(str(CENSUS_ONNX), providers=["CPUExecutionProvider"])
    expected = session.run(None, d.schema.to_model_input(d.X))[0]
    np.testing.assert_array_equal(net.predict(s.to_model_input(d.X)), expected)
