"""The "neighbour" query model: rows between a node's real rows, valid, seeded, constrained."""

from __future__ import annotations

import numpy as np
import pytest

from nnrules.datasets import load_monk
from nnrules.exceptions import ParameterError
from nnrules.extract.engines.neighbours import NeighbourSampler
from nnrules.extract.engines.sampling import satisfies
from nnrules.extract.trepan import TrepanExtractor
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates.rules import Condition, MofN


def _mixed(n=300):
    rng = np.random.default_rng(0)
    X = np.column_stack([
        rng.integers(0, 17, n),          # narrow integer (discrete unit, ordered)
        rng.integers(0, 2, n),           # binary
        rng.integers(0, 3, n),           # categorical codes (unordered)
        rng.normal(size=n),              # continuous
    ]).astype(np.float64)
    schema = FeatureSchema((
        Feature("pixel", "integer", 0, 16), Feature("flag", "binary", 0, 1),
        Feature("colour", "categorical", 0, 2, categories=("blue", "green", "red")),
        Feature("z", "continuous", -5, 5),
    ))
    return X, schema


def test_queries_lie_between_real_rows_of_the_node_and_obey_the_schema():
    X, schema = _mixed()
    path = [(Condition(0, ">", 6.5), True), (Condition(3, "<=", 0.5), True)]
    Q = NeighbourSampler(schema, X, random_state=1).sample(500, path)
    assert Q.shape == (500, 4)
    schema.validate(Q)  # whole numbers, 0/1, known codes
    assert np.all(satisfies(path, Q))
    node = X[satisfies(path, X)]
    # Every value lies within the node's real rows' range (interpolation, not extrapolation).
    assert np.all(Q.min(axis=0) >= node.min(axis=0)) and np.all(Q.max(axis=0) <= node.max(axis=0))
    # Unordered features take an observed code, never an average of two codes.
    assert set(np.unique(Q[:, 2])) <= set(np.unique(node[:, 2]))
    # Queries are new rows, not copies: most differ from every real row.
    copies = (Q[:, None, :] == X[None, :, :]).all(axis=2).any(axis=1)
    assert copies.mean() < 0.5


def test_continuous_query_is_on_the_segment_between_two_real_rows():
    # Two clusters far apart: a segment between neighbours never crosses the gap.
    X = np.vstack([np.random.default_rng(0).normal(0, 0.1, size=(50, 2)),
                   np.random.default_rng(1).normal(10, 0.1, size=(50, 2))])
    schema = FeatureSchema((Feature("a", "continuous", -1, 11), Feature("b", "continuous", -1, 11)))
    Q = NeighbourSampler(schema, X, n_neighbours=3, random_state=0).sample(400)
    assert np.all((np.abs(Q) < 1) | (np.abs(Q - 10) < 1))


def test_onehot_groups_and_mofn_paths():
    d = load_monk(2)
    schema = FeatureSchema.infer(d.X_train, d.feature_names)
    firsts = tuple(Condition(schema.index(f"a{i}_1"), ">", 0.5) for i in range(1, 7))
    for holds in (True, False):
        path = [(MofN(2, firsts), holds)]
        Q = NeighbourSampler(schema, d.X_train, random_state=0).sample(300, path)
        assert Q.shape[0] > 250
        schema.validate(Q)  # exactly one hot column per group
        assert np.all(satisfies(path, Q))


def test_same_seed_same_rows_and_a_trepan_fit_is_deterministic():
    X, schema = _mixed()
    a = NeighbourSampler(schema, X, random_state=7).sample(200, [(Condition(1, ">", 0.5), True)])
    b = NeighbourSampler(schema, X, random_state=7).sample(200, [(Condition(1, ">", 0.5), True)])
    assert a.tobytes() == b.tobytes()
    black_box = lambda Z: ((Z[:, 0] > 8) & (Z[:, 3] > 0)).astype(int)  # noqa: E731
    fits = [TrepanExtractor(black_box, max_leaves=4, min_samples=300, sampler="neighbour",
                            random_state=0).fit(X).surrogate_ for _ in range(2)]
    assert fits[0].to_dict() == fits[1].to_dict()
    assert np.mean(fits[0].predict(X) == black_box(X)) > 0.95


def test_unknown_sampler_is_refused_with_the_choices():
    X, _ = _mixed()
    with pytest.raises(ParameterError, match="neighbour"):
        TrepanExtractor(lambda Z: (Z[:, 0] > 8).astype(int), sampler="nearest").fit(X)


def test_neighbour_distances_stay_small_in_memory_on_wide_rows():
    # 64 features (digits-like): one 512-row block of full (512, n, 64) differences would
    # take 1000 * 512 * 64 * 8 bytes = 262 MB; the docstring promises small memory.
    import tracemalloc

    X = np.random.default_rng(0).random((1000, 64))
    schema = FeatureSchema.infer(X, [f"p{j}" for j in range(64)])
    sampler = NeighbourSampler(schema, X, random_state=0)
    tracemalloc.start()
    try:
        Q = sampler.sample(512)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert Q.shape == (512, 64)
    assert peak < 64 * 2**20
