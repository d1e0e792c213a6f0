"""The decompositional engine and its three strategies (cred, deepred, eclaire).

Ground truth (XOR names x0 and x1; MONK-2's truth table), a brute-force check of substitution,
a property test of simplification, a numpy-vs-onnxruntime test of the layer reader, budgets, and
every bad input a user can cause.
"""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
from decompositional_fixtures import fixture_net, xor_data
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper
from onnx_builders import dense_mlp, mlp_weights, save

import nnrules
from nnrules.datasets import load_monk, monk_concept
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract import get_extractor
from nnrules.extract.decompose import (
    Term,
    clause_mask,
    prune_inputs,
    read_layers,
    simplify_dnf,
)
from nnrules.io import serialize
from nnrules.surrogates.rules import Condition

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures"
DEC = FIX / "decompositional"
METHODS = ("cred", "deepred", "eclaire")


# -- layers: numpy in batches equals onnxruntime --------------------------------------------

LAYER_FIXTURES = ["graph_torch_script.onnx", "graph_dynamo_inline.onnx",
                  "graph_dynamo/model.onnx", "graph_skl_multi.onnx", "graph_skl_binary.onnx",
                  "graph_hand_matmul.onnx", "graph_hand_gemm.onnx",
                  "decompositional/xor_64-32-16_s0.onnx", "decompositional/monk2_8.onnx"]


@pytest.mark.parametrize("fname", LAYER_FIXTURES)
def test_levels_equal_onnxruntime_activations(fname):
    network = nnrules.load(FIX / fname)
    stack = read_layers(network)
    X = np.random.default_rng(0).normal(scale=2.0, size=(53, stack.ir.n_inputs))
    levels = stack.levels(X, batch_size=7)  # batches of 7 rows: the last one is short
    assert len(levels) == stack.n_hidden + 1 and levels[0] is not None
    by_name = {n.name: n.output[0] for n in network.model.graph.node}
    tensors = [by_name[name] for name in stack.names]
    got = network.activations(X.astype(np.float32), tensors)
    for level, tensor in zip(levels[1:], tensors):
        assert level.shape == (len(X), got[tensor].shape[1])
        np.testing.assert_allclose(level, got[tensor], rtol=1e-4, atol=1e-4)
    assert stack.widths == tuple(a.shape[1] for a in levels)


# -- ground truth ---------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "name"), [
    ("deepred", "xor_64-32-16_s0"), ("deepred", "xor_16-8_s1"),
    ("eclaire", "xor_64-32-16_s0"), ("eclaire", "xor_64-32-16_s1"),
    ("eclaire", "xor_16-8_s1"),
])
def test_xor_rules_name_x0_and_x1(method, name):
    """Defaults, except that eclaire on the 16-8 network prunes inputs (RxREN): that network
    leans on noise features near the centre, and unpruned eclaire follows it there (0.88 of
    its terms on x0/x1; see docs/benchmarks.md)."""
    params = {"prune": True} if (method, name) == ("eclaire", "xor_16-8_s1") else {}
    train, test = xor_data()
    ex = get_extractor(method)(fixture_net(name), random_state=0, **params)
    ex.fit(train.X, schema=train.schema)
    used = [c.feature for r in ex.surrogate_.rules for c in r.conditions]
    assert used and np.mean([j in (0, 1) for j in used]) >= 0.9
    assert {0, 1} <= set(used)
    assert np.mean(ex.surrogate_.predict(test.X) == fixture_net(name).predict(test.X)) >= 0.9


def test_cred_on_xor_one_hidden_layer():
    """CRED needs one hidden layer: a 16-unit tanh network built from the XOR 16-8 weights'
    first layer is not trained, so use MONK-2 for accuracy and only check the shape here."""
    train, _ = xor_data()
    with pytest.raises(UnsupportedModelError, match="deepred"):
        get_extractor("cred")(fixture_net("xor_16-8_s1")).fit(train.X, schema=train.schema)


