"""MONK's problems and tabular splits: generated data, committed fixtures, their networks."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from nnrules.datasets import (
    MONK_TRAIN_SIZES,
    TABULAR_NAMES,
    load_monk,
    monk_attributes,
    monk_concept,
    monk_feature_names,
    monk_onehot,
    tabular_split,
)
from nnrules.exceptions import ParameterError
from nnrules.io.model import load
from nnrules.schema import FeatureSchema

FIXTURES = Path(__file__).parent / "fixtures"


def test_domain_is_all_432_distinct_combinations():
    A = monk_attributes()
    assert A.shape == (432, 6)
    assert len({tuple(r) for r in A}) == 432
    assert A.min(axis=0).tolist() == [1] * 6
    assert A.max(axis=0).tolist() == [3, 3, 2, 3, 4, 2]


def test_onehot_columns_and_schema_groups():
    names = monk_feature_names()
    assert names[:4] == ("a1_1", "a1_2", "a1_3", "a2_1") and len(names) == 17
    X = monk_onehot(monk_attributes())
    assert X.shape == (432, 17)
    schema = FeatureSchema.infer(X, names)
    assert sorted(schema.groups) == [f"a{i}" for i in range(1, 7)]
    schema.validate(X)
    with pytest.raises(ParameterError, match="values 1"):
        monk_onehot(np.array([[0, 1, 1, 1, 1, 1]]))


@pytest.mark.parametrize(
    ("problem", "row", "label"),
    [
        (1, [2, 2, 1, 1, 3, 1], 1),  # a1 = a2
        (1, [1, 2, 1, 1, 1, 1], 1),  # a5 = 1
        (1, [1, 2, 1, 1, 2, 1], 0),
        (2, [1, 1, 2, 2, 2, 2], 1),  # exactly two first values
        (2, [1, 1, 1, 2, 2, 2], 0),  # three
        (2, [1, 2, 2, 2, 2, 2], 0),  # one
        (3, [1, 3, 1, 1, 3, 1], 1),  # a5 = 3 and a4 = 1
        (3, [1, 3, 1, 2, 3, 1], 0),  # a2 = 3 and not the exception
        (3, [1, 1, 1, 2, 4, 1], 0),  # a5 = 4
        (3, [1, 1, 1, 2, 2, 1], 1),
    ],
)
def test_concepts_on_hand_checked_rows(problem, row, label):
    assert monk_concept(problem, np.array([row]))[0] == label


def test_training_subsets_sizes_noise_and_seeding():
    for p, size in MONK_TRAIN_SIZES.items():
        d = load_monk(p)
        assert d.X_train.shape == (size, 17) and d.X_test.shape == (432, 17)
        assert np.array_equal(d.X_train, d.X_test[d.train_index])
        truth = d.y_test[d.train_index]
        wrong = np.flatnonzero(d.y_train != truth)
        assert np.array_equal(wrong, d.flipped)
        assert len(wrong) == (6 if p == 3 else 0)  # 5% of 122
        again = load_monk(p)
        assert np.array_equal(again.train_index, d.train_index)
    assert not np.array_equal(load_monk(1, random_state=5).train_index, load_monk(1).train_index)
    with pytest.raises(ParameterError, match="1, 2 or 3"):
        load_monk(4)


def test_monk_networks_are_close_to_their_concepts():
    meta = json.loads((FIXTURES / "monks" / "meta.json").read_text())
    for p in (1, 2, 3):
        net = load(FIXTURES / "monks" / f"monk{p}.onnx")
        d = load_monk(p)
        pred = net.predict(d.X_test)
        wrong = np.flatnonzero(pred != d.y_test).tolist()
        assert wrong == meta[f"monk{p}"]["domain_disagreements"]
        assert len(wrong) <= 2
    # MONK-3's network differs from the concept on a1=2, a2=3, a3=1, a4=1, a5=3 (both a6).
    assert monk_attributes()[[244, 245], :5].tolist() == [[2, 3, 1, 1, 3]] * 2


def _read_csv(path: Path):
    with open(path) as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], np.array(rows[1:], dtype=np.float64)
    return header, body[:, :-1], body[:, -1].astype(np.int64)


@pytest.mark.parametrize("name", TABULAR_NAMES)
def test_tabular_fixture_split_is_the_documented_split(name):
    split = tabular_split(name)
    header, X_train, y_train = _read_csv(FIXTURES / "tabular" / f"{name}_train.csv")
    _, X_test, y_test = _read_csv(FIXTURES / "tabular" / f"{name}_test.csv")
    assert header == [*split.feature_names, "target"]
    assert np.array_equal(X_train, split.X_train) and np.array_equal(y_train, split.y_train)
    assert np.array_equal(X_test, split.X_test) and np.array_equal(y_test, split.y_test)
    meta = json.loads((FIXTURES / "tabular" / "split.json").read_text())[name]
    assert meta["test_index"] == split.test_index.tolist()
    net = load(FIXTURES / "tabular" / f"{name}.onnx")
    assert np.mean(net.predict(split.X_test) == split.y_test) == pytest.approx(
        meta["test_accuracy"]
    )
    assert meta["test_accuracy"] > 0.9
