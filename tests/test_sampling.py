"""Query generation: valid rows, constraints met (m-of-n too), seeded, and it helps, not hurts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from nnrules.datasets import load_monk, tabular_split
from nnrules.exceptions import DataError, ParameterError, SchemaError
from nnrules.extract.engines.sampling import METHODS, QuerySampler, sample_queries, satisfies
from nnrules.io.model import load
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.rules import Condition, MofN

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def monk2():
    d = load_monk(2)
    return d, FeatureSchema.infer(d.X_train, d.feature_names)


@pytest.fixture(scope="module")
def cancer():
    s = tabular_split("breast_cancer")
    return s, FeatureSchema.infer(s.X_train, s.feature_names)


def _firsts(schema):
    return tuple(Condition(schema.index(f"a{i}_1"), ">", 0.5) for i in range(1, 7))


@pytest.mark.parametrize("method", METHODS)
def test_onehot_queries_have_one_hot_column_per_group(monk2, method):
    d, schema = monk2
    Q = QuerySampler(schema, d.X_train, method=method, random_state=1).sample(3000)
    assert Q.shape == (3000, 17)
    schema.validate(Q)  # exactly one hot column per group, all 0/1
    for idx in schema.groups.values():
        assert np.all(Q[:, list(idx)].sum(axis=1) == 1)


@pytest.mark.parametrize("method", METHODS)
def test_mofn_constraints_hold_and_fail_as_asked(monk2, method):
    d, schema = monk2
    firsts = _firsts(schema)
    path = [(MofN(2, firsts), True), (MofN(3, firsts), False),
            (Condition(schema.index("a5_4"), ">", 0.5), False)]
    Q = QuerySampler(schema, d.X_train, method=method, random_state=0).sample(1000, path)
    assert Q.shape[0] == 1000
    count = Q[:, [c.feature for c in firsts]].sum(axis=1)
    assert np.all(count == 2)
    assert np.all(Q[:, schema.index("a5_4")] == 0)
    assert satisfies(path, Q).all()
    # "at least 5 of" failing and holding at once is impossible: no rows, no error.
    bad = [(MofN(5, firsts), True), (MofN(5, firsts), False)]
    assert QuerySampler(schema, d.X_train, random_state=0).sample(10, bad).shape == (0, 17)


def test_contradictory_box_gives_no_rows(monk2):
    d, schema = monk2
    path = [(Condition(schema.index("a1_1"), ">", 0.5), True),
            (Condition(schema.index("a1_2"), ">", 0.5), True)]
    assert sample_queries(schema, d.X_train, 50, constraints=path).shape == (0, 17)


@pytest.mark.parametrize("method", METHODS)
def test_continuous_queries_stay_in_bounds_and_obey_thresholds(cancer, method):
    s, schema = cancer
    path = [(Condition(0, "<=", 14.0), True), (Condition(27, ">", 0.1), True),
            (MofN(2, (Condition(1, ">", 20.0), Condition(2, ">", 90.0),
                      Condition(5, "<=", 0.1))), True)]
    Q = QuerySampler(schema, s.X_train, method=method, random_state=2).sample(500, path)
    assert Q.shape == (500, 30)
    assert satisfies(path, Q).all()
    assert np.all(Q >= s.X_train.min(axis=0)) and np.all(Q <= s.X_train.max(axis=0))
    # Kernel smoothing: new values, not only copies of real ones.
    assert not np.isin(Q[:, 3], s.X_train[:, 3]).all()


def test_integer_binary_and_categorical_features_stay_whole():
    rng = np.random.default_rng(0)
    X = np.column_stack([
        rng.integers(0, 5000, 300),     # wide integer: rounded continuous sampling
        rng.integers(0, 17, 300),       # narrow integer: discrete
        rng.integers(0, 2, 300),        # binary
        rng.integers(0, 3, 300),        # categorical codes
        rng.normal(size=300),
    ]).astype(np.float64)
    schema = FeatureSchema((
        Feature("big", "integer", 0, 5000), Feature("small", "integer", 0, 16),
        Feature("flag", "binary", 0, 1), Feature("colour", "categorical", 0, 2,
                                                 categories=("blue", "green", "red")),
        Feature("z", "continuous", -5, 5),
    ))
    path = [(Condition(0, ">", 100.5), True), (Condition(1, "<=", 7.5), True),
            (Condition(3, "==", 2.0), False)]
    for method in METHODS:
        Q = QuerySampler(schema, X, method=method, random_state=3).sample(400, path)
        assert Q.shape == (400, 5)
        schema.validate(Q)
        assert np.all(Q[:, :4] == np.round(Q[:, :4]))
        assert np.all((Q[:, 0] >= 101) & (Q[:, 1] <= 7) & (Q[:, 3] != 2))
        assert np.all((Q[:, 0] <= X[:, 0].max()) & (Q[:, 4] >= X[:, 4].min()))


def test_same_seed_same_bytes_and_generator_accepted(cancer):
    s, schema = cancer
    path = [(Condition(0, "<=", 14.0), True)]
    a = QuerySampler(schema, s.X_train, random_state=7).sample(200, path)
    b = QuerySampler(schema, s.X_train, random_state=7).sample(200, path)
    c = QuerySampler(schema, s.X_train, random_state=8).sample(200, path)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    g = sample_queries(schema, s.X_train, 200, random_state=np.random.default_rng(7))
    h = sample_queries(schema, s.X_train, 200, random_state=np.random.default_rng(7))
    assert g.tobytes() == h.tobytes() and g.shape == (200, 30)


def test_bad_input_is_refused(monk2):
    d, schema = monk2
    X = d.X_train.copy()
    X[0, 1] = 1.0  # a1_1 and a1_2 both hot
    with pytest.raises(SchemaError, match="exactly one column"):
        QuerySampler(schema, X)
    with pytest.raises(ParameterError, match="Unknown query method"):
        QuerySampler(schema, d.X_train, method="uniform")
    with pytest.raises(ParameterError, match="p_change"):
        QuerySampler(schema, d.X_train, p_change=1.5)
    with pytest.raises(DataError, match="NaN"):
        QuerySampler(schema, np.full((3, 17), np.nan))
    with pytest.raises(DataError, match="non-empty"):
        QuerySampler(schema, np.empty((0, 17)))
    sampler = QuerySampler(schema, d.X_train)
    with pytest.raises(ParameterError, match="number of queries"):
        sampler.sample(-1)
    with pytest.raises(ParameterError, match="features 0..16"):
        sampler.sample(5, [(Condition(40, ">", 0.5), True)])


def test_queries_help_cart_on_a_monk_network_where_naive_ones_hurt():
    """20,000 network-labelled queries: column-wise draws lower CART's fidelity, ours do not."""
    d = load_monk(1)
    net = load(FIXTURES / "monks" / "monk1.onnx")
    schema = FeatureSchema.infer(d.X_train, d.feature_names)
    reference = net.predict(d.X_test)

    def fidelity(rows):
        cart = DecisionTreeClassifier(max_leaf_nodes=16, random_state=0)
        cart.fit(rows, net.predict(rows))
        return np.mean(cart.predict(d.X_test) == reference)

    base = fidelity(d.X_train)
    rng = np.random.default_rng(0)
    naive = (rng.random((20000, 17)) < d.X_train.mean(axis=0)).astype(np.float64)
    assert fidelity(np.vstack([d.X_train, naive])) < base - 0.05
    for method in METHODS:
        Q = sample_queries(schema, d.X_train, 20000, random_state=0, method=method)
        assert fidelity(np.vstack([d.X_train, Q])) > base