@pytest.mark.parametrize("method", METHODS)
def test_monk2_rules_against_the_truth_table(method):
    data = load_monk(2)
    network = nnrules.load(DEC / "monk2_8.onnx")
    names = list(data.feature_names)
    assert np.array_equal(network.predict(data.X_test), data.y_test)  # the network is exact
    # From the whole domain, with trees down to one case per leaf: the rules are the concept.
    unlimited = {} if method == "eclaire" else {"term_leaves": None}
    ex = get_extractor(method)(network, min_samples_leaf=1, random_state=0, **unlimited)
    rules = ex.fit(data.X_test, feature_names=names).surrogate_
    attributes = np.array(list(itertools.product(*[range(1, k + 1) for k in (3, 3, 2, 3, 4, 2)])))
    truth = monk_concept(2, attributes)
    np.testing.assert_array_equal(rules.predict(data.X_test), truth)
    for rule in rules.rules:  # every rule is sound on its own
        fired = rule.holds(data.X_test)
        assert np.all(truth[fired] == rule.output)
    # From the 169 training rows only: well above the majority class on the 432 points.
    few = get_extractor(method)(network, random_state=0)
    few.fit(data.X_train, feature_names=names)
    assert np.mean(few.surrogate_.predict(data.X_test) == truth) >= 0.7 > np.mean(truth == 0)


# -- substitution against brute force --------------------------------------------------------

def _compose(records, top, X, n_classes):
    """Evaluate the recorded intermediate rules themselves on ``X``, layer by layer.

    A term's condition ``h[j] > t`` holds where one of its "true" clauses on the layer below
    holds, ``h[j] <= t`` where one of its "false" clauses holds, recursively down to the inputs.
    Returns a boolean (n_rows, n_classes) array: which classes' output clauses hold.
    """
    pos: dict[Term, list] = {}
    neg: dict[Term, list] = {}
    out_rules = []
    for rec in records:
        if isinstance(rec.target, Term):
            (pos if rec.positive else neg).setdefault(rec.target, []).append(
                (rec.level, rec.clause))
        else:
            out_rules.append((rec.clause, int(rec.target)))
    memo: dict[tuple, np.ndarray] = {}

    def literal(level, c):
        key = (level, c)
        if key not in memo:
            book = pos if c.op == ">" else neg
            acc = np.zeros(len(X), dtype=bool)
            for lower, clause in book.get(Term(level, c.feature, c.value), []):
                acc |= holds(clause, lower)
            memo[key] = acc
        return memo[key]

    def holds(clause, level):
        ok = np.ones(len(X), dtype=bool)
        for c in clause:
            ok &= c.holds(X) if level == 0 else literal(level, c)
        return ok

    result = np.zeros((len(X), n_classes), dtype=bool)
    for clause, k in out_rules:
        result[:, k] |= holds(clause, top)
    return result


@pytest.mark.parametrize("sizes", [(2, 3, 2), (2, 5, 2), (2, 4, 3, 3)])
def test_substitution_equals_the_composition_of_intermediate_rules(tmp_path, sizes):
    """With no pruning, wherever a rule fires its class is what the intermediate rules give,
    and the rules decide the grid as the composition does wherever the composition names one
    class. Exact through one hidden layer; deeper, the trees standing in for two terms of one
    unit (``h[3] > 0.5`` and ``h[3] > 0.2``) may disagree about its value, which substitution
    treats as contradictory, so a few points may differ."""
    model = dense_mlp(mlp_weights(sizes, seed=4), head="Softmax", activation="Tanh")
    network = nnrules.load(save(model, tmp_path / "tiny.onnx"))
    X = np.random.default_rng(1).uniform(-2, 2, size=(300, 2))
    ex = get_extractor("deepred")(network, min_samples_leaf=3, min_support=0, beam=10**6,
                                  prune=False, relabel=False, generalise=None, random_state=0)
    ex.fit(X)
    g = np.linspace(-3, 3, 61)
    grid = np.array(list(itertools.product(g, g)))
    composed = _compose(ex.trace_.records, len(sizes) - 2, grid, sizes[-1])
    rules = ex.surrogate_
    fired = rules.explain(grid) >= 0
    index = rules.predict_index(grid)
    single = composed.sum(axis=1) == 1
    assert single.mean() >= 0.9
    sound = composed[fired, index[fired]]
    agree = index[single] == np.argmax(composed[single], axis=1)
    if len(sizes) == 3:  # one hidden layer: exact
        assert sound.all() and agree.all()
    else:  # simplification on the hidden layer assumes its terms are consistent; the trees
        # that stand in for them need not be, so a few grid points differ
        assert sound.mean() >= 0.97 and agree.mean() >= 0.97


# -- simplification never changes predictions ----------------------------------------------

