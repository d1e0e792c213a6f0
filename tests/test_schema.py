"""FeatureSchema: inference, validation, model input, condition text, JSON round trips."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnrules.exceptions import FormatError, SchemaError
from nnrules.schema import Feature, FeatureSchema, format_number


def monk_like(n: int = 40, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    a1 = np.eye(3)[rng.integers(0, 3, n)]
    color = np.eye(2)[rng.integers(0, 2, n)]
    smoker = rng.integers(0, 2, n)[:, None].astype(float)
    age = rng.integers(18, 80, n)[:, None].astype(float)
    w = rng.normal(size=(n, 1))
    X = np.hstack([a1, color, smoker, age, w])
    names = ["a1_1", "a1_2", "a1_3", "color=red", "color=blue", "smoker", "age", "weight"]
    return X, names


@pytest.fixture
def schema() -> FeatureSchema:
    """The inferred schema with 'smoker' declared binary, as a given schema would."""
    X, names = monk_like()
    inferred = FeatureSchema.infer(X, names)
    features = list(inferred.features)
    features[5] = dataclasses.replace(features[5], kind="binary")
    return FeatureSchema(tuple(features))


def test_infer_kinds_groups_and_bounds():
    X, names = monk_like()
    schema = FeatureSchema.infer(X, names)
    kinds = [f.kind for f in schema.features]
    # A 0/1 column alone is a guess: inferred "integer"; only a given schema says "binary".
    assert kinds == ["onehot"] * 5 + ["integer", "integer", "continuous"]
    assert schema.groups == {"a1": (0, 1, 2), "color": (3, 4)}
    assert [f.category for f in schema.features[:5]] == ["1", "2", "3", "red", "blue"]
    assert schema.features[6].lower == X[:, 6].min()
    assert schema.features[7].upper == X[:, 7].max()
    assert schema.index("age") == 6 and schema.n_features == 8
    assert schema.names[0] == "a1_1"


def test_infer_no_group_when_two_hot_or_lone_column():
    X = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]], float)
    s = FeatureSchema.infer(X, ["c_a", "c_b", "d_x"])
    assert s.groups == {}
    assert [f.kind for f in s.features] == ["integer"] * 3


def test_infer_refuses_bad_input():
    with pytest.raises(SchemaError, match="no rows"):
        FeatureSchema.infer(np.empty((0, 2)), ["a", "b"])
    with pytest.raises(SchemaError, match="NaN"):
        FeatureSchema.infer(np.array([[np.nan]]), ["a"])
    with pytest.raises(SchemaError, match="does not match 3 names"):
        FeatureSchema.infer(np.zeros((2, 2)), ["a", "b", "c"])


def test_validate_accepts_own_data(schema):
    X, _ = monk_like()
    schema.validate(X)


def _two_hot(X):
    X[3, :3] = [1, 1, 0]


def _none_hot(X):
    X[3, :3] = 0


def _half_age(X):
    X[3, 6] = 30.5


def _smoker_two(X):
    X[3, 5] = 2.0


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (_two_hot, r"group 'a1'.*row 3 has 2 \(1 rows affected\)"),
        (_none_hot, r"group 'a1'.*row 3 has 0"),
        (_half_age, r"'age' \(integer\) must be a whole number; row 3 has 30.5"),
        (_smoker_two, r"'smoker' \(binary\) must be 0 or 1; row 3 has 2.0"),
    ],
)
def test_validate_errors_name_row_and_feature(schema, corrupt, match):
    X, _ = monk_like()
    corrupt(X)
    with pytest.raises(SchemaError, match=match):
        schema.validate(X)


def test_validate_categorical_codes_and_shape():
    s = FeatureSchema((Feature("wc", "categorical", 0, 2, categories=("a", "b", "c")),))
    s.validate(np.array([[0.0], [2.0]]))
    with pytest.raises(SchemaError, match=r"code in 0..2.*row 1 has 3.0"):
        s.validate(np.array([[0.0], [3.0]]))
    with pytest.raises(SchemaError, match=r"shape \(2, 2\)"):
        s.validate(np.zeros((2, 2)))


def test_describe_condition_cases(schema):
    d = schema.describe_condition
    assert d(0, ">", 0.5) == "a1 == 1"
    assert d(3, "<=", 0.5) == "color != red"
    assert d(4, "==", 1) == "color == blue"
    assert d(4, "!=", 1) == "color != blue"
    assert d(5, ">", 0.5) == "smoker == 1"
    assert d(5, "<=", 0.5) == "smoker == 0"
    assert d(6, ">", 37.5) == "age > 37"
    assert d(6, "<=", 37.5) == "age <= 37"
    assert d(6, "==", 40) == "age == 40"
    assert d(7, "<=", 0.25) == "weight <= 0.25"
    assert d(7, ">", 1 / 3) == "weight > 0.333333"
    with pytest.raises(SchemaError, match="Unknown comparison '<'"):
        d(0, "<", 1)
    with pytest.raises(SchemaError, match="out of range"):
        d(8, "<=", 1)


def test_describe_condition_categorical():
    cats = ("Gov", "Private", "Self-emp")
    s = FeatureSchema((Feature("workclass", "categorical", 0, 2, categories=cats),))
    assert s.describe_condition(0, "==", 1) == "workclass == 'Private'"
    assert s.describe_condition(0, "!=", 0) == "workclass != 'Gov'"
    assert s.describe_condition(0, "<=", 0.5) == "workclass == 'Gov'"
    assert s.describe_condition(0, ">", 0.5) == "workclass in {'Private', 'Self-emp'}"
    assert s.describe_condition(0, "==", 1.5) == "workclass == 1.5"


def test_format_number():
    assert format_number(37.0) == "37"
    assert format_number(-0.125) == "-0.125"
    assert format_number(1e-7) == "1e-07"
    assert format_number(123456.789012) == "123457"
    assert float(format_number(0.1)) == 0.1


def test_to_model_input():
    X, names = monk_like(5)
    plain = FeatureSchema.infer(X, names)
    assert plain.to_model_input(X) is X
    s = FeatureSchema(
        (
            Feature("age", "integer", 0, 99),
            Feature("wc", "categorical", 0, 1, categories=("Gov", "Private")),
        )
    )
    feed = s.to_model_input(np.array([[30.0, 1.0], [40.0, 0.0]]))
    assert list(feed) == ["age", "wc"]
    assert feed["age"].dtype == np.float32 and feed["age"].shape == (2, 1)
    assert feed["wc"][:, 0].tolist() == ["Private", "Gov"]
    named = FeatureSchema(s.features, input_names=("in_age", "in_wc"), input_dtypes=("int64", "str"))
    feed = named.to_model_input(np.array([[30.0, 1.0]]))
    assert feed["in_age"].dtype == np.int64 and feed["in_wc"][0, 0] == "Private"
    with pytest.raises(SchemaError, match="code 2.0"):
        s.to_model_input(np.array([[30.0, 2.0]]))


def test_to_text_lists_every_feature(schema):
    text = schema.to_text()
    lines = text.splitlines()
    assert len(lines) == schema.n_features + 1
    assert "color = red" in text and "continuous" in text


def test_feature_and_schema_refuse_malformed():
    with pytest.raises(SchemaError, match="kind 'real'"):
        Feature("x", "real", 0, 1)
    with pytest.raises(SchemaError, match="bounds"):
        Feature("x", "continuous", 2, 1)
    with pytest.raises(SchemaError, match="needs both 'group' and 'category'"):
        Feature("x", "onehot", 0, 1)
    with pytest.raises(SchemaError, match="non-empty 'categories'"):
        Feature("x", "categorical", 0, 1)
    f = Feature("x", "continuous", 0, 1)
    with pytest.raises(SchemaError, match="unique; repeated: \\['x'\\]"):
        FeatureSchema((f, f))
    with pytest.raises(SchemaError, match="single column"):
        FeatureSchema((Feature("c_a", "onehot", 0, 1, group="c", category="a"),))
    with pytest.raises(SchemaError, match="No feature named 'y'"):
        FeatureSchema((f,)).index("y")


def test_from_dict_errors(schema):
    d = schema.to_dict()
    with pytest.raises(FormatError, match="version 2"):
        FeatureSchema.from_dict({**d, "version": 2})
    with pytest.raises(FormatError, match="Expected format"):
        FeatureSchema.from_dict({**d, "format": "nnrules/rules"})
    with pytest.raises(SchemaError, match="unknown keys \\['lowr'\\]"):
        FeatureSchema.from_dict({"features": [{"name": "a", "kind": "integer", "lowr": 0}]})
    unbounded = FeatureSchema.from_dict({"features": [{"name": "a", "kind": "continuous"}]})
    assert unbounded.features[0].lower == -math.inf
    assert unbounded.to_dict()["features"][0]["upper"] is None


# -- properties ---------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
names_st = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)


@st.composite
def schemas(draw) -> FeatureSchema:
    n = draw(st.integers(1, 6))
    names = draw(st.lists(names_st, min_size=n + 2, max_size=n + 2, unique=True))
    feats = []
    for i in range(n):
        kind = draw(st.sampled_from(["continuous", "integer", "binary", "categorical"]))
        a, b = sorted([draw(finite), draw(finite)])
        cats = None
        if kind == "categorical":
            cats = tuple(draw(st.lists(names_st, min_size=1, max_size=4, unique=True)))
        feats.append(Feature(names[i], kind, a, b, categories=cats))
    if draw(st.booleans()):
        g = draw(names_st)
        for j, cat in enumerate(("x", "y")):
            feats.append(Feature(names[n + j], "onehot", 0.0, 1.0, group=g, category=cat))
    input_names = None
    if draw(st.booleans()):
        input_names = tuple(f"in{i}" for i in range(len(feats)))
    return FeatureSchema(tuple(feats), input_names=input_names)


@settings(max_examples=100, deadline=None)
@given(schemas())
def test_to_dict_from_dict_round_trip_exactly(s):
    text = json.dumps(s.to_dict(), allow_nan=False, sort_keys=True)
    back = FeatureSchema.from_dict(json.loads(text))
    assert back == s
    assert json.dumps(back.to_dict(), allow_nan=False, sort_keys=True) == text


@settings(max_examples=100, deadline=None)
@given(schemas(), st.data())
def test_describe_condition_never_crashes(s, data):
    i = data.draw(st.integers(0, s.n_features - 1))
    op = data.draw(st.sampled_from(["<=", ">", "==", "!="]))
    value = data.draw(st.floats(allow_nan=False, width=64))
    text = s.describe_condition(i, op, value)
    assert isinstance(text, str) and text


def test_outside_domain_row_blocks_equal_the_column_loop(monkeypatch):
    # A row-major matrix is checked a block of rows at a time (every column at once); it must
    # count exactly what the column-at-a-time loop counts, for every kind, NaN and inf.
    import nnrules.schema_checks as checks

    monkeypatch.setattr(checks, "_BLOCK", 64)
    schema = FeatureSchema((
        Feature("c", "continuous", -1.0, 1.0), Feature("i", "integer", 0.0, 5.0),
        Feature("b", "binary", 0.0, 1.0),
        Feature("g_x", "onehot", 0.0, 1.0, group="g", category="x"),
        Feature("g_y", "onehot", 0.0, 0.0, group="g", category="y"),  # never hot in training
        Feature("k", "categorical", 0.0, 2.0, categories=("p", "q", "r")),
        Feature("u", "continuous", -math.inf, 3.0)))
    rng = np.random.default_rng(5)
    n = 1000
    halves = (rng.random(n) < .05) * .5
    X = np.column_stack([rng.uniform(-1.2, 1.2, n), rng.integers(-1, 7, n) + halves,
                         rng.choice([0.0, 1.0, 0.5, 2.0], n, p=[.45, .45, .05, .05]),
                         np.zeros(n), np.zeros(n), rng.integers(0, 4, n), rng.normal(0, 2, n)])
    hot = rng.integers(0, 2, n)
    X[np.arange(n), 3 + hot] = 1.0
    X[rng.integers(0, n, 30), 4] = 1.0                       # both hot: the group's count
    X[rng.integers(0, n, 20), 3] = 0.3                       # not 0/1
    X[5, 0], X[6, 1], X[7, 6], X[8, 2] = np.nan, np.inf, -np.inf, np.nan
    C = np.ascontiguousarray(X)
    assert C.flags.c_contiguous and C.shape[0] > checks._BLOCK
    rows, by_rows = schema.outside_domain(C)
    cols, by_cols = checks._outside_columns(schema, np.asfortranarray(X))
    for group, idx in schema._groups.items():  # what outside_domain adds to the column loop
        bad = X[:, list(idx)].sum(axis=1) != 1
        by_cols[group] = int(bad.sum())
        cols |= bad
    np.testing.assert_array_equal(rows, cols)
    # g_y, never hot in training, counts where it is hot (a category the extraction never saw).
    assert by_rows == by_cols and set(by_rows) == {"c", "i", "b", "g_x", "g_y", "k", "u", "g"}
    assert by_rows["g_y"] == int((X[:, 4] == 1).sum())
