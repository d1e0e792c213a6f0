"""Value labels: code meanings, display names and units in rules, files and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nnrules.cli import main
from nnrules.exceptions import FormatError, InputFileError, SchemaError
from nnrules.io import serialize
from nnrules.labels import read_labels
from nnrules.schema import Feature, FeatureSchema

FIXTURES = Path(__file__).parent / "fixtures"


def _schema():
    return FeatureSchema((
        Feature("duration", "integer", 4, 72),
        Feature("status_A11", "onehot", 0, 1, group="status", category="A11"),
        Feature("status_A14", "onehot", 0, 1, group="status", category="A14"),
        Feature("purpose", "categorical", 0, 2, categories=("A40", "A41", "A43")),
        Feature("telephone", "binary", 0, 1),
        Feature("amount", "continuous", 250, 18424),
    ))


LABELS = {"features": {
    "duration": {"unit": "months"},
    "status": {"name": "checking account", "values": {"A11": "below 0 DM", "A14": "none"}},
    "purpose": {"values": {"A40": "new car", "A43": "radio/television"}},
    "telephone": {"values": {"0": "none", "1": "registered"}},
    "amount": {"name": "credit amount", "unit": "DM"},
}}


def test_labelled_conditions_read_as_people_speak():
    s = _schema().with_labels(LABELS)
    assert s.describe_condition(0, ">", 24.5) == "duration > 24 months"
    assert s.describe_condition(2, ">", 0.5) == "checking account: none (A14)"
    assert s.describe_condition(1, "<=", 0.5) == "checking account: not below 0 DM (A11)"
    assert s.describe_condition(3, "==", 2) == "purpose: radio/television (A43)"
    assert s.describe_condition(3, "<=", 1.5) == "purpose in {new car (A40), A41}"
    assert s.describe_condition(4, ">", 0.5) == "telephone: registered (1)"
    assert s.describe_condition(5, "<=", 4000) == "credit amount <= 4000 DM"
    # Without labels nothing changes.
    plain = _schema()
    assert plain.describe_condition(2, ">", 0.5) == "status == A14"
    assert plain.describe_condition(0, ">", 24.5) == "duration > 24"


def test_labels_do_not_change_equality_and_round_trip():
    s = _schema().with_labels(LABELS)
    assert s == _schema()
    again = FeatureSchema.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again.labels == s.labels and again.describe_condition(0, ">", 24.5).endswith("months")
    assert "labels" not in _schema().to_dict()  # old files stay byte-identical


@pytest.mark.parametrize("labels, message", [
    ({"features": {"colour": {"unit": "m"}}}, r"'colour'.*valid names are \['amount'"),
    ({"features": {"status": {"values": {"A12": "x"}}}}, r"codes \['A12'\].*\['A11', 'A14'\]"),
    ({"features": {"purpose": {"unit": "m"}}}, "categorical: a unit fits numeric"),
    ({"features": {"amount": {"values": {"1": "x"}}}}, "continuous feature.*give it a 'unit'"),
    ({"features": {"amount": {"colour": "x"}}}, "keys among"),
])
def test_bad_labels_say_what_and_how_to_fix(labels, message):
    with pytest.raises(SchemaError, match=message):
        _schema().with_labels(labels)


def test_labels_file_is_checked(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text(json.dumps({"format": "nnrules/labels", "version": 1, **LABELS}))
    assert read_labels(path)["features"]["duration"] == {"unit": "months"}
    path.write_text(json.dumps({"format": "nnrules/schema", "version": 1, "features": {}}))
    with pytest.raises(FormatError, match="expected format 'nnrules/labels'"):
        read_labels(path)
    path.write_text(json.dumps({"format": "nnrules/labels", "version": 1,
                                "features": {"x": {"unit": 3}}}))
    with pytest.raises(FormatError, match="features/x/unit"):
        read_labels(path)
    with pytest.raises(InputFileError, match="does not exist"):
        read_labels(tmp_path / "none.json")


def test_cli_extract_embeds_labels_and_rules_read_them(tmp_path, capsys):
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"format": "nnrules/labels", "version": 1, "features": {
        "workclass": {"name": "employer", "values": {"Gov": "government"}},
        "hours_per_week": {"name": "hours per week", "unit": "hours"}}}))
    out = tmp_path / "out"
    code = main(["extract", str(FIXTURES / "pipeline_census.onnx"), "--data",
                 str(FIXTURES / "pipeline_census.csv"), "--target", "income", "--method", "tree",
                 "--param", "max_leaves=6", "--labels", str(labels), "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rules = (out / "rules.txt").read_text()
    assert "hours per week <= 39 hours" in rules
    _tree_part, rule_part = rules.split("The same model as rules:\n")
    assert rule_part.startswith("IF ") and "DEFAULT" in rule_part and "hours per week" in rule_part
    surrogate = serialize.load(out / "surrogate.json")  # validated against its JSON Schema
    assert surrogate.schema.labels["features"]["workclass"]["name"] == "employer"
    rows = np.array([[30, 20, 0, 0]], dtype=float)
    assert surrogate.reasons(rows)[0].startswith("leaf 1: hours per week <= 39 hours")
