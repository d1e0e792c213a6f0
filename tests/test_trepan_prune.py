"""TREPAN's pruning path: literals fall, fidelity on the pruning rows never rises, bounds hold."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nnrules.exceptions import ParameterError
from nnrules.extract.engines.prune_tree import pruning_path, select_max_literals, tree_literals
from nnrules.extract.trepan import VALIDATION_QUERIES, TrepanExtractor
from nnrules.surrogates.rules import Condition, MofN
from nnrules.surrogates.tree import TreeSurrogate


def _black_box(X):
    """Two of three thresholds, except a corner: an m-of-n concept with an exception."""
    votes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3) + (X[:, 2] > -0.2)
    return ((votes >= 2) ^ ((X[:, 3] > 1.2) & (X[:, 4] > 1.0))).astype(int)


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).normal(size=(500, 6))


@pytest.fixture(scope="module")
def fitted(data):
    ex = TrepanExtractor(_black_box, max_leaves=10, min_samples=400, max_literals=10**6,
                         random_state=0).fit(data)
    return ex


def test_path_literals_fall_and_fidelity_never_rises(fitted):
    path = fitted.pruning_path_  # the default cost "both": ordered by the rule view's literals
    assert len(path) >= 3
    lits = [p.tree.complexity()["conditions"] for p in path]
    fids = [p.fidelity for p in path]
    assert all(a > b for a, b in itertools.pairwise(lits))
    assert all(a >= b for a, b in itertools.pairwise(fids))
    assert path[-1].literals == 0 and path[-1].tree.leaves().size == 1
    for p in path:  # the recorded count is the count of the tree held
        assert tree_literals(p.tree) == p.literals


def test_path_fidelity_is_the_agreement_on_the_pruning_rows():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 5))
    y = _black_box(np.column_stack([X, X[:, :1]]))
    m = MofN(2, (Condition(0, ">", 0.0), Condition(1, ">", 0.3), Condition(2, ">", -0.2)))
    c = Condition(3, ">", 1.2)
    tree = TreeSurrogate([m, c, None, None, c, None, None], [1, 2, -1, -1, 5, -1, -1],
                         [4, 3, -1, -1, 6, -1, -1],
                         [[.5, .5], [.2, .8], [1, 0], [0, 1], [.8, .2], [0, 1], [1, 0]])
    path = pruning_path(tree, X, y)
    for p in path:
        assert p.fidelity == pytest.approx(np.mean(p.tree.predict_index(X) == y), abs=1e-12)
    # A start tree a smaller, at least as faithful tree dominates is left off the path: here
    # the corner test (x3 > 1.2 without x4 > 1) costs more rows than it wins.
    start = np.mean(tree.predict_index(X) == y)
    assert path[0].literals <= 5 and path[0].fidelity >= start and path[-1].literals == 0


def test_max_literals_bounds_the_rule_view(data, fitted):
    full = fitted.surrogate_.complexity()["conditions"]
    assert full > 4
    for k in (0, 1, 3, full // 2):
        ex = TrepanExtractor(_black_box, max_leaves=10, min_samples=400, max_literals=k,
                             random_state=0).fit(data)
        s = ex.surrogate_
        assert s.complexity()["conditions"] <= k
        assert ex.pruning_["literals"][1] == s.complexity()["conditions"]
        assert s.notes["pruned"]["max_literals"] == k
    # Within the bound already: the tree is left as grown.
    assert fitted.pruning_["literals"] == [full, full]
    # select_max_literals returns the first point within a bound on a non-monotone count too.
    counts = {id(p.tree): v for p, v in zip(fitted.pruning_path_, [9, 3, 7, 2, 8, 1, 0] + [0] * 99,
                                            strict=False)}
    i = select_max_literals(fitted.pruning_path_, 2, count=lambda t: counts[id(t)])
    assert counts[id(fitted.pruning_path_[i].tree)] <= 2
    assert counts[id(fitted.pruning_path_[i - 1].tree)] > 2


def test_prune_chooses_on_held_apart_rows_and_never_adds_literals(data):
    grown = TrepanExtractor(_black_box, max_leaves=10, min_samples=400, prune=1e-9,
                            random_state=0).fit(data)
    info = grown.pruning_
    chosen = info["validation"]
    assert chosen["validation_rows"] == 125 * (1 + VALIDATION_QUERIES)
    full_val, kept_val = chosen["validation_fidelity"]
    assert kept_val >= full_val - 1e-9
    # The tree grown on all rows gives up no more fidelity on its pruning rows than the tree
    # grown on 75% gave up for the choice, and never writes more literals than before.
    before, after = info["path_fidelity"]
    assert before - after <= info["max_fidelity_loss"] + 1e-12
    assert info["literals"][1] <= info["literals"][0]
    assert grown.surrogate_.complexity()["conditions"] == info["literals"][1]
    loose = TrepanExtractor(_black_box, max_leaves=10, min_samples=400, prune=0.2,
                            random_state=0).fit(data)
    assert loose.pruning_["max_fidelity_loss"] >= info["max_fidelity_loss"]
    assert loose.pruning_["literals"][1] <= info["literals"][1]


def test_same_seed_same_bytes(data):
    def run():
        ex = TrepanExtractor(_black_box, max_leaves=8, min_samples=300, prune=0.02,
                             random_state=3).fit(data)
        return json.dumps(ex.surrogate_.to_dict(), sort_keys=True)

    assert run() == run()


@pytest.mark.parametrize("params", [{"prune": 1.0}, {"prune": -0.01}, {"prune": "yes"},
                                    {"max_literals": -1}, {"max_literals": 2.5},
                                    {"max_literals": True}, {"prune_cost": "leaves"}])
def test_bad_pruning_parameters_are_parameter_errors(data, params):
    name = next(iter(params))
    with pytest.raises(ParameterError, match=name):
        TrepanExtractor(_black_box, **params).fit(data)


def _four_classes(X):
    votes = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3) + (X[:, 2] > -0.2)
    return np.where(votes >= 2, np.where(X[:, 4] > 0, 2, 3), np.where(X[:, 3] > 0.5, 1, 0))


def test_prune_cost_sets_the_path_and_rules_cost_bounds_the_rule_view(data):
    """Without queries the pruning rows are the real rows: the extractor's path is the one
    ``pruning_path`` makes from the grown tree with the cost asked for."""
    labels = _four_classes(data)
    grown = TrepanExtractor(_four_classes, max_leaves=12, n_queries=0,
                            random_state=0).fit(data).surrogate_
    paths = {}
    for cost in ("tree", "rules", "both"):
        ex = TrepanExtractor(_four_classes, max_leaves=12, n_queries=0, max_literals=10**6,
                             prune_cost=cost, random_state=0).fit(data)
        direct = pruning_path(grown, data, labels, n_real=data.shape[0], cost=cost)
        paths[cost] = [(p.literals, p.fidelity) for p in ex.pruning_path_]
        assert paths[cost] == [(p.literals, p.fidelity) for p in direct]
        for k in (2, 5, 9, 11):
            small = TrepanExtractor(_four_classes, max_leaves=12, n_queries=0, max_literals=k,
                                    prune_cost=cost, random_state=0).fit(data).surrogate_
            assert small.complexity()["conditions"] <= k
    assert paths["tree"] != paths["rules"]


def test_pruning_path_refuses_bad_inputs():
    tree = TreeSurrogate([None], [-1], [-1], [[1.0, 0.0]])
    with pytest.raises(ParameterError, match="one label per row"):
        pruning_path(tree, np.zeros((3, 1)), np.zeros(2, dtype=int))
    reg = TreeSurrogate([None], [-1], [-1], [[1.0]], task="regression")
    with pytest.raises(ParameterError, match="regression"):
        pruning_path(reg, np.zeros((3, 1)), np.zeros(3, dtype=int))


def test_pruned_monk_trees_are_the_concepts():
    """MONK-1 stays the concept; pruning MONK-3 drops the network's two-row exception only."""
    from pathlib import Path

    from nnrules.datasets import load_monk, monk_attributes, monk_concept
    from nnrules.io.model import load

    A = monk_attributes()
    fixtures = Path(__file__).parent / "fixtures" / "monks"
    rules = {1: ["IF a5 == 1 THEN 1", "IF a1 == 3 and a2 == 3 THEN 1",
                 "IF a1 == 1 and a2 == 1 THEN 1", "IF a1 == 2 and a2 == 2 THEN 1", "DEFAULT 0"],
             3: ["IF a4 == 1 and a5 == 3 THEN 1", "IF a2 != 3 and a5 != 4 THEN 1", "DEFAULT 0"]}
    for problem in (1, 3):
        d = load_monk(problem)
        net = load(fixtures / f"monk{problem}.onnx")
        tree = TrepanExtractor(net, prune=0.01, random_state=0).fit(
            d.X_train, feature_names=d.feature_names).surrogate_
        assert tree.to_rules().to_text().splitlines() == rules[problem]
        assert np.array_equal(tree.predict(d.X_test), monk_concept(problem, A))


