"""DeepRED's bounded pieces: unit trees, products counted through the rows, one-pass widening.

Each is checked against the slow, obvious computation it replaces (brute-force products with
``conjoin``, ``assemble.generalise``, the per-term trees of the paper), plus the time budget
with its reserved finishing share.
"""

from __future__ import annotations

import numpy as np
import pytest
from decompositional_fixtures import DEC, fixture_net, xor_data
from hypothesis import given, settings
from hypothesis import strategies as st

import nnrules
from nnrules.extract import get_extractor
from nnrules.extract.decompose import conjoin
from nnrules.extract.decompose.assemble import generalise
from nnrules.extract.decompose.budget import Budget, OutOfBudget
from nnrules.extract.decompose.unit_terms import UnitTrees, unit_product
from nnrules.extract.decompose.widen import ConditionMasks, widen
from nnrules.io import serialize
from nnrules.surrogates.rules import Condition


def _levels(name="xor_64-32-16_s0"):
    from nnrules.extract.decompose import read_layers

    train, _ = xor_data()
    return read_layers(fixture_net(name)).levels(train.X)


# -- unit trees ---------------------------------------------------------------------------------

def test_a_unit_tree_answers_every_threshold_by_the_majority_of_each_leaf():
    levels = _levels()
    trees = UnitTrees(levels, None, min_samples_leaf=8, max_leaves=16, max_depth=None,
                      columns=None, schema=None, seed=0)
    tree = trees.tree(2, 5)
    assert trees.has(2, 5) and not trees.has(2, 6)
    value = levels[2][:, 5]
    assert 2 <= len(tree.leaves) <= 16
    for t in np.quantile(value, [0.2, 0.5, 0.8]):
        clauses, ids = tree.factor([Condition(5, ">", float(t))])
        neg_clauses, neg_ids = tree.factor([Condition(5, "<=", float(t))])
        assert np.all((ids >= 0) != (neg_ids >= 0))  # complements on every row
        for leaf in tree.leaves:
            rows = tree.leaf_of == leaf
            above = np.mean(value[rows] > t)
            assert np.all((ids[rows] >= 0) == (above > 0.5))
        # each clause of the factor selects exactly the rows given its id
        for i, clause in enumerate(clauses):
            ok = np.ones(len(value), dtype=bool)
            for c in clause:
                ok &= c.holds(levels[1])
            np.testing.assert_array_equal(ok, ids == i)
        assert len(clauses) <= sum(1 for leaf in tree.leaves
                                   if np.mean(value[tree.leaf_of == leaf] > t) > 0.5)


def test_rows_counted_products_equal_the_brute_force_products():
    """Every product covering a training row, with its rows: the same as multiplying the
    factors' clause lists out with ``conjoin`` (no beam) and keeping the supported ones."""
    levels = _levels()
    trees = UnitTrees(levels, None, min_samples_leaf=8, max_leaves=8, max_depth=None,
                      columns=None, schema=None, seed=0)
    n = len(levels[0])
    for units, thresholds in [((0, 3, 7), (0.1, -0.2, 0.3)), ((1, 2), (0.0, 0.5)),
                              ((4, 5, 6, 9), (0.0, 0.0, 0.0, 0.0))]:
        factors = []
        for u, t in zip(units, thresholds):
            op = ">" if u % 2 else "<="
            factors.append(trees.tree(2, u).factor([Condition(u, op, t)]))
        fast = unit_product(factors, n, min_support=1, beam=10**6)
        dnfs = [[(c, ids == i) for i, c in enumerate(cl)] for cl, ids in factors]
        slow = conjoin(dnfs, n, min_support=1, beam=10**6)
        want = {c: m for c, m in zip(slow.clauses, slow.masks) if m.any()}
        got = dict(fast)
        assert set(got) == set(want)
        for c in want:
            np.testing.assert_array_equal(got[c], want[c])
        supports = [int(m.sum()) for _, m in fast]
        assert supports == sorted(supports, reverse=True)
        capped = unit_product(factors, n, min_support=1, beam=3)
        assert [c for c, _ in capped] == [c for c, _ in fast[:3]]
        big = unit_product(factors, n, min_support=20, beam=10**6)
        assert all(int(m.sum()) >= 20 for _, m in big)


# -- widening ----------------------------------------------------------------------------------

_cond = st.builds(Condition, st.integers(0, 3), st.sampled_from(("<=", ">")),
                  st.integers(0, 4).map(float))


@settings(max_examples=150, deadline=None)
@given(st.lists(_cond, min_size=1, max_size=7).map(tuple), st.integers(0, 2),
       st.sampled_from((0.0, 0.02, 0.1)), st.integers(0, 10**6))
def test_widen_returns_what_generalise_returns(clause, k, tolerance, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 5, size=(120, 4)).astype(float)
    labels = np.where(X[:, 0] > 2, 1, rng.integers(0, 3, size=120))
    want = generalise(clause, k, X, labels, tolerance=tolerance)
    assert widen(clause, k, X, labels, tolerance=tolerance) == want
    assert widen(clause, k, X, labels, tolerance=tolerance, masks=ConditionMasks(X)) == want


# -- the extractor ------------------------------------------------------------------------------

