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


def test_refine_refuses_float_labels_and_misshapen_columns_and_cuts():
    """Float labels were truncated to int (1.5 -> 1); columns past the rows' width and cuts of
    another length raised IndexError from numpy. Each is a typed error saying what is
    expected; whole-number float labels are class indices and still accepted."""
    from nnrules.exceptions import DataError, ParameterError

    X = np.random.default_rng(4).uniform(size=(50, 3))
    labels = (X[:, 0] > 0.5).astype(int)
    rs = RuleSet([Rule((Condition(0, ">", 0.4),), 1)], 0, ordered=True, classes=(0, 1))
    half = labels.astype(float)
    half[7] = 0.5
    with pytest.raises(DataError, match=r"whole numbers\); label 7 is 0\.5"):
        refine(rs, X, half)
    with pytest.raises(DataError, match="class indices .*got an array of <U"):
        refine(rs, X, np.where(labels == 1, "yes", "no"))
    same, _ = refine(rs, X, labels.astype(float))
    assert same.to_dict() == refine(rs, X, labels)[0].to_dict()
    with pytest.raises(ParameterError, match=r"feature indices in \[0, 3\).*got \[3\]"):
        refine(rs, X, labels, columns=[0, 3])
    with pytest.raises(ParameterError, match=r"feature indices in \[0, 3\).*got \[-1\]"):
        refine(rs, X, labels, columns=[-1])
    with pytest.raises(ParameterError, match=r"integers in \[0, 3\)"):
        refine(rs, X, labels, columns=[0.5])
    with pytest.raises(ParameterError, match="one array of candidate thresholds per column of "
                                             "the rows: 3 arrays; got 2"):
        refine(rs, X, labels, cuts=cut_points(X, 8)[:2])
    with pytest.raises(ParameterError, match=r"cuts\[1\] must be a 1-D array .* increasing"):
        refine(rs, X, labels, cuts=[np.array([0.5]), np.array([0.7, 0.2]), np.array([0.5])])
    cuts = cut_points(X, 8)
    assert refine(rs, X, labels, cuts=[list(c) for c in cuts])[0].to_dict() == \
        refine(rs, X, labels, cuts=cuts)[0].to_dict()


def _golden_case(seed):
    rng = np.random.default_rng(100 + seed)
    X = rng.normal(size=(1500, 5))
    n_classes = 2 + seed % 3
    labels = ((np.floor((X[:, 0] > 0) * n_classes).astype(int) + (X[:, 1] > 0.3)
               + (X[:, 2] > -0.5)) % n_classes)
    labels[rng.random(len(labels)) < 0.1] = rng.integers(n_classes)
    return _random_list(rng, 10 + 5 * seed, 5, n_classes), X, labels


# sha256 (first 16 hex digits) of refine's output on _golden_case(seed), made by the dense
# rows x rules implementation this one replaced (main at 3d05678)
_GOLDEN = {0: "555368e1412cf690", 1: "394325aa2b066601", 2: "3b1b2694b28f0691",
           3: "d753d801d23f7938"}


@pytest.mark.parametrize("chunk", [2**22, 5])
@pytest.mark.parametrize("seed", sorted(_GOLDEN))
def test_refine_output_is_that_of_the_dense_implementation(seed, chunk, monkeypatch):
    """The bit-packed masks give the same bytes as the dense matrix did, however few rules
    are unpacked at a time."""
    import hashlib

    import nnrules.extract.decompose.refine as refine_module

    monkeypatch.setattr(refine_module, "_CHUNK_CELLS", chunk)
    rs, X, labels = _golden_case(seed)
    out, info = refine(rs, X, labels, n_cuts=16)
    text = json.dumps([out.to_dict(), info.to_dict()], sort_keys=True)
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == _GOLDEN[seed]


def test_first_after_matches_a_dense_search(monkeypatch):
    import nnrules.extract.decompose.refine as refine_module

    rng = np.random.default_rng(3)
    dense = rng.random((40, 203)) < 0.05
    bits = refine_module._Bits(*dense.shape)
    for i, m in enumerate(dense):
        bits.set(i, m)
        assert np.array_equal(bits.get(i), m)
    keep = rng.random(40) < 0.7
    rows = rng.choice(203, size=90, replace=False)
    for chunk in (2**22, 7, 1):
        monkeypatch.setattr(refine_module, "_CHUNK_CELLS", chunk)
        for i in (-1, 0, 5, 38, 39):
            for k in (None, keep):
                later = dense[i + 1:, rows] & (True if k is None else k[i + 1:, None])
                want = np.where(later.any(axis=0), i + 1 + later.argmax(axis=0), 40) \
                    if len(later) else np.full(len(rows), 40)
                assert np.array_equal(bits.first_after(i, rows, k), want)


def test_refine_memory_does_not_grow_with_rows_times_rules(monkeypatch):
    """60,000 rows x 1,200 rules: a dense bool matrix alone would be 72 MB (the dense
    implementation peaked at about 370 MB here); refine stays under half of one."""
    import tracemalloc

    import nnrules.extract.decompose.refine as refine_module

    monkeypatch.setattr(refine_module, "_CACHE_BYTES", 2**20)
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(60_000, 4))
    labels = (np.floor(X[:, 0] * 3).astype(int) + (X[:, 1] > 0.7)) % 3
    rs = _random_list(rng, 1200, 4, 3)
    tracemalloc.start()
    try:
        refine(rs, X, labels, n_cuts=16, rounds=1, add=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(X) * len(rs.rules) / 2


def test_an_unordered_rule_set_is_refused():
    """refine reads its rule set as a decision list; an unordered set (votes) would be
    silently re-read in rule order, changing its predictions: a ParameterError instead."""
    from nnrules.exceptions import ParameterError

    rs = RuleSet([Rule((Condition(0, "<=", 0.5),), 1, 10, 0.6),
                  Rule((Condition(1, ">", 0.5),), 0, 10, 0.9)], 0, ordered=False,
                 classes=(0, 1))
    X = np.random.default_rng(0).uniform(size=(50, 2))
    with pytest.raises(ParameterError, match="ordered"):
        refine(rs, X, (X[:, 0] > 0.5).astype(int))