def test_pruning_is_in_the_saved_tree_and_its_report(data, tmp_path):
    ex = TrepanExtractor(_black_box, max_leaves=10, min_samples=400, max_literals=3,
                         random_state=0).fit(data)
    again = TreeSurrogate.from_dict(json.loads(json.dumps(ex.surrogate_.to_dict())))
    assert again.notes["pruned"] == ex.pruning_
    assert np.array_equal(again.predict(data), ex.surrogate_.predict(data))
    detail = again.report_details(data, None)["pruned"]
    lb, la = ex.pruning_["literals"]
    assert detail.startswith(f"literals {lb} -> {la},") and la <= 3 < lb


def test_both_costs_merge_into_one_frontier_of_the_rule_view(data):
    """``cost="both"``: every tree of the four paths is matched by a frontier tree with at most
    its rule-view literals and at least its fidelity; along the frontier the rule view's
    literals strictly fall, fidelity on the pruning rows never rises, and each claimed
    fidelity is the (weighted) agreement of the tree held."""
    from nnrules.extract.engines.prune_tree import merged_frontier

    labels = _four_classes(data)
    grown = TrepanExtractor(_four_classes, max_leaves=12, n_queries=0,
                            random_state=0).fit(data).surrogate_
    w = np.random.default_rng(2).uniform(0.5, 2.0, size=labels.size)
    paths = [pruning_path(grown, data, labels, weights=w, cost=c, one_condition=o)
             for o in (False, True) for c in ("rules", "tree")]
    both = pruning_path(grown, data, labels, weights=w, cost="both")
    assert [(p.literals, p.fidelity) for p in both] == [
        (p.literals, p.fidelity) for p in merged_frontier(paths)]
    rule = [p.tree.complexity()["conditions"] for p in both]
    assert all(a > b for a, b in itertools.pairwise(rule)) and rule[-1] == 0
    assert all(a.fidelity >= b.fidelity for a, b in itertools.pairwise(both))
    for p in both:
        agree = p.tree.predict_index(data) == labels
        assert p.fidelity == pytest.approx(float(w @ agree) / w.sum(), abs=1e-12)
        assert tree_literals(p.tree) == p.literals
    for p in (q for path in paths for q in path):
        lits = p.tree.complexity()["conditions"]
        assert any(r <= lits and q.fidelity >= p.fidelity - 1e-12 for q, r in zip(both, rule))
    # The extractor with this cost: bounded rule view, same seed -> same bytes.
    for k in (3, 8):
        runs = [TrepanExtractor(_four_classes, max_leaves=12, min_samples=300, max_literals=k,
                                prune_cost="both", random_state=4).fit(data).surrogate_
                for _ in range(2)]
        assert runs[0].complexity()["conditions"] <= k
        assert (json.dumps(runs[0].to_dict(), sort_keys=True)
                == json.dumps(runs[1].to_dict(), sort_keys=True))