def test_the_papers_term_learner_still_works_and_is_deterministic():
    train, test = xor_data()
    net = fixture_net("xor_16-8_s1")
    fits = [get_extractor("deepred")(net, term_learner="term", random_state=3)
            .fit(train.X, schema=train.schema) for _ in range(2)]
    assert serialize.dumps(fits[0].surrogate_) == serialize.dumps(fits[1].surrogate_)
    assert np.mean(fits[0].surrogate_.predict(test.X) == net.predict(test.X)) >= 0.9
    with pytest.raises(Exception, match="term_learner"):
        get_extractor("deepred")(net, term_learner="leaf").fit(train.X, schema=train.schema)


def test_unit_learner_learns_at_most_one_tree_per_unit():
    train, _ = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_64-32-16_s0"), random_state=0)
    ex.fit(train.X, schema=train.schema)
    widths = (64, 32, 16)
    assert len(ex._units.trees) <= sum(widths[:2])  # levels 1 and 2 are rewritten
    assert ex.n_terms_ >= len(ex._units.trees)


def test_reserve_stops_work_early_and_release_restores_the_whole_budget():
    budget = Budget(max_seconds=0.05, max_rules=None, max_terms=None)
    budget.reserve(0.5)
    import time

    time.sleep(0.03)
    with pytest.raises(OutOfBudget, match=r"max_seconds=0.05 reached .*this stage may use 50%"):
        budget.tick()
    budget.release()
    budget.start = time.perf_counter()  # a fresh 0.05 s
    budget.tick()  # within the whole budget again


def test_once_the_time_is_spent_later_ticks_keep_the_overrunning_step_on_record():
    import time

    budget = Budget(max_seconds=0.02, max_rules=None, max_terms=None)
    budget.reserve(0.5)
    time.sleep(0.03)  # one step past the whole budget
    with pytest.raises(OutOfBudget):
        budget.tick()
    overrun, step = budget.overrun, budget.last_step
    assert overrun <= step
    budget.release()
    time.sleep(0.01)
    with pytest.raises(OutOfBudget, match="max_seconds=0.02"):
        budget.tick()
    assert (budget.overrun, budget.last_step) == (overrun, step)


@pytest.mark.parametrize("seconds", (0.05, 0.3, 1.0))
def test_time_budget_on_the_bounded_path_stops_within_one_step(seconds):
    """Stops in substitution or in the finishing share (relabel/widen), whichever the machine's
    speed gives: either way one warning and an overrun no longer than the step that made it."""
    train, test = xor_data()
    # 2-row leaves and unlimited unit trees: ~9 s of work, so every budget here runs out
    ex = get_extractor("deepred")(fixture_net("xor_64-32-16_s0"), max_seconds=seconds,
                                  random_state=0, min_samples_leaf=2, term_leaves=None)
    with pytest.warns(UserWarning, match=f"stopped early .*max_seconds={seconds:g} ") as caught:
        ex.fit(train.X, schema=train.schema)
    assert len([w for w in caught if "stopped early" in str(w.message)]) == 1
    assert ex.budget_.overrun <= ex.budget_.last_step + 1e-9
    assert 0.0 <= ex.report(test.X).fidelity <= 1.0


@pytest.mark.parametrize("method", ("deepred", "cred"))
def test_a_budget_so_small_that_nothing_is_learned_gives_a_clear_partial(method):
    from nnrules.datasets import load_monk

    data = load_monk(2)
    net = nnrules.load(DEC / "monk2_8.onnx")
    ex = get_extractor(method)(net, max_seconds=1e-9, random_state=0)
    with pytest.warns(UserWarning, match="stopped early .*max_seconds=1e-09") as caught:
        ex.fit(data.X_train, feature_names=list(data.feature_names))
    assert len([w for w in caught if "stopped early" in str(w.message)]) == 1
    assert ex.surrogate_.rules == () and ex.partial_reason_.startswith("max_seconds=1e-09")
    majority = np.bincount(net.predict(data.X_train)).argmax()
    assert np.all(ex.surrogate_.predict(data.X_test) == majority)
    with pytest.raises(Exception, match="max_rules"):
        get_extractor(method)(net, max_rules=0).fit(data.X_train)


def test_a_unit_tree_with_max_columns_tests_only_the_most_correlated_columns():
    levels = _levels()
    trees = UnitTrees(levels, None, min_samples_leaf=8, max_leaves=16, max_depth=None,
                      columns=None, schema=None, seed=0, max_columns=4)
    tree = trees.tree(2, 3)
    corr = [abs(np.corrcoef(levels[1][:, i], levels[2][:, 3])[0, 1])
            if levels[1][:, i].std() > 0 else 0.0 for i in range(levels[1].shape[1])]
    top = set(np.argsort(corr)[::-1][:4].tolist())
    used = {c.feature for path in tree.paths for c in path}
    assert used and used <= top


def test_generated_rows_are_seeded_and_labelled_by_the_network():
    from nnrules.datasets import load_monk

    data = load_monk(2)
    net = nnrules.load(DEC / "monk2_8.onnx")
    names = list(data.feature_names)
    fits = [get_extractor("deepred")(net, n_queries=400, random_state=1)
            .fit(data.X_train, feature_names=names) for _ in range(2)]
    assert serialize.dumps(fits[0].surrogate_) == serialize.dumps(fits[1].surrogate_)
    assert len(fits[0].trace_.records) > 0
    assert np.mean(fits[0].surrogate_.predict(data.X_test) == net.predict(data.X_test)) >= 0.7
