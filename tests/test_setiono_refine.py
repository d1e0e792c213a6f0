"""``setiono``'s refinement of learned rule lists (``refine``; M-of-N tests by
:func:`~nnrules.extract.decompose.refine_mofn.refine_mofn`).

The pass never lowers the list's agreement with the network on its rows, ends at a list no
single M-of-N change improves (checked by brute force), leaves exact rules (MONK) untouched,
and is seeded.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from decompositional_fixtures import german_data

import nnrules
from nnrules.datasets import load_monk
from nnrules.extract import get_extractor
from nnrules.extract.decompose.refine_mofn import refine_mofn
from nnrules.io import serialize
from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet

SET = Path(__file__).resolve().parent / "fixtures" / "setiono"
Setiono = get_extractor("setiono")


def _right(ruleset: RuleSet, X, labels) -> int:
    return int(np.sum(ruleset.predict_index(X) == labels))


def _random_list(rng, n_features: int, repeats: bool = False) -> RuleSet:
    """A random decision list of M-of-N tests; ``repeats``: each test lists some of its
    conditions two or three times (as setiono's mixed staircase does)."""
    rules = []
    for _ in range(int(rng.integers(1, 4))):
        conds = tuple(Condition(int(f), str(rng.choice(["<=", ">"])), float(rng.normal()))
                      for f in rng.choice(n_features, size=int(rng.integers(2, 6)),
                                          replace=False))
        if repeats:
            conds = tuple(c for c in conds for _ in range(int(rng.integers(1, 4))))
            conds = conds + conds[:1]  # at least one repeat
        tests = [MofN(int(rng.integers(1, len(conds) + 1)), conds)]
        if rng.random() < 0.5:
            tests.append(Condition(int(rng.integers(n_features)), ">", float(rng.normal())))
        rules.append(Rule(tuple(tests), int(rng.integers(2))))
    return RuleSet(rules, int(rng.integers(2)), ordered=True, classes=(0, 1),
                   n_features=n_features)


def _single_changes(ruleset: RuleSet):
    """Every list one M-of-N change (another m, a condition dropped, or one more copy of a
    condition in a test that lists one twice) away."""
    for i, r in enumerate(ruleset.rules):
        for j, t in enumerate(r.conditions):
            if not isinstance(t, MofN):
                continue
            options = [t.conditions]
            if len(t.conditions) > 1:
                options += [t.conditions[:d] + t.conditions[d + 1:]
                            for d in range(len(t.conditions))]
            if len(set(t.conditions)) < len(t.conditions):
                options += [t.conditions + (c,) for c in set(t.conditions)]
            for conds in options:
                for m in range(1, len(conds) + 1):
                    tests = (*r.conditions[:j], MofN(m, conds), *r.conditions[j + 1:])
                    rules = [*ruleset.rules[:i], Rule(tests, r.output), *ruleset.rules[i + 1:]]
                    yield RuleSet(rules, ruleset.default, ordered=True, classes=(0, 1),
                                  n_features=ruleset.n_features)


@pytest.mark.parametrize("seed", range(30))
def test_refine_mofn_never_lowers_agreement_and_ends_at_a_local_optimum(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 6))
    labels = ((X[:, 0] + X[:, 1] > 0) ^ (rng.random(300) < 0.1)).astype(np.int64)
    before = _random_list(rng, 6)
    out, info = refine_mofn(before, X, labels, rounds=50)
    assert info.right_before == _right(before, X, labels)
    assert info.right_after == _right(out, X, labels) >= info.right_before
    assert len(out.rules) <= len(before.rules)
    if info.rounds < 50 and len(out.rules) == len(before.rules):
        # converged (and no idle rule dropped after): no single M-of-N change gains a row
        best = max((_right(rs, X, labels) for rs in _single_changes(out)), default=0)
        assert best <= info.right_after


@pytest.mark.parametrize("seed", range(15))
def test_refine_mofn_with_repeated_conditions_ends_at_a_local_optimum(seed):
    """Tests that list conditions several times (a mixed staircase) may also gain a copy;
    the pass still never loses a row and ends where no single change (adds included)
    gains one."""
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(size=(300, 6))
    labels = ((2 * X[:, 0] + X[:, 1] > 0) ^ (rng.random(300) < 0.1)).astype(np.int64)
    before = _random_list(rng, 6, repeats=True)
    out, info = refine_mofn(before, X, labels, rounds=50)
    assert info.right_before == _right(before, X, labels)
    assert info.right_after == _right(out, X, labels) >= info.right_before
    if info.rounds < 50 and len(out.rules) == len(before.rules):
        best = max((_right(rs, X, labels) for rs in _single_changes(out)), default=0)
        assert best <= info.right_after