def test_one_condition_step_reduces_an_mofn_test_to_one_of_its_conditions():
    """A 2-of-3 test over a network that reads one of its conditions: the step reduces it to
    that condition at once, and every tree of the path scores what it claims."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(600, 3))
    y = (X[:, 1] > 0.3).astype(int)
    test = MofN(2, (Condition(0, ">", 0.0), Condition(1, ">", 0.3), Condition(2, ">", -0.2)))
    tree = TreeSurrogate([test, None, None], [1, -1, -1], [2, -1, -1],
                         [[.5, .5], [0, 1], [1, 0]])
    w = rng.uniform(0.5, 2.0, size=y.size)
    path = pruning_path(tree, X, y, weights=w, cost="rules", one_condition=True)
    exact = next(p for p in path if p.literals == 1)
    assert exact.move.startswith("reduce") and exact.move.endswith("x1 > 0.3")
    assert exact.tree.tests[0] == Condition(1, ">", 0.3) and exact.fidelity == 1.0
    # Without the step the path gets there by two one-condition drops (or not at all).
    plain = pruning_path(tree, X, y, weights=w, cost="rules")
    assert not any(p.move.startswith("reduce") for p in plain)
    for p in path:
        agree = p.tree.predict_index(X) == y
        assert p.fidelity == pytest.approx(float(w @ agree) / w.sum(), abs=1e-12)
