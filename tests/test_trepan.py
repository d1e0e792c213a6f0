"""TREPAN: recovers MONK's concepts from their networks, beats CART at equal size, fails clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nnrules.datasets import load_monk, monk_attributes, monk_concept, tabular_split
from nnrules.exceptions import OracleError, ParameterError, SchemaError
from nnrules.extract import get_extractor
from nnrules.extract.tree import TreeExtractor
from nnrules.extract.trepan import TrepanExtractor
from nnrules.io.model import load
from nnrules.schema import FeatureSchema
from nnrules.surrogates.rules import Condition, MofN

FIXTURES = Path(__file__).parent / "fixtures"
A = monk_attributes()


def _fit_monk(problem, **params):
    d = load_monk(problem)
    net = load(FIXTURES / "monks" / f"monk{problem}.onnx")
    ex = TrepanExtractor(net, random_state=0, **params).fit(d.X_train, feature_names=d.feature_names)
    return d, net, ex


def _attributes_used(tree, schema):
    used = set()
    for t in tree.tests:
        if t is not None:
            for c in t.conditions if isinstance(t, MofN) else (t,):
                used.add(schema.features[c.feature].group)
    return used


def _leaf_regions(tree, X):
    """Leaf -> boolean mask of the domain rows it decides, and the leaf's class."""
    leaves = tree.apply(X)
    return {int(i): (leaves == i, tree.value[i].argmax()) for i in np.unique(leaves)}


def test_registry_names_trepan():
    assert get_extractor("trepan") is TrepanExtractor
    assert TrepanExtractor.method == "trepan" and TrepanExtractor.family == "pedagogical"


def test_monk1_tree_is_the_concept():
    d, net, ex = _fit_monk(1)
    tree = ex.surrogate_
    reference = net.predict(d.X_test)
    assert np.array_equal(reference, monk_concept(1, A))  # the network is the concept
    assert np.mean(tree.predict(d.X_test) == reference) == 1.0
    assert _attributes_used(tree, ex.schema_) == {"a1", "a2", "a5"}
    # Every class-1 leaf is one disjunct of (a1 = a2) or (a5 = 1): a5 = 1, or a1 = a2 = k.
    atoms = [A[:, 4] == 1] + [(A[:, 4] != 1) & (A[:, 0] == k) & (A[:, 1] == k) for k in (1, 2, 3)]
    ones = [mask for mask, cls in _leaf_regions(tree, d.X_test).values() if cls == 1]
    assert sorted(m.tobytes() for m in ones) == sorted(m.tobytes() for m in atoms)
    assert tree.complexity()["leaves"] == 5
    text = tree.to_text()
    assert "a5 == 1" in text and "a1 == 2 and a2 == 2" in text
    # The rule view reads as the concept: (a1 = a2) or (a5 = 1), and nothing else.
    assert tree.to_rules().to_text().splitlines() == [
        "IF a5 == 1 THEN 1", "IF a1 == 3 and a2 == 3 THEN 1", "IF a1 == 1 and a2 == 1 THEN 1",
        "IF a1 == 2 and a2 == 2 THEN 1", "DEFAULT 0"]
    assert tree.complexity()["conditions"] == 7


def test_monk2_needs_and_finds_mofn_tests():
    d, net, ex = _fit_monk(2)
    tree = ex.surrogate_
    reference = net.predict(d.X_test)
    assert np.mean(tree.predict(d.X_test) == reference) >= 0.97
    firsts = (A == 1).sum(axis=1)
    # The root reads "at least 3 of {a1 == 1, ..., a6 == 1}" (or its complement "at least 2").
    root = tree.tests[0]
    assert isinstance(root, MofN) and len(root.conditions) == 6
    holds = root.holds(d.X_test)
    assert np.array_equal(holds, firsts >= 3) or np.array_equal(holds, firsts >= 2)
    assert "at least 2 of {a1 == 1, a2 == 1, a3 == 1, a4 == 1, a5 == 1, a6 == 1}" in tree.to_text()
    # Exactly two first values <=> class 1, as a whole.
    assert np.array_equal(tree.predict(d.X_test), (firsts == 2).astype(int))
    # Without m-of-n tests the same leaf budget does markedly worse.
    _, _, plain = _fit_monk(2, mofn=False)
    assert np.mean(plain.surrogate_.predict(d.X_test) == reference) < 0.9


