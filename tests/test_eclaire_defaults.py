"""ECLAIRE's per-class leaf sizes, generated queries, drop pass and the exact simplification
of every decompositional rule set."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from decompositional_fixtures import fixture_net, xor_data
from onnx import TensorProto, helper, numpy_helper

import nnrules
from nnrules.extract import get_extractor
from nnrules.extract.decompose.assemble import drop_idle


def _rare_class_network(tmp_path):
    """One ReLU layer, three classes on [0, 1]^2: class 2 where x0 > 0.96 (4% of uniform rows),
    class 1 where x1 > 0.5 otherwise, class 0 elsewhere."""
    W1 = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # inputs x hidden
    b1 = np.array([-0.96, -0.5], dtype=np.float32)
    W2 = np.array([[0.0, 0.0, 1000.0], [0.0, 20.0, 0.0]], dtype=np.float32)  # hidden x classes
    b2 = np.array([0.0, 0.0, 0.0], dtype=np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((W1, "W1"), (b1, "b1"), (W2, "W2"), (b2, "b2"))]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["X", "W1", "b1"], ["z1"], name="gemm1"),
         helper.make_node("Relu", ["z1"], ["h1"], name="relu1"),
         helper.make_node("Gemm", ["h1", "W2", "b2"], ["z2"], name="gemm2"),
         helper.make_node("Softmax", ["z2"], ["Y"], name="head", axis=-1)],
        "rare", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "rare.onnx"
    onnx.save(model, path)
    return nnrules.load(path)


def test_a_class_with_four_percent_of_the_rows_gets_rules(tmp_path):
    """Leaves of 10% of the rows cannot hold a majority of a 4% class; leaves of 10% of each
    class can. So only the per-class sizes give the rare class leaves and, ranked unmerged
    (merge=False), rules that are right about it."""
    net = _rare_class_network(tmp_path)
    X = np.random.default_rng(0).uniform(size=(3000, 2))
    labels = net.predict(X)
    assert 0.03 < np.mean(labels == 2) < 0.05
    common = {"min_samples_leaf": 0.1, "min_gain": 0.01, "n_queries": 0, "merge": False,
              "random_state": 0}
    rows = get_extractor("eclaire")(net, per_class=False, **common).fit(X)
    assert 2 not in {r.output for r in rows.surrogate_.rules}
    assert _rare_leaves(rows) == 0
    per_class = get_extractor("eclaire")(net, per_class=True, **common).fit(X)
    assert _rare_leaves(per_class) >= 1
    rare = [r for r in per_class.surrogate_.rules if r.output == 2]
    assert rare
    Xt = np.random.default_rng(1).uniform(size=(2000, 2))
    truth = net.predict(Xt)
    pred = per_class.surrogate_.predict(Xt)
    assert np.mean(pred[truth == 2] == 2) > 0.9
    assert np.mean(pred == truth) > np.mean(rows.surrogate_.predict(Xt) == truth)


def _rare_leaves(ex) -> int:
    """Leaves of the layer-to-class trees that predict class 2."""
    g = ex.to_networkx()
    return sum(1 for n, d in g.nodes(data=True) if d.get("kind") == "clause"
               and d.get("layer") == 1 and any(t == "class:2"
                                                 for t in g.successors(n)))


def test_generated_queries_fill_small_data_and_keep_the_bytes():
    """n_queries=None brings XOR's 800 rows to 2,000 with generated rows; the same seed gives
    the same file, and the trees saw the generated rows (the root leaf's support is 2,000)."""
    train, _ = xor_data()
    fits = [get_extractor("eclaire")(fixture_net("xor_64-32-16_s0"), random_state=3).fit(
        train.X, schema=train.schema) for _ in range(2)]
    dumps = [json.dumps(f.surrogate_.to_dict(), sort_keys=True) for f in fits]
    assert dumps[0] == dumps[1]
    assert _top_support(fits[0]) == 2000
    none = get_extractor("eclaire")(fixture_net("xor_64-32-16_s0"), n_queries=0,
                                    random_state=3).fit(train.X, schema=train.schema)
    assert _top_support(none) == 800


def _top_support(ex) -> int:
    """Rows the top hidden layer's tree learned from: the supports of its leaves."""
    return sum(d["support"] for _, d in ex.to_networkx().nodes(data=True)
               if d.get("kind") == "clause" and d.get("layer") == 3)


def _random_list(rng, n_rows=400, n_rules=40, n_classes=3):
    labels = rng.integers(0, n_classes, n_rows)
    chosen = []
    for _ in range(n_rules):
        mask = rng.random(n_rows) < rng.uniform(0.02, 0.3)
        chosen.append((0.0, int(mask.sum()), int(rng.integers(0, n_classes)), (), mask))
    return chosen, labels


def _right(chosen, default, labels):
    out = np.full(len(labels), default)
    for *_, k, _, mask in reversed(chosen):
        out[mask] = k
    return int(np.sum(out == labels))


@pytest.mark.parametrize("seed", range(12))
def test_drop_idle_never_lowers_the_rows_right_and_keeps_the_order(seed):
    rng = np.random.default_rng(seed)
    chosen, labels = _random_list(rng)
    covered = np.any([m for *_, m in chosen], axis=0)
    default0 = int(np.bincount(labels[~covered] if (~covered).any() else labels).argmax())
    kept, default = drop_idle(chosen, labels, 3)
    assert _right(kept, default, labels) >= _right(chosen, default0, labels)
    ids = [id(c) for c in chosen]
    assert [ids.index(id(c)) for c in kept] == sorted(ids.index(id(c)) for c in kept)
    assert len(kept) < len(chosen)  # random rules: some are idle
    small, d_small = drop_idle(chosen, labels, 3, max_rules=5)
    assert len(small) == 5
    assert set(map(id, small)) <= set(map(id, kept))


@pytest.mark.parametrize("method", ("eclaire", "deepred"))
def test_every_decompositional_rule_set_is_simplified_exactly(method):
    """The exact rule-set simplification runs last: its sizes are reported, and (eclaire,
    which can switch it off) the predictions equal the unsimplified list's everywhere."""
    train, _ = xor_data()
    net = fixture_net("xor_16-8_s0")
    ex = get_extractor(method)(net, random_state=0).fit(train.X, schema=train.schema)
    info = ex.simplification_
    assert info == ex.surrogate_.notes["simplified"]
    assert info["after"]["rules"] == len(ex.surrogate_.rules)
    assert info["after"]["conditions"] <= info["before"]["conditions"]
    assert info["unreached"] == []  # nothing is dropped for deciding no row: exact
    if method == "eclaire":
        raw = get_extractor(method)(net, simplify=False, random_state=0).fit(
            train.X, schema=train.schema)
        assert raw.simplification_ is None
        grid = np.random.default_rng(0).uniform(-0.2, 1.2, size=(20000, 10))
        assert np.array_equal(raw.surrogate_.predict(grid), ex.surrogate_.predict(grid))


def test_two_outcome_laplace_ranks_a_small_pure_rule_first():
    """With 26 classes the K-class Laplace prior ranks a pure 5-row rule (6/31) below a
    40-of-55 rule (41/81) that covers it, so the pure rule never decides; as a two-outcome
    claim (6/7 against 41/57) it comes first and its rows are right."""
    from nnrules.extract.decompose.assemble import ranked_rules
    from nnrules.surrogates.rules import Condition

    X = np.arange(100, dtype=float)[:, None]
    labels = np.zeros(100, dtype=np.int64)
    labels[:5], labels[5:45], labels[45:55] = 1, 2, 3
    pure, broad = (Condition(0, "<=", 4.5),), (Condition(0, "<=", 54.5),)
    classes = tuple(range(26))
    kw = {"classes": classes, "min_gain": 1}
    k_prior, _ = ranked_rules([(pure, 1), (broad, 2)], X, labels, **kw)
    two, _ = ranked_rules([(pure, 1), (broad, 2)], X, labels, outcomes=2, **kw)
    assert not np.any(k_prior.predict_index(X[:5]) == 1)
    assert np.all(two.predict_index(X[:5]) == 1)
    assert np.mean(two.predict_index(X) == labels) > np.mean(k_prior.predict_index(X) == labels)


@pytest.mark.parametrize("drop", [False, True])
def test_unmerged_ranking_keeps_a_clause_inside_a_broader_one_of_its_class(drop):
    """merge=False promised "never merged with or dropped under another of its class", but
    the ranking still dropped subsumed clauses. In a decision list that changes predictions:
    narrow S (x0 > 0.8, class 1, always right) ranks first, R (0.6 < x0 <= 0.85, class 0)
    next, broad G (x0 > 0.2, class 1) last; without S, R took S's rows 0.8..0.85 (wrong)."""
    from nnrules.extract.decompose.assemble import ranked_rules
    from nnrules.surrogates.rules import Condition

    x0 = (np.arange(2000) + 0.5) / 2000
    X = np.column_stack([x0, np.zeros_like(x0)])
    labels = np.where(x0 > 0.8, 1, np.where(x0 > 0.6, 0, np.where(x0 > 0.2, 1, 0)))
    S = (Condition(0, ">", 0.8),)
    R = (Condition(0, "<=", 0.85), Condition(0, ">", 0.6))  # canonical order
    G = (Condition(0, ">", 0.2),)
    candidates = [(G, 1), (R, 0), (S, 1)]
    unmerged, _ = ranked_rules(candidates, X, labels, classes=(0, 1), merge=False, drop=drop)
    assert [r.conditions for r in unmerged.rules] == [S, R, G]
    assert np.array_equal(unmerged.predict_index(X), labels)  # every row right
    merged, _ = ranked_rules(candidates, X, labels, classes=(0, 1), merge=True, drop=drop)
    assert S not in [r.conditions for r in merged.rules]  # merge=True: documented, inexact
    assert np.sum(merged.predict_index(X) != labels) == 100  # 0.8 < x0 <= 0.85
