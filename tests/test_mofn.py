"""TREPAN's split search and stopping rule against brute force and known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import beta

from nnrules.extract.engines.mofn import best_split, entropy_gain
from nnrules.extract.trepan import TrepanExtractor


def _entropy(y, k):
    p = np.bincount(y, minlength=k) / y.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def _gain(mask, y, k):
    n = y.size
    return _entropy(y, k) - (mask.sum() * _entropy(y[mask], k)
                             + (~mask).sum() * _entropy(y[~mask], k)) / n


def test_entropy_gain_matches_the_definition():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    H = rng.random((90, 4)) < 0.4
    expected = [_gain(H[:, j], y, 3) for j in range(4)]
    assert np.allclose(entropy_gain(H, np.eye(3)[y]), expected)


def test_single_threshold_is_the_exact_best_over_every_cut():
    rng = np.random.default_rng(1)
    X = np.round(rng.normal(size=(80, 3)), 1)  # ties between rows on purpose
    y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(0, 0.5, 80) > 0).astype(int)
    y[X[:, 2] > 1.0] = 2
    split = best_split(X, y, 3, kinds=("continuous",) * 3, mofn=False)
    best = max(_gain(X[:, j] <= t, y, 3) for j in range(3)
               for t in (np.unique(X[:, j])[:-1] + np.unique(X[:, j])[1:]) / 2)
    assert split.m == 1 and len(split.literals) == 1
    j, op, t = split.literals[0]
    assert split.gain == pytest.approx(best)
    # The threshold sits midway between two observed values and gives the stated split.
    values = np.unique(X[:, j])
    assert np.any(np.isclose((values[:-1] + values[1:]) / 2, t))
    assert np.array_equal(split.mask, X[:, j] <= t if op == "<=" else X[:, j] > t)


@pytest.mark.parametrize(("m", "n"), [(2, 3), (3, 5)])
def test_beam_search_recovers_an_m_of_n_concept(m, n):
    rng = np.random.default_rng(2)
    X = (rng.random((600, 9)) < 0.5).astype(np.float64)
    y = (X[:, :n].sum(axis=1) >= m).astype(int)
    split = best_split(X, y, 2, kinds=("binary",) * 9, beam_width=5)
    assert split.m == m
    assert sorted(split.literals) == [(j, ">", 0.5) for j in range(n)]
    assert np.array_equal(split.mask, y == 1)
    assert split.gain == pytest.approx(_entropy(y, 2))
    # Without m-of-n tests the best split is one literal and separates less.
    single = best_split(X, y, 2, kinds=("binary",) * 9, mofn=False)
    assert len(single.literals) == 1 and single.gain < split.gain - 0.1


def test_no_split_when_nothing_separates():
    X = np.ones((20, 2))
    assert best_split(X, np.arange(20) % 2, 2, kinds=("continuous",) * 2) is None
    X = np.random.default_rng(3).normal(size=(20, 2))
    assert best_split(X, np.zeros(20, dtype=int), 2, kinds=("continuous",) * 2) is None


def _rare_class(n, n_minority):
    """Rows on a line; the network says 1 on the ``n_minority`` largest values of x0."""
    X = np.column_stack([np.arange(n, dtype=np.float64), np.zeros(n)])
    cut = n - n_minority - 0.5
    return X, lambda Z: (Z[:, 0] > cut).astype(int)


@pytest.mark.parametrize(("n", "n_minority", "expanded"), [(50, 1, True), (1000, 20, False)])
def test_stopping_rule_is_a_confidence_bound_not_the_observed_share(n, n_minority, expanded):
    """98% majority in both cases; only the larger sample proves >= 95% with 95% confidence."""
    X, black_box = _rare_class(n, n_minority)
    k = n - n_minority
    lower = beta.ppf(0.05, k, n - k + 1)
    assert (lower < 0.95) == expanded  # the premise: 0.92 at n = 50, 0.97 at n = 1000
    ex = TrepanExtractor(black_box, max_leaves=4, n_queries=0, min_samples=1, stop_error=0.05,
                         stop_confidence=0.95, random_state=0).fit(X)
    tree = ex.surrogate_
    assert tree.complexity()["leaves"] == (2 if expanded else 1)
    if expanded:
        assert np.array_equal(tree.predict(X), black_box(X))


def _nearly_single():
    """y = [x0 + 0.3 x1 > 0]: x0 > t alone gains 0.610 bits, the best 1-of-2 only 0.618."""
    X = np.random.default_rng(0).normal(size=(500, 5))
    return X, (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)


def test_a_larger_test_must_earn_its_conditions():
    X, y = _nearly_single()
    kinds = ("continuous",) * 5
    single = best_split(X, y, 2, kinds=kinds, mofn=False)
    # Without the rule the search takes the marginally better two-condition test ...
    raw = best_split(X, y, 2, kinds=kinds, beam_width=5, min_gain_ratio=0.0)
    assert len(raw.literals) == 2 and single.gain < raw.gain < 1.05 * single.gain
    # ... with it (the default 5% per added condition) the single condition is kept.
    earned = best_split(X, y, 2, kinds=kinds, beam_width=5, min_gain_ratio=0.05)
    assert (earned.m, earned.literals, earned.gain) == (1, single.literals, single.gain)
    # The rule compares sizes by a factor per condition: 1.3% more gain pays at 1%, not at 2%.
    assert len(best_split(X, y, 2, kinds=kinds, beam_width=5, min_gain_ratio=0.01).literals) == 2
    assert len(best_split(X, y, 2, kinds=kinds, beam_width=5, min_gain_ratio=0.02).literals) == 1


@pytest.mark.parametrize("ratio", [0.05, 0.5])
def test_a_needed_m_of_n_test_earns_its_conditions(ratio):
    """2-of-3 and 3-of-5 concepts separate perfectly; a single literal gains far less."""
    rng = np.random.default_rng(2)
    X = (rng.random((600, 9)) < 0.5).astype(np.float64)
    for m, n in ((2, 3), (3, 5)):
        y = (X[:, :n].sum(axis=1) >= m).astype(int)
        split = best_split(X, y, 2, kinds=("binary",) * 9, beam_width=5, min_gain_ratio=ratio)
        assert split.m == m and sorted(split.literals) == [(j, ">", 0.5) for j in range(n)]