def test_monk3_tree_is_the_concept_plus_the_networks_exception():
    d, net, ex = _fit_monk(3)
    tree = ex.surrogate_
    reference = net.predict(d.X_test)
    assert np.mean(tree.predict(d.X_test) == reference) >= 0.98
    # The root separates the main disjunct: a2 = 3 or a5 = 4 (class 0 unless the exception).
    assert np.array_equal(tree.tests[0].holds(d.X_test), (A[:, 1] == 3) | (A[:, 4] == 4))
    # The tree differs from the concept exactly where the network does (a1=2,a2=3,a3=1,a4=1,a5=3).
    concept = monk_concept(3, A)
    network_exception = np.flatnonzero(reference != concept)
    assert network_exception.tolist() == [244, 245]
    assert np.array_equal(np.flatnonzero(tree.predict(d.X_test) != concept), network_exception)
    assert _attributes_used(tree, ex.schema_) <= {"a1", "a2", "a3", "a4", "a5"}
    # The rule view: the concept's two disjuncts, the first carrying the network's exception.
    assert tree.to_rules().to_text().splitlines() == [
        "IF a4 == 1 and a5 == 3 and (a1 != 2 or a3 != 1) THEN 1",
        "IF a2 != 3 and a5 != 4 THEN 1", "DEFAULT 0"]


def test_nodes_with_too_few_real_rows_are_not_split():
    """MONK-3's network exception is split off a node of 4 real rows: min_real=5 forbids it."""
    d, _, ex = _fit_monk(3, min_real=5)
    tree = ex.surrogate_
    internal = [i for i, t in enumerate(tree.tests) if t is not None]
    assert min(tree.n_node_samples[i] for i in internal) >= 5
    concept = monk_concept(3, A)
    assert np.array_equal(tree.predict(d.X_test), concept)  # the exception is lost
    _, _, loose = _fit_monk(3, min_real=0)
    small = [i for i, t in enumerate(loose.surrogate_.tests)
             if t is not None and loose.surrogate_.n_node_samples[i] < 5]
    assert small  # without the rule some split is decided on fewer than 5 real rows


def test_mofn_text_and_sympy_agree_with_predict():
    import sympy

    d, _, ex = _fit_monk(2)
    tree = ex.surrogate_
    rules = tree.to_rules().to_text()
    assert "at least" in rules
    form = tree.to_sympy()
    symbols = list(tree.symbols())
    from nnrules.surrogates.indicator import Indicator

    # m-of-n reads as a threshold on a sum of indicators.
    assert any(isinstance(a, Indicator) for a in sympy.preorder_traversal(
        next(iter(form.values())) if isinstance(form, dict) else form))
    from sympy_check import sympy_predict

    assert np.array_equal(sympy_predict(tree, d.X_test), tree.predict(d.X_test))
    assert len(symbols) == 17


def test_same_seed_same_tree():
    _, _, a = _fit_monk(3)
    _, _, b = _fit_monk(3)
    assert a.surrogate_.to_dict() == b.surrogate_.to_dict()


@pytest.fixture(scope="module")
def tabular_results():
    out = {}
    for name in ("breast_cancer", "wine", "digits"):
        s = tabular_split(name)
        net = load(FIXTURES / "tabular" / f"{name}.onnx")
        reference = net.predict(s.X_test)

        def fidelity(ex, s=s, reference=reference):
            return float(np.mean(ex.surrogate_.predict(s.X_test) == reference))

        fit = {"X": s.X_train, "feature_names": s.feature_names}
        tree = TreeExtractor(net, max_leaves=16, random_state=0).fit(**fit)
        trepan = TrepanExtractor(net, max_leaves=16, random_state=0).fit(**fit)
        no_queries = TrepanExtractor(net, max_leaves=16, n_queries=0, random_state=0).fit(**fit)
        # CART may stop early with pure leaves: compare at its actual size as well.
        size = tree.surrogate_.complexity()["leaves"]
        same_size = TrepanExtractor(net, max_leaves=size, random_state=0).fit(**fit)
        out[name] = {
            "tree": fidelity(tree), "trepan": fidelity(trepan), "no_queries": fidelity(no_queries),
            "same_size": fidelity(same_size),
            "leaves": (tree.surrogate_.complexity()["leaves"],
                       trepan.surrogate_.complexity()["leaves"]),
            "queries": (trepan.n_queries_ - s.X_train.shape[0],
                        no_queries.n_queries_ - s.X_train.shape[0]),
        }
    return out


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_trepan_at_least_as_faithful_as_cart_at_equal_size(tabular_results, name):
    r = tabular_results[name]
    assert max(r["leaves"]) <= 16
    assert r["trepan"] >= r["tree"]
    assert r["same_size"] >= r["tree"]


