"""TREPAN's ``prune_also``: a second grown tree's pruning path joins the first in one frontier."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnrules.exceptions import ParameterError
from nnrules.extract.engines.prune_pool import QUERY_SHARE, _rows, common_rows
from nnrules.extract.trepan import TrepanExtractor


def _black_box(X):
    votes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3) + (X[:, 2] > -0.2)
    return ((votes >= 2) ^ ((X[:, 3] > 1.2) & (X[:, 4] > 1.0))).astype(int)


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).normal(size=(400, 6))


def _fit(data, **kw):
    return TrepanExtractor(_black_box, max_leaves=8, min_samples=300, max_literals=10**6,
                           random_state=0, **kw).fit(data)


@pytest.fixture(scope="module", params=["no_queries", "single"])
def pooled(request, data):
    return _fit(data, prune_also=request.param)


def test_pooled_frontier_dominates_and_claims_are_recomputed(pooled, data):
    """Literals strictly fall, fidelity never rises, and each claimed fidelity is the tree's
    weighted agreement on the common rows (real rows plus the queries at their share)."""
    path = pooled.pruning_path_
    lits = [p.tree.complexity()["conditions"] for p in path]
    fids = [p.fidelity for p in path]
    assert all(a > b for a, b in zip(lits, lits[1:]))
    assert all(a >= b - 1e-12 for a, b in zip(fids, fids[1:]))
    assert lits[-1] == 0
    rows = pooled.pruning_["pruning_rows"]
    assert rows["real"] == data.shape[0]


def test_pooled_path_claims_recomputed_on_the_common_rows(data):
    """Two growths (one with queries, one without) pooled: every claimed fidelity is the tree's
    weighted agreement on the real rows plus the queries at ``QUERY_SHARE``; the frontier
    dominates every tree of both paths; the first grown tree is unchanged by ``prune_also``."""
    from nnrules.extract.engines.prune_pool import pooled_path
    from nnrules.extract.engines.prune_tree import pruning_path

    base = _fit(data)
    assert base.surrogate_.to_text() == _fit(data, prune_also="no_queries").surrogate_.to_text()
    Q = np.random.default_rng(1).normal(size=(200, 6))
    labels = np.asarray(_black_box(data))
    a = {"tree": base.surrogate_, "X": data, "labels": labels, "queries": Q,
         "query_labels": np.asarray(_black_box(Q)), "query_weights": np.full(200, 2.0)}
    plain = TrepanExtractor(_black_box, max_leaves=8, n_queries=0, random_state=0).fit(data)
    b = {"tree": plain.surrogate_, "X": data, "labels": labels, "queries": np.empty((0, 6)),
         "query_labels": np.empty(0, np.int64), "query_weights": None}
    R, L, w = common_rows([a, b])
    assert R.shape[0] == 600 and np.all(w[:400] == 1) and np.allclose(w[400:], 2 * QUERY_SHARE)
    path, _ = pooled_path([a, b])
    for p in path:
        assert p.fidelity == pytest.approx(float(w @ (p.tree.predict_index(R) == L)) / w.sum())
    sizes = [(p.tree.complexity()["conditions"], p.fidelity) for p in path]
    for g in (a, b):
        rows, row_labels, weights = _rows(g)  # the growth's own pruning rows
        own = pruning_path(g["tree"], rows, row_labels, weights=weights, n_real=400,
                           cost="both")
        for p in own:
            n = p.tree.complexity()["conditions"]
            f = float(w @ (p.tree.predict_index(R) == L)) / w.sum()
            assert any(m <= n and g_f >= f - 1e-12 for m, g_f in sizes)


def test_same_seed_same_bytes(data):
    a = _fit(data, prune_also="single")
    b = _fit(data, prune_also="single")
    assert a.surrogate_.to_text() == b.surrogate_.to_text()
    assert [p.fidelity for p in a.pruning_path_] == [p.fidelity for p in b.pruning_path_]


def test_prune_also_refuses_unknown_values(data):
    with pytest.raises(ParameterError, match="prune_also"):
        _fit(data, prune_also="cart")


@pytest.mark.parametrize("first, also", [({"n_queries": 0}, "no_queries"),
                                         ({"mofn": False}, "single")])
def test_no_second_tree_when_it_would_be_grown_as_the_first(data, first, also):
    """A query-free (or single-condition) first tree leaves nothing for the matching
    ``prune_also`` to add: the result is byte-identical to pruning the first tree alone."""
    one = _fit(data, prune_also=None, **first)
    two = _fit(data, prune_also=also, **first)
    assert json.dumps(two.surrogate_.to_dict(), sort_keys=True) == json.dumps(
        one.surrogate_.to_dict(), sort_keys=True)
    assert two.pruning_["pruning_rows"] == one.pruning_["pruning_rows"]