def test_a_copy_is_added_where_it_pays():
    """On the 16 points of four binary inputs labelled ``2a + 2b + c + d >= 3``, the test
    "at least 3 of {a, a, b, c, d}" errs where b and one of c, d hold; one more copy of b
    makes it exact, which neither another m nor dropping a condition does."""
    X = np.array([[a, b, c, d] for a in (0, 1) for b in (0, 1) for c in (0, 1)
                  for d in (0, 1)], dtype=float)
    labels = (2 * X[:, 0] + 2 * X[:, 1] + X[:, 2] + X[:, 3] >= 3).astype(np.int64)
    a, b, c, d = (Condition(f, ">", 0.5) for f in range(4))
    start = RuleSet([Rule((MofN(3, (a, a, b, c, d)),), 1)], 0, ordered=True, classes=(0, 1),
                    n_features=4)
    assert _right(start, X, labels) < len(X)
    assert max(_right(rs, X, labels) for rs in _single_changes(start)) == len(X)
    without = [rs for rs in _single_changes(start)
               if len(rs.rules[0].conditions[0].conditions) <= 5]
    assert max(_right(rs, X, labels) for rs in without) < len(X)
    out, _ = refine_mofn(start, X, labels)
    assert _right(out, X, labels) == len(X)
    assert out.rules[0].conditions[0].conditions.count(b) == 2


def _german():
    train, _ = german_data()
    return train.X, list(train.schema.names)


@cache
def _german_fit(**params):
    X, names = _german()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Setiono(nnrules.load(SET / "german_h5_s2.onnx"), random_state=0, queries=2,
                       **params).fit(X, feature_names=names)


def test_refine_on_the_training_rows_never_lowers_their_agreement():
    X, _ = _german()
    labels = _german_fit(refine="none").oracle_.as_index(
        _german_fit(refine="none")._network_labels(X))
    plain = _german_fit(refine="none")
    refined = _german_fit(refine="mofn", refine_queries=0.0)
    assert plain.refinement_ is None
    info = refined.refinement_
    assert info is not None and info.n_rows == len(X)
    assert info.right_after >= info.right_before
    assert _right(refined.surrogate_, X, labels) >= _right(plain.surrogate_, X, labels)
    assert len(refined.surrogate_.rules) <= len(plain.surrogate_.rules)
    assert refined.stages_[-1]["refined"] == info.to_dict()


def test_refine_with_generated_rows_is_seeded():
    a = _german_fit(refine="mofn", refine_queries=2.0)
    b = _german_fit.__wrapped__(refine="mofn", refine_queries=2.0)
    assert a is not b
    assert serialize.dumps(a.surrogate_) == serialize.dumps(b.surrogate_)
    assert a.refinement_.right_after >= a.refinement_.right_before


@pytest.mark.parametrize("name", ["monk1_h3", "monk3_h3"])
def test_exact_rules_are_never_refined(name):
    d = load_monk(int(name[4]))
    net = nnrules.load(SET / f"{name}.onnx")
    fits = [Setiono(net, refine=r, random_state=0).fit(d.X_train,
                                                        feature_names=list(d.feature_names))
            for r in ("all", "none")]
    assert fits[0].exact_ and fits[0].refinement_ is None
    assert serialize.dumps(fits[0].surrogate_) == serialize.dumps(fits[1].surrogate_)
    assert np.array_equal(np.asarray(fits[0].surrogate_.predict(d.X_test)).astype(int),
                          d.y_test)


def test_a_fit_stopped_before_the_rules_has_no_refinement():
    X, names = _german()
    ex = Setiono(nnrules.load(SET / "german_h3.onnx"), max_seconds=1e-9, random_state=0)
    with pytest.warns(UserWarning, match="prune: max_seconds"):
        ex.fit(X, feature_names=names)
    assert ex.refinement_ is None and ex.partial_reason_