_VALUES = (-1.0, 0.0, 0.5, 1.0)
_cond = st.builds(Condition, st.integers(0, 2), st.sampled_from(("<=", ">", "==", "!=")),
                  st.sampled_from(_VALUES))
_clause = st.lists(_cond, min_size=0, max_size=4).map(tuple)


@settings(max_examples=150, deadline=None)
@given(st.lists(_clause, min_size=1, max_size=6))
def test_simplify_dnf_is_an_equivalence(clauses):
    points = np.array(list(itertools.product((-1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 2.0),
                                             repeat=3)))
    before = np.zeros(len(points), dtype=bool)
    for c in clauses:
        before |= clause_mask(c, points)
    simple = simplify_dnf(clauses)
    after = np.zeros(len(points), dtype=bool)
    for c in simple:
        after |= clause_mask(c, points)
    np.testing.assert_array_equal(before, after)
    assert len(simple) <= len(clauses)


# -- determinism, trace, budgets --------------------------------------------------------------

@pytest.mark.parametrize("method", ("deepred", "eclaire"))
def test_same_seed_same_bytes_on_xor(method):
    train, _ = xor_data()
    a = get_extractor(method)(fixture_net("xor_16-8_s1"), random_state=5)
    a = a.fit(train.X, schema=train.schema)
    b = get_extractor(method)(fixture_net("xor_16-8_s1"), random_state=5)
    b = b.fit(train.X, schema=train.schema)
    assert serialize.dumps(a.surrogate_) == serialize.dumps(b.surrogate_)


@pytest.mark.parametrize("method", ("deepred", "eclaire"))
def test_trace_graph_links_input_clauses_to_classes(method):
    import networkx as nx

    train, _ = xor_data()
    ex = get_extractor(method)(fixture_net("xor_16-8_s1"), random_state=0)
    ex.fit(train.X, schema=train.schema)
    g = ex.to_networkx()
    classes = [n for n, d in g.nodes(data=True) if d["kind"] == "class"]
    assert sorted(g.nodes[n]["label"] for n in classes) == ["0", "1"]
    inputs = [n for n, d in g.nodes(data=True) if d["kind"] == "clause" and d["layer"] == 0]
    assert inputs
    for n in inputs:  # every input clause realises something that leads to a class
        assert any(nx.has_path(g, n, c) for c in classes)
    terms = [d for _, d in g.nodes(data=True) if d["kind"] == "term"]
    assert all(1 <= d["layer"] <= 2 and d["support"] >= 0 for d in terms)
    assert {d["relation"] for *_, d in g.edges(data=True)} <= {"realises", "used-in"}


def test_time_budget_stops_cleanly_within_one_step():
    train, test = xor_data()
    ex = get_extractor("deepred")(fixture_net("xor_64-32-16_s0"), max_seconds=0.3, min_support=0,
                                  beam=10**4, prune=False, random_state=0)
    with pytest.warns(UserWarning, match="stopped early .*max_seconds=0.3") as caught:
        ex.fit(train.X, schema=train.schema)
    assert len([w for w in caught if "stopped early" in str(w.message)]) == 1
    assert ex.partial_reason_.startswith("max_seconds=0.3")
    budget = ex.budget_
    assert budget.overrun <= budget.last_step + 1e-9
    assert budget.last_step < 1.0
    report = ex.report(test.X)
    assert 0.0 <= report.fidelity <= 1.0


def test_a_budget_so_small_that_nothing_is_learned():
    train, test = xor_data()
    # n_queries=0: with generated rows the default is the majority over them too
    ex = get_extractor("eclaire")(fixture_net("xor_16-8_s1"), max_seconds=1e-9, n_queries=0,
                                  random_state=0)
    with pytest.warns(UserWarning, match="stopped early"):
        ex.fit(train.X, schema=train.schema)
    assert ex.surrogate_.rules == () and ex.partial_reason_
    labels = fixture_net("xor_16-8_s1").predict(train.X)
    majority = np.bincount(labels).argmax()
    assert np.all(ex.surrogate_.predict(test.X) == majority)


