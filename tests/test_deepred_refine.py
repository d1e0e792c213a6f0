"""DeepRED's learning rows and final pass: the enumerated discrete domain, the input fallback
for output clauses that substitution leaves short, eclaire's ranking and drop pass."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from decompositional_fixtures import DEC, fixture_net, xor_data

import nnrules
from nnrules.datasets import load_monk
from nnrules.extract import get_extractor
from nnrules.extract.decompose.domain import discrete_domain, domain_size
from nnrules.io import serialize


def _monk_fit(network="monk2_8", **params):
    data = load_monk(2)
    net = nnrules.load(DEC / f"{network}.onnx")
    ex = get_extractor("deepred")(net, random_state=0, **params)
    ex.fit(data.X_train, feature_names=list(data.feature_names))
    return data, net, ex


def test_the_monk_domain_is_every_point_once():
    data, _, ex = _monk_fit(max_domain=None)
    schema = ex.schema_
    assert domain_size(schema) == 432
    D = discrete_domain(schema, 10_000)
    assert D.shape == (432, 17)
    assert len(np.unique(D, axis=0)) == 432
    for cols in schema.groups.values():  # one category per attribute
        assert np.all(D[:, list(cols)].sum(axis=1) == 1)
    # the same points as the 432 rows MONK enumerates itself (its test set)
    as_set = {tuple(r) for r in D}
    assert as_set == {tuple(r) for r in np.asarray(data.X_test, dtype=np.float64)}
    assert discrete_domain(schema, 431) is None


def test_a_continuous_schema_has_no_domain():
    train, _ = xor_data()
    assert domain_size(train.schema) is None
    ex = get_extractor("deepred")(fixture_net("xor_16-8_s1"), random_state=0)
    ex.fit(train.X, schema=train.schema)
    assert ex.domain_rows_ is None and "enumerated_domain" not in ex.surrogate_.notes


@pytest.mark.parametrize("network", ["monk2_8", "monk2_12"])
def test_deepred_on_the_enumerated_monk_domain(network):
    """Learned from all 432 points labelled by the network (not the 169 training rows): the
    rules agree with the network on the whole domain (monk2_8 exactly; monk2_12 measured
    1.000 with the defaults, where the passed rows alone gave 0.806)."""
    data, net, ex = _monk_fit(network)
    assert ex.domain_rows_ == 432 and ex.surrogate_.notes["enumerated_domain"] == 432
    agree = np.mean(ex.surrogate_.predict(data.X_test) == net.predict(data.X_test))
    assert agree == 1.0 if network == "monk2_8" else agree >= 0.97
    _, _, off = _monk_fit(network, max_domain=None, fallback=0.0)
    assert off.domain_rows_ is None
    assert np.mean(off.surrogate_.predict(data.X_test) == net.predict(data.X_test)) < agree


def test_domain_cap_and_monk_truth_table():
    data, net, ex = _monk_fit(max_domain=400)  # 432 > 400: the passed rows only
    assert ex.domain_rows_ is None
    _, _, full = _monk_fit()
    attributes = np.array(list(itertools.product(*[range(1, k + 1)
                                                    for k in (3, 3, 2, 3, 4, 2)])))
    from nnrules.datasets import monk_concept

    truth = monk_concept(2, attributes)
    np.testing.assert_array_equal(full.surrogate_.predict(data.X_test), truth)


def test_fallback_clauses_are_marked_in_the_trace():
    train, _ = xor_data()
    net = fixture_net("xor_16-8_s0")
    ex = get_extractor("deepred")(net, random_state=0).fit(train.X, schema=train.schema)
    n = ex.surrogate_.notes["fallback_clauses"]
    g = ex.to_networkx()
    marked = [v for v, a in g.nodes(data=True) if a.get("fallback")]
    assert n > 0 and len(marked) == n
    K = ex.trace_.n_hidden
    for v in marked:  # an input clause realising an output-level clause (not a term)
        assert g.nodes[v]["layer"] == 0
        (target,) = list(g.successors(v))
        assert g.nodes[target]["kind"] == "clause" and g.nodes[target]["layer"] == K
    off = get_extractor("deepred")(net, random_state=0, fallback=0.0).fit(
        train.X, schema=train.schema)
    assert off.surrogate_.notes["fallback_clauses"] == 0
    assert not any(a.get("fallback") for _, a in off.to_networkx().nodes(data=True))


@pytest.mark.parametrize("case", ["xor", "monk"])
def test_same_seed_same_bytes(case):
    def once():
        if case == "monk":
            return serialize.dumps(_monk_fit("monk2_12")[2].surrogate_)
        train, _ = xor_data()
        ex = get_extractor("deepred")(fixture_net("xor_16-8_s0"), random_state=3)
        return serialize.dumps(ex.fit(train.X, schema=train.schema).surrogate_)

    assert once() == once()


def test_the_exact_mode_has_no_fallback():
    train, _ = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_16-8_s0"), relabel=False, generalise=None,
                                  min_support=0, beam=10**6, random_state=0)
    ex.fit(train.X, schema=train.schema)
    assert ex.surrogate_.notes["fallback_clauses"] == 0
    assert not any(a.get("fallback") for _, a in ex.to_networkx().nodes(data=True))


# -- sequential covering ------------------------------------------------------------------------

def _naive_covering(pool, X, labels, gains, outcomes=2):
    """Re-count every candidate on the open rows from scratch at each pick."""
    from nnrules.extract.decompose.terms import clause_mask

    masks = [clause_mask(c, X) for c, _ in pool]
    covered = np.zeros(len(X), dtype=bool)
    used: set[int] = set()
    picks = []
    while True:
        best = None
        for i, ((_, k), m) in enumerate(zip(pool, masks)):
            if i in used:
                continue
            new = m & ~covered
            sup, right = int(new.sum()), int(np.sum(labels[new] == k))
            if right < gains[k] or 2 * right <= sup:
                continue
            key = ((right + 1) / (sup + outcomes), sup, -i)
            if best is None or key > best[0]:
                best = (key, i)
        if best is None:
            return picks
        i = best[1]
        used.add(i)
        m = masks[i]
        picks.append((float(np.mean(labels[m] == pool[i][1])), int(m.sum()), pool[i][1],
                      pool[i][0], m))
        covered |= m


@pytest.mark.parametrize("seed", range(4))
def test_covering_equals_the_naive_recount(seed):
    from nnrules.extract.decompose.assemble import drop_idle, merge_runs
    from nnrules.extract.decompose.covering import covering_rules
    from nnrules.surrogates.rules import Condition, simplify_conditions

    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(300, 3))
    labels = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.4)).astype(np.int64)
    labels[rng.random(300) < 0.1] = 2
    cands = []
    for _ in range(60):
        j = rng.choice(3, size=2, replace=False)
        clause = (Condition(int(j[0]), ">" if rng.random() < 0.5 else "<=", rng.random()),
                  Condition(int(j[1]), ">" if rng.random() < 0.5 else "<=", rng.random()))
        cands.append((clause[: 1 + int(rng.random() < 0.7)], int(rng.integers(3))))
    gains = np.array([2, 3, 1])
    got, _ = covering_rules(cands, X, labels, classes=(0, 1, 2), min_gain=gains)
    pool = sorted({(tuple(simplify_conditions(c)), k) for c, k in cands},
                  key=lambda item: (item[1], item[0]))
    chosen, default = drop_idle(_naive_covering(pool, X, labels, gains), labels, 3)
    want = merge_runs(chosen, X, labels)
    assert [(r.conditions, r.output) for r in got.rules] == [(c, k) for _, _, k, c, _ in want]
    assert got.default == default
    capped, truncated = covering_rules(cands, X, labels, classes=(0, 1, 2), min_gain=gains,
                                       max_rules=2)
    assert len(capped.rules) <= 2 and truncated == (len(chosen) > 2)


# -- refine (eclaire's pass, shared through DecompositionalExtractor._refined) --------------
def _right(ruleset, X, labels):
    return int(np.sum(np.asarray(ruleset.predict(X)) == labels))


def test_deepred_refine_never_lowers_the_fidelity_on_its_rows():
    """With refine_queries=0 the pool is the training rows: the refined list gets at least as
    many of them right as the unrefined one, and the counts it reports are the real ones."""
    train, _ = xor_data()
    net = fixture_net("xor_16-8_s0")
    labels = net.predict(train.X)
    plain = get_extractor("deepred")(net, random_state=0, refine=False).fit(
        train.X, schema=train.schema)
    assert plain.refinement_ is None and "refined" not in plain.surrogate_.notes
    ex = get_extractor("deepred")(net, random_state=0, refine_queries=0.0).fit(
        train.X, schema=train.schema)
    info = ex.refinement_
    assert info.right_before == _right(plain.surrogate_, train.X, labels)
    assert info.right_after == _right(ex.surrogate_, train.X, labels) >= info.right_before
    assert ex.surrogate_.notes["refined"]["right_after"] == info.right_after


def test_refine_gets_only_what_is_left_of_the_budget(monkeypatch):
    import nnrules.extract.decompose.refine as refine_module

    seen = []
    real = refine_module.refine

    def spy(ruleset, X, labels, **kwargs):
        seen.append((kwargs["max_seconds"], len(X), len(ruleset.rules)))
        return real(ruleset, X, labels, **kwargs)

    monkeypatch.setattr(refine_module, "refine", spy)
    train, _ = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_16-8_s1"), random_state=0, max_seconds=30.0)
    ex.fit(train.X, schema=train.schema)
    assert len(seen) == 1 and 0 < seen[0][0] < 30.0
    assert seen[0][0] <= 30.0 - ex.budget_.elapsed() + 1.0
    assert seen[0][1] == 5 * len(train.X)  # refine_queries=4 generated rows per row
    # a long list gets fewer generated rows: rows x rules stays within the cap
    import nnrules.extract.deepred as deepred_module

    monkeypatch.setattr(deepred_module, "_REFINE_CELLS", 12_000)
    get_extractor("deepred")(fixture_net("xor_16-8_s1"), random_state=0).fit(
        train.X, schema=train.schema)
    _, rows, rules = seen[1]
    assert len(train.X) <= rows < 5 * len(train.X)
    assert rows == len(train.X) or rows * rules <= 12_000


def test_refine_pool_is_capped_by_cells(monkeypatch):
    """The generated rows for refine stop where the pool (training rows included) would pass
    _REFINE_MAX_CELLS rows x features; the training rows are always in it."""
    import nnrules.extract.decompose.extractor as extractor_module
    import nnrules.extract.decompose.refine as refine_module

    seen = []
    real = refine_module.refine

    def spy(ruleset, X, labels, **kwargs):
        seen.append(X.shape)
        return real(ruleset, X, labels, **kwargs)

    monkeypatch.setattr(refine_module, "refine", spy)
    train, _ = xor_data()
    fit = get_extractor("eclaire")(fixture_net("xor_16-8_s1"), random_state=0).fit
    fit(train.X, schema=train.schema)
    pool, d = seen[-1]
    n = pool // 5  # the rows refine starts from (training rows, topped up), then 4 per row
    monkeypatch.setattr(extractor_module, "_REFINE_MAX_CELLS", (n + 7) * d)
    fit(train.X, schema=train.schema)
    assert seen[-1] == (n + 7, d)
    monkeypatch.setattr(extractor_module, "_REFINE_MAX_CELLS", d)  # below the training rows
    fit(train.X, schema=train.schema)
    assert seen[-1] == (n, d)


def test_refine_out_of_time_keeps_a_clean_partial(monkeypatch):
    """When the time runs out inside refine the list is kept as far as it got, marked partial
    with one warning, and still predicts every row."""
    import nnrules.extract.decompose.refine as refine_module

    real = refine_module.refine
    monkeypatch.setattr(refine_module, "refine",
                        lambda *a, **k: real(*a, **{**k, "max_seconds": 0.0}))
    train, test = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_16-8_s0"), random_state=0)
    with pytest.warns(UserWarning, match="stopped early .*while refining") as caught:
        ex.fit(train.X, schema=train.schema)
    assert len([w for w in caught if "stopped early" in str(w.message)]) == 1
    assert ex.refinement_.stopped and ex.partial_reason_.endswith("while refining")
    assert len(ex.surrogate_.predict(test.X)) == len(test.X)


@pytest.mark.parametrize("method", ("deepred", "cred"))
def test_refined_rules_are_the_same_bytes_for_the_same_seed(method):
    data = load_monk(2)
    net = nnrules.load(DEC / "monk2_8.onnx")
    dumps = []
    for _ in range(2):
        ex = get_extractor(method)(net, random_state=3)
        ex.fit(data.X_train, feature_names=list(data.feature_names))
        assert ex.refinement_ is not None  # on the enumerated domain, no generated rows
        assert ex.refinement_.right_after >= ex.refinement_.right_before
        dumps.append(serialize.dumps(ex.surrogate_))
    assert dumps[0] == dumps[1]
    train, _ = xor_data()
    fits = [serialize.dumps(get_extractor("deepred")(fixture_net("xor_16-8_s0"),
                                                     random_state=2).fit(
        train.X, schema=train.schema).surrogate_) for _ in range(2)]
    assert fits[0] == fits[1]


def test_a_huge_binary_domain_is_counted_exactly_not_overflowed():
    # 1100 binary columns: 2**1100 points, past a float's range; the count must stay exact
    # (and discrete_domain must decline it) rather than raise OverflowError.
    from nnrules.schema import Feature, FeatureSchema

    schema = FeatureSchema(tuple(Feature(f"b{i}", "binary", 0, 1) for i in range(1100)))
    assert domain_size(schema) == 2**1100
    assert discrete_domain(schema, 100_000) is None


def test_refine_skipped_for_lack_of_time_marks_the_result_partial():
    """When nothing of ``max_seconds`` is left for refine, the list is returned unrefined and
    the result is marked partial (refine=True was asked for and not done)."""
    from types import SimpleNamespace

    train, _ = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_16-8_s1"), random_state=0, refine=False,
                                  max_seconds=30.0)
    ex.fit(train.X, schema=train.schema)
    assert ex.partial_reason_ is None
    labels = ex.oracle_.as_index(ex._network_labels(np.asarray(train.X, dtype=np.float64)))
    ws = SimpleNamespace(levels=[np.asarray(train.X, dtype=np.float64)], labels=labels,
                         budget=SimpleNamespace(elapsed=lambda: 31.0))
    with pytest.warns(UserWarning, match="before refining"):
        out = ex._refined(ws, ex.surrogate_, queries=False)
    assert out is ex.surrogate_
    assert ex.partial_reason_ is not None and "refin" in ex.partial_reason_


def test_covering_takes_clauses_of_mixed_test_kinds():
    """covering_rules orders its pool deterministically even when clauses mix plain
    conditions and m-of-n tests (which do not compare with each other)."""
    from nnrules.extract.decompose.covering import covering_rules
    from nnrules.surrogates.rules import Condition, MofN

    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] * 5)
    labels = (X.sum(axis=1) >= 1).astype(np.int64)
    mofn = MofN(1, (Condition(0, ">", 0.5), Condition(1, ">", 0.5)))
    cands = [((Condition(0, ">", 0.5),), 1), ((mofn,), 1), ((Condition(0, "<=", 0.5),), 0)]
    rs, _ = covering_rules(cands, X, labels, classes=(0, 1))
    assert np.array_equal(rs.predict(X), labels)
    rs2, _ = covering_rules(cands[::-1], X, labels, classes=(0, 1))
    assert rs2.to_dict() == rs.to_dict()
