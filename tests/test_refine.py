"""The RIPPER-style refinement of a decision list (``decompose.refine``) and eclaire's use of it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from decompositional_fixtures import fixture_net, xor_data

from nnrules.extract import get_extractor
from nnrules.extract.decompose.refine import cut_points, recount, refine
from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet


def _random_list(rng, n_rules: int, n_features: int, n_classes: int) -> RuleSet:
    rules = []
    for _ in range(n_rules):
        conds = [Condition(int(f), str(rng.choice(["<=", ">"])), float(rng.uniform()))
                 for f in rng.choice(n_features, size=int(rng.integers(1, 4)), replace=False)]
        rules.append(Rule(tuple(conds), int(rng.integers(n_classes))))
    return RuleSet(rules, int(rng.integers(n_classes)), ordered=True,
                   classes=tuple(range(n_classes)))


@pytest.mark.parametrize("seed", range(8))
def test_refine_never_lowers_the_right_answers_on_its_rows(seed):
    """Random lists on random rows whose labels come from a hidden partition: the refined list
    is right on at least as many rows, and the reported counts are the real ones."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(600, 4))
    n_classes = int(rng.integers(2, 5))
    labels = (np.floor(X[:, 0] * n_classes).astype(int) + (X[:, 1] > 0.7)) % n_classes
    labels[rng.random(len(labels)) < 0.1] = rng.integers(n_classes)  # noise
    rs = _random_list(rng, int(rng.integers(1, 12)), 4, n_classes)
    before = int(np.sum(rs.predict_index(X) == labels))
    out, info = refine(rs, X, labels, n_cuts=16)
    after = int(np.sum(out.predict_index(X) == labels))
    assert info.right_before == before
    assert info.right_after == after
    assert after >= before
    assert len(out.rules) <= len(rs.rules)
    assert out.ordered and out.classes == rs.classes
    for r in out.rules:  # support and confidence counted on the rows
        mask = r.holds(X)
        assert r.support == int(mask.sum())