@pytest.mark.parametrize("name", ["breast_cancer", "wine", "digits"])
def test_queries_do_not_lower_held_out_fidelity(tabular_results, name):
    r = tabular_results[name]
    assert r["queries"][1] == 0 < r["queries"][0]
    assert r["trepan"] >= r["no_queries"]


def test_query_budget_is_respected():
    d = load_monk(1)
    net = load(FIXTURES / "monks" / "monk1.onnx")
    ex = TrepanExtractor(net, n_queries=150, random_state=0).fit(d.X_train,
                                                                 feature_names=d.feature_names)
    assert ex.n_queries_ <= d.X_train.shape[0] + 150
    assert ex.n_generated_ <= 150


def test_one_leaf_budget_gives_the_majority():
    d, _, ex = _fit_monk(2, max_leaves=1)
    assert ex.surrogate_.complexity()["leaves"] == 1
    assert np.all(ex.surrogate_.predict(d.X_test) == 0)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"max_leaves": 0}, "'max_leaves'.*in \\[1, inf\\)"),
     ({"beam_width": 0}, "'beam_width'.*in \\[1, inf\\)"),
     ({"min_samples": 0}, "'min_samples'"),
     ({"sampler": "uniform"}, "'sampler'.*'perturb'"),
     ({"stop_error": 1.5}, "'stop_error'"),
     ({"min_gain_ratio": -0.1}, "'min_gain_ratio'.*in \\[0, inf\\)"),
     ({"min_real": -1}, "'min_real'.*in \\[0, inf\\)")],
)
def test_bad_parameters_are_clear_errors(params, match):
    d = load_monk(1)
    net = load(FIXTURES / "monks" / "monk1.onnx")
    with pytest.raises(ParameterError, match=match):
        TrepanExtractor(net, **params).fit(d.X_train, feature_names=d.feature_names)


def test_schema_contradicting_the_data_is_refused():
    d = load_monk(1)
    schema = FeatureSchema.infer(d.X_train, d.feature_names)
    X = d.X_train.copy()
    X[3, schema.index("a2_3")] = 1.0  # a second hot column in group a2
    net = load(FIXTURES / "monks" / "monk1.onnx")
    with pytest.raises(SchemaError, match="'a2'.*exactly one column.*row 3"):
        TrepanExtractor(net).fit(X, schema=schema)


def test_network_answering_nan_on_a_query_is_an_oracle_error():
    d = load_monk(1)
    known = {r.tobytes() for r in d.X_train}

    def black_box(X):  # fine on the real rows, NaN on every generated one
        X = np.asarray(X, dtype=np.float64)
        ok = np.array([r.tobytes() in known for r in X])
        return np.where(ok, monk_concept(1, np.argmax(X.reshape(len(X), -1)[:, :3], 1)[:, None]
                                         .repeat(6, 1) + 1), np.nan)

    with pytest.raises(OracleError, match="NaN"):
        TrepanExtractor(black_box, random_state=0).fit(d.X_train, feature_names=d.feature_names)


def test_regression_network_is_refused():
    X = np.random.default_rng(0).normal(size=(50, 2))
    ex = TrepanExtractor(lambda X: X[:, 0] * 2.0)
    ex.task = "regression"
    with pytest.raises(ParameterError, match="trepan explains classifiers"):
        ex.fit(X)


def test_condition_and_mofn_nodes_only():
    _, _, ex = _fit_monk(3)
    for t in ex.surrogate_.tests:
        assert t is None or isinstance(t, (Condition, MofN))
