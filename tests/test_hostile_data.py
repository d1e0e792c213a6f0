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
