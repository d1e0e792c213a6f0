"""TREPAN's ``n_queries="auto"``: queries or none, chosen on rows held apart."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnrules.exceptions import ParameterError
from nnrules.extract.trepan import TrepanExtractor


def _on_diagonal(X):
    """1 only on the rows' own line x1 == x0 (and x0 > 0): generated rows off it are all 0."""
    return ((X[:, 0] > 0) & (np.abs(X[:, 0] - X[:, 1]) < 1e-9)).astype(int)


def _diagonal_rows():
    x0 = np.random.default_rng(0).normal(size=200)
    return np.c_[x0, x0, np.random.default_rng(1).normal(size=200)]


def _four_of_six(X):
    return (X[:, :6].sum(axis=1) >= 4).astype(int)


def test_auto_drops_queries_where_they_mislead():
    X = _diagonal_rows()
    ex = TrepanExtractor(_on_diagonal, max_leaves=4, n_queries="auto", random_state=0).fit(X)
    choice = ex.queries_choice_
    assert choice["chosen"] == "none" and choice["n_queries"] == 0
    assert choice["validation_rows"] == 50
    # The queries' tree learns the off-line answer (0); the real rows say x0 > 0.
    assert choice["validation_fidelity"]["none"] == 1.0
    assert choice["validation_fidelity"]["queries"] < 0.6
    # Every row where they differ favours "none": far beyond chance.
    assert choice["only_right"]["queries"] == 0 and choice["only_right"]["none"] >= 20
    assert choice["p_value"] == 0.5 ** choice["only_right"]["none"]
    assert ex.n_generated_ == 0
    assert np.array_equal(ex.surrogate_.predict(X), _on_diagonal(X))
    assert ex.surrogate_.notes["queries"] == choice
    details = ex.surrogate_.report_details(X, _on_diagonal(X))
    assert details["queries"].startswith("chose none (fidelity on 50 rows held apart")


@pytest.mark.parametrize("seed", [0, 1])
def test_auto_keeps_queries_where_rows_are_thin(seed):
    # 120 rows of 8 binary units: 90 are too few to learn "4 of the first 6" without queries.
    B = (np.random.default_rng(seed).random((120, 8)) < 0.4).astype(float)
    ex = TrepanExtractor(_four_of_six, max_leaves=4, n_queries="auto", random_state=0).fit(B)
    choice = ex.queries_choice_
    assert choice["only_right"]["queries"] > choice["only_right"]["none"]
    assert choice["chosen"] == "queries" and choice["n_queries"] is None
    assert choice["validation_fidelity"]["queries"] > choice["validation_fidelity"]["none"]
    assert ex.n_generated_ > 0


def test_auto_is_deterministic_and_combines_with_prune():
    X = _diagonal_rows()

    def fit():
        return TrepanExtractor(_on_diagonal, max_leaves=6, n_queries="auto", prune=0.01,
                               random_state=3).fit(X).surrogate_

    a, b = fit(), fit()
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)
    assert a.notes["queries"]["chosen"] == "none" and "pruned" in a.notes


def test_auto_with_too_few_rows_keeps_queries_and_says_why():
    X = _diagonal_rows()[:6]
    ex = TrepanExtractor(_on_diagonal, max_leaves=2, n_queries="auto", random_state=0).fit(X)
    assert ex.queries_choice_["chosen"] == "queries"
    assert "too few" in ex.queries_choice_["reason"]


def test_other_values_refused():
    X = _diagonal_rows()
    for bad in ("some", -1, 1.5, True):
        with pytest.raises(ParameterError, match="auto"):
            TrepanExtractor(_on_diagonal, n_queries=bad).fit(X)
    assert TrepanExtractor(_on_diagonal, max_leaves=2, n_queries=5,
                           random_state=0).fit(X).queries_choice_ is None


def _bytes_without_choice(surrogate) -> str:
    d = surrogate.to_dict()
    d.get("notes", {}).pop("queries", None)
    return json.dumps(d, sort_keys=True)


def test_the_chosen_tree_is_the_one_the_fixed_setting_gives():
    X = _diagonal_rows()
    auto = TrepanExtractor(_on_diagonal, max_leaves=6, n_queries="auto", random_state=5).fit(X)
    fixed = TrepanExtractor(_on_diagonal, max_leaves=6, n_queries=0, random_state=5).fit(X)
    assert _bytes_without_choice(auto.surrogate_) == _bytes_without_choice(fixed.surrogate_)
    B = (np.random.default_rng(0).random((120, 8)) < 0.4).astype(float)
    auto = TrepanExtractor(_four_of_six, max_leaves=4, n_queries="auto", random_state=5).fit(B)
    fixed = TrepanExtractor(_four_of_six, max_leaves=4, random_state=5).fit(B)
    assert auto.queries_choice_["chosen"] == "queries"
    assert _bytes_without_choice(auto.surrogate_) == _bytes_without_choice(fixed.surrogate_)


def test_auto_sign_test_on_many_disagreeing_rows_does_not_overflow(monkeypatch):
    # Over 1023 rows where the two trees differ: 2.0 ** n overflows a float.
    X = np.zeros((4400, 2))
    ex = TrepanExtractor(lambda Z: np.zeros(len(Z), dtype=int), n_queries="auto",
                         random_state=0)

    class Oracle:
        def predict_index(self, Z):
            return np.zeros(len(Z), dtype=int)

    class Tree:
        def __init__(self, queries):
            self.queries = queries

        def predict_index(self, Z):
            half = np.arange(len(Z)) < len(Z) // 2
            return np.where(half == self.queries, 0, 1)

        def complexity(self):
            return {"conditions": 1}

    ex.oracle_ = Oracle()
    monkeypatch.setattr(ex, "_grow", lambda X, rng: {"tree": Tree(ex._n_queries is None)})
    n_queries, choice = ex._choose_queries(X, np.random.default_rng(0))
    assert choice["only_right"] == {"queries": 550, "none": 550}
    assert choice["chosen"] == "queries" and n_queries is None
    assert 0.5 < choice["p_value"] < 0.6