@pytest.mark.parametrize("method", ("deepred", "eclaire"))
def test_rule_and_term_budgets_hold(method):
    train, _ = xor_data()
    with pytest.warns(UserWarning, match="max_rules=2"):
        ex = get_extractor(method)(fixture_net("xor_64-32-16_s0"), max_rules=2, generalise=None,
                                   random_state=0).fit(train.X, schema=train.schema)
    assert len(ex.surrogate_.rules) <= 2 and ex.partial_reason_ == "max_rules=2 reached"
    with pytest.warns(UserWarning, match="max_terms=3"):
        ex = get_extractor(method)(fixture_net("xor_64-32-16_s0"), max_terms=3,
                                   random_state=0).fit(train.X, schema=train.schema)
    assert ex.n_terms_ <= 3


# -- input pruning ------------------------------------------------------------------------------

def test_prune_inputs_keeps_what_the_network_reads():
    train, _ = xor_data()
    pruned = prune_inputs(fixture_net("xor_64-32-16_s0"), train.X, tolerance=0.01)
    assert {0, 1} <= set(pruned.kept) and len(pruned.dropped) >= 6
    assert pruned.joint_change <= 0.01
    changed = np.mean(fixture_net("xor_64-32-16_s0").predict(
        np.where(np.isin(np.arange(10), pruned.dropped), np.median(train.X, axis=0), train.X))
        != fixture_net("xor_64-32-16_s0").predict(train.X))
    assert changed == pytest.approx(pruned.joint_change)
    with pytest.raises(ParameterError, match="tolerance"):
        prune_inputs(fixture_net("xor_64-32-16_s0"), train.X, tolerance=1.5)


# -- bad input ------------------------------------------------------------------------------------

def test_no_hidden_layer(tmp_path):
    model = dense_mlp(mlp_weights((3, 2), seed=0), head="Softmax")
    network = nnrules.load(save(model, tmp_path / "logistic.onnx"))
    X = np.random.default_rng(0).normal(size=(50, 3))
    for method in METHODS:
        with pytest.raises(UnsupportedModelError, match="no hidden layer"):
            get_extractor(method)(network).fit(X)


def test_recurrent_network_is_refused():
    network = nnrules.load(FIX / "tomita" / "tomita2_gru.onnx")
    with pytest.raises(UnsupportedModelError, match="trepan"):
        get_extractor("eclaire")(network).fit(np.zeros((4, 2)))


def test_conv_layer_is_refused(tmp_path):
    W = numpy_helper.from_array(np.ones((2, 1, 1), dtype=np.float32), "W")
    G = numpy_helper.from_array(np.ones((8, 2), dtype=np.float32), "G")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["X", "W"], ["c"], name="conv0"),
         helper.make_node("Flatten", ["c"], ["f"], name="flat"),
         helper.make_node("Relu", ["f"], ["r"], name="relu"),
         helper.make_node("Gemm", ["r", "G"], ["z"], name="gemm"),
         helper.make_node("Softmax", ["z"], ["Y"], name="head", axis=-1)],
        "conv", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 1, 4])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])], [W, G])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "conv.onnx"
    onnx.save(model, path)
    network = nnrules.load(path)
    with pytest.raises(UnsupportedModelError, match=r"'Conv'.*conv0.*--method tree"):
        get_extractor("deepred")(network).fit(np.zeros((4, 4)))


def test_max_rules_zero_is_a_parameter_error():
    train, _ = xor_data()
    for method in METHODS:
        with pytest.raises(ParameterError, match="'max_rules' parameter .* Got 0"):
            get_extractor(method)(fixture_net("xor_16-8_s1"), max_rules=0).fit(train.X)


def test_one_class_data_is_a_data_error():
    train, _ = xor_data()
    quadrant = train.X[(train.X[:, 0] < 0.4) & (train.X[:, 1] < 0.4)]
    assert len(np.unique(fixture_net("xor_16-8_s1").predict(quadrant))) == 1
    for method in ("deepred", "eclaire"):
        with pytest.raises(DataError, match="nothing to tell apart"):
            get_extractor(method)(fixture_net("xor_16-8_s1")).fit(quadrant, schema=train.schema)


def test_black_box_and_regression_are_refused():
    train, _ = xor_data()
    with pytest.raises(UnsupportedModelError, match="not an nnrules Network"):
        get_extractor("eclaire")(lambda X: (X[:, 0] > 0.5).astype(int)).fit(train.X)
    network = nnrules.load(FIX / "graph_skl_reg_tanh.onnx")
    with pytest.raises(UnsupportedModelError, match="regression"):
        get_extractor("eclaire")(network).fit(np.random.default_rng(0).normal(size=(30, 10)))