def test_refine_moves_a_wrong_threshold_to_the_true_one():
    """Ground truth: the label is x0 > 0.5; the rule says x0 > 0.2. The pass moves the
    threshold to a cut point next to 0.5 and drops the useless condition on x1."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(2000, 2))
    labels = (X[:, 0] > 0.5).astype(int)
    rs = RuleSet([Rule((Condition(0, ">", 0.2), Condition(1, "<=", 0.9)), 1)], 0,
                 ordered=True, classes=(0, 1))
    out, info = refine(rs, X, labels)
    assert info.right_after == len(X) or info.right_after / len(X) > 0.99
    (rule,) = out.rules
    assert [(c.feature, c.op) for c in rule.conditions] == [(0, ">")]
    assert abs(rule.conditions[0].value - 0.5) < 0.02
    assert out.default == 0


def test_refine_gives_a_rule_the_class_of_its_region_and_leaves_other_tests_alone():
    X = np.random.default_rng(1).uniform(size=(500, 3))
    labels = (X[:, 0] > 0.5).astype(int)
    mofn = MofN(2, (Condition(0, ">", 0.5), Condition(1, ">", 2.0), Condition(2, ">", 2.0)))
    rs = RuleSet([Rule((mofn,), 0), Rule((Condition(0, ">", 0.5),), 0)], 0, ordered=True,
                 classes=(0, 1))
    out, info = refine(rs, X, labels, drop=False)
    assert out.rules[0].conditions == (mofn,)  # never fires, never touched
    assert out.rules[1].output == 1
    assert info.right_after == len(X)


def test_refine_budget_and_bytes():
    """max_seconds=0 stops before the first change and keeps the list; the same input gives
    the same output."""
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(400, 3))
    labels = (X[:, 0] + X[:, 1] > 1).astype(int)
    rs = _random_list(rng, 6, 3, 2)
    out, info = refine(rs, X, labels, max_seconds=0.0, drop=False)
    assert info.stopped and info.changes == 0
    assert [(r.conditions, r.output) for r in out.rules] == \
        [(r.conditions, r.output) for r in rs.rules]
    a, _ = refine(rs, X, labels)
    b, _ = refine(rs, X, labels)
    assert json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


def test_cut_points_and_recount():
    X = np.array([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    cuts = cut_points(X, 64)
    assert np.allclose(cuts[0], [0.5, 1.5, 2.5]) and len(cuts[1]) == 0
    assert len(cut_points(np.arange(1000.0)[:, None], 10)[0]) <= 10
    rs = RuleSet([Rule((Condition(0, "<=", 1.5),), 1, 99, 0.1)], 0, ordered=True,
                 classes=(0, 1))
    (r,) = recount(rs, X, np.array([1, 0, 0, 0])).rules
    assert r.support == 2 and r.confidence == 0.5


def test_eclaire_refines_by_default_deterministically_within_its_budget():
    """On XOR the refined list is at least as faithful on its rows as the list before it, the
    same seed gives the same file, and refine=False leaves the list as ranked."""
    train, test = xor_data()
    net = fixture_net("xor_16-8_s0")
    fits = [get_extractor("eclaire")(net, random_state=1).fit(train.X, schema=train.schema)
            for _ in range(2)]
    dumps = [json.dumps(f.surrogate_.to_dict(), sort_keys=True) for f in fits]
    assert dumps[0] == dumps[1]
    info = fits[0].refinement_
    assert info is not None and info.right_after >= info.right_before
    assert fits[0].surrogate_.notes["refined"]["right_after"] == info.right_after
    plain = get_extractor("eclaire")(net, random_state=1, refine=False).fit(
        train.X, schema=train.schema)
    assert plain.refinement_ is None and "refined" not in plain.surrogate_.notes
    # the refined list starts from the plain one: at most as many rules
    assert len(fits[0].surrogate_.rules) <= len(plain.surrogate_.rules)


def test_eclaire_refine_respects_max_rules_and_time():
    train, _ = xor_data()
    net = fixture_net("xor_16-8_s0")
    with pytest.warns(UserWarning, match="max_rules=4 reached"):
        capped = get_extractor("eclaire")(net, random_state=0, max_rules=4).fit(
            train.X, schema=train.schema)
    assert len(capped.surrogate_.rules) <= 4
    with pytest.warns(UserWarning, match="stopped early"):
        tiny = get_extractor("eclaire")(net, random_state=0, max_seconds=1e-6).fit(
            train.X, schema=train.schema)
    assert tiny.partial_reason_ is not None


def test_refine_adds_conditions_only_on_the_allowed_columns():
    """Labels depend on x0 and x2; with columns=[0, 1] no condition on x2 is added."""
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(1000, 3))
    labels = ((X[:, 0] > 0.5) & (X[:, 2] > 0.3)).astype(int)
    rs = RuleSet([Rule((Condition(0, ">", 0.5),), 1)], 0, ordered=True, classes=(0, 1))
    free, _ = refine(rs, X, labels)
    assert 2 in {c.feature for r in free.rules for c in r.conditions}
    kept, _ = refine(rs, X, labels, columns=[0, 1])
    assert 2 not in {c.feature for r in kept.rules for c in r.conditions}


def test_refine_refuses_what_it_cannot_tune():
    from nnrules.exceptions import DataError, ParameterError

    X = np.random.default_rng(4).uniform(size=(50, 2))
    rs = RuleSet([Rule((Condition(0, ">", 0.5),), 1)], 0, ordered=True, classes=(0, 1))
    with pytest.raises(DataError, match="one label per row"):
        refine(rs, X, np.zeros(49, dtype=int))
    with pytest.raises(DataError, match="class indices"):
        refine(rs, X, np.full(50, 2))
    reg = RuleSet([Rule((Condition(0, ">", 0.5),), 1.5)], 0.0, ordered=True, task="regression")
    with pytest.raises(ParameterError, match="classification"):
        refine(reg, X, np.zeros(50, dtype=int))
