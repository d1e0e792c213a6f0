"""Setiono's activation clustering (``setiono``).

Ground truth (MONK-1 and MONK-3 rules are the concepts on all 432 points; MONK-2 fidelity), the
clustering's tolerance on the rows it was tuned on, the hidden-state table against the network
fed with the centres, substitution against brute force on tiny networks, the prime cover, a plain
(unpenalised) network, budgets, determinism and every bad input.
"""

from __future__ import annotations

import itertools
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from decompositional_fixtures import german_data
from onnx_builders import dense_mlp, mlp_weights, save

import nnrules
from nnrules.datasets import load_monk, tabular_split
from nnrules.exceptions import DataError, ParameterError, UnsupportedModelError
from nnrules.extract import get_extractor
from nnrules.extract.decompose.cluster import greedy_centres, kmeans_centres
from nnrules.extract.decompose.cover import cover
from nnrules.extract.decompose.state_labels import held_out_lookup
from nnrules.io import serialize

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "tests" / "fixtures" / "setiono"
Setiono = get_extractor("setiono")


@cache
def _net(name):
    return nnrules.load(SET / f"{name}.onnx")


@cache
def _monk_fit(name, **params):
    d = load_monk(int(name[4]))
    return Setiono(_net(name), random_state=0, **params).fit(
        d.X_train, feature_names=list(d.feature_names)), d


@cache
def _bc():
    d = tabular_split("breast_cancer")
    return d.X_train, d.X_test, list(d.feature_names)


# -- ground truth ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["monk1_h3", "monk1_h5", "monk3_h3", "monk3_h5"])
def test_monk1_and_monk3_rules_are_the_concepts(name):
    ex, d = _monk_fit(name)
    assert ex.partial_reason_ is None and ex.exact_
    assert np.array_equal(ex.surrogate_.predict_index(d.X_test), d.y_test)
    assert len(ex.surrogate_.rules) <= 3


def test_monk3_reads_as_its_concept():
    ex, _ = _monk_fit("monk3_h3")
    assert ex.surrogate_.to_text().splitlines() == [
        "IF a2 != 3 and a5 != 4 THEN 1", "ELSE IF a4 == 1 and a5 == 3 THEN 1", "ELSE 0"]


def test_clustering_short_of_the_tolerance_is_recovered_by_the_network_labelled_table():
    """monk1_h3_s3 computes MONK-1's concept; no four clusters of one unit keep the training
    predictions within the tolerance, but the table labelled by the network's answers does,
    and its rules are the concept: not a partial result."""
    ex, d = _monk_fit("monk1_h3_s3")
    cluster, table = ex.stages_[1], ex.stages_[2]
    assert cluster["change"] > ex.tolerance and table["labels"] == "network"
    X = d.X_train
    assert np.mean(ex.discretised_predict_index(X) != ex.pruned_net_.predict(X)) <= ex.tolerance
    assert table["change"] <= ex.tolerance and table["held_out_change"] <= ex.tolerance
    assert ex.partial_reason_ is None and ex.exact_
    assert np.array_equal(ex.surrogate_.predict_index(d.X_test), d.y_test)


def test_monk2_fidelity():
    ex, d = _monk_fit("monk2_h4")
    fid = np.mean(ex.surrogate_.predict_index(d.X_test) == _net("monk2_h4").predict(d.X_test))
    assert fid >= 0.97
    # the network computes "exactly two attributes are 1": its 15 minterms, no fewer
    assert len(ex.surrogate_.rules) == 15


# -- stages ---------------------------------------------------------------------------------

@pytest.mark.parametrize("tolerance", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("clustering", ["greedy", "kmeans"])
def test_clustering_stays_within_the_tolerance_on_its_rows(tolerance, clustering):
    X, _, names = _bc()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        ex = Setiono(_net("breast_cancer_h3"), tolerance=tolerance, clustering=clustering,
                     random_state=0).fit(X, feature_names=names)
    changed = np.mean(ex.net_.predict_discrete(X) != ex.pruned_net_.predict(X))
    # what the rules describe: the table, labelled by the network when the clustering missed
    described = np.mean(ex.discretised_predict_index(X) != ex.pruned_net_.predict(X))
    if ex.partial_reason_ and ex.partial_reason_.startswith("cluster"):
        # the stage says it could not, and by how much
        assert f"changes {changed:.3f}" in ex.partial_reason_
        assert described > tolerance
        assert max(ex.stages_[1]["clusters"]) <= ex.max_clusters
    else:
        assert described <= tolerance
    pruned = np.mean(ex.pruned_net_.predict(X) != ex.oracle_.predict_index(X))
    assert pruned <= tolerance + 1e-12


@pytest.mark.parametrize("name", ["monk1_h3", "breast_cancer_h3"])
def test_table_equals_the_network_fed_with_centres(name):
    if name.startswith("monk"):
        d = load_monk(1)
        X, names = d.X_train, list(d.feature_names)
    else:
        X, _, names = _bc()
    ex = Setiono(_net(name), prune=False, random_state=0).fit(X, feature_names=names)
    out = _net(name).layers.layers[2]  # the original output layer
    units, states, cls = ex.table_["units"], ex.table_["states"], ex.table_["classes"]
    sizes = [ex.clusters_[j].n_clusters for j in units]
    assert ex.partial_reason_ is None and ex.table_["labels"] == "centres"  # saturated
    assert ex.table_["complete"] and len(states) == int(np.prod(sizes))
    assert len({tuple(s) for s in states}) == len(states)
    H = np.zeros((len(states), len(ex.clusters_)))
    for j, c in ex.dropped_centres_.items():
        H[:, j] = c
    for a, j in enumerate(units):
        H[:, j] = np.asarray(ex.clusters_[j].centres)[states[:, a]]
    Z = out(H)
    expected = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else np.argmax(Z, axis=1)
    assert np.array_equal(cls, expected)
    # the hidden DNF decides every combination as the table does
    assert np.array_equal(ex.hidden_predict_index(H), cls)


def _tiny(tmp_path, names, seed_from):
    for seed in range(seed_from, seed_from + 50):
        model = dense_mlp(mlp_weights((len(names), 2, 2), seed=seed), head="Softmax",
                          activation="Tanh")
        path = save(model, tmp_path / f"tiny{seed}.onnx")
        net = nnrules.load(path)
        yield net


def _onehot_points():
    rows = []
    for g, b0, b1 in itertools.product(range(3), (0, 1), (0, 1)):
        rows.append([float(g == 0), float(g == 1), float(g == 2), b0, b1])
    return np.array(rows)


def test_substitution_equals_brute_force_on_tiny_discrete_networks(tmp_path):
    """Every input point of a tiny one-hot + binary network: the rules decide it as the
    pruned, discretised network does (exact enumeration, substitution, re-minimisation)."""
    names = ["g_a", "g_b", "g_c", "b0", "b1"]
    X = _onehot_points()
    checked = 0
    for net in _tiny(tmp_path, names, 0):
        if len(np.unique(net.predict(X))) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ex = Setiono(net, prune=False, tolerance=0.0, random_state=0).fit(
                X, feature_names=names)
        assert ex.exact_
        assert np.array_equal(ex.surrogate_.predict_index(X), ex.discretised_predict_index(X))
        checked += 1
        if checked == 5:
            break
    assert checked == 5


def test_single_input_units_give_exact_thresholds(tmp_path):
    """Each hidden unit reads one continuous input: its cluster conditions are thresholds and
    the rules equal the discretised network on a dense grid (boundaries aside)."""
    W1 = np.array([[1.5, 0.0], [0.0, -2.0]], dtype=np.float32)  # (in, out) for MatMul
    b1 = np.array([0.2, -0.1], dtype=np.float32)
    W2 = np.array([[2.0, -2.0], [1.0, 1.5]], dtype=np.float32)
    b2 = np.array([0.1, -0.1], dtype=np.float32)
    model = dense_mlp([(W1, b1), (W2, b2)], head="Softmax", activation="Tanh")
    net = nnrules.load(save(model, tmp_path / "axis.onnx"))
    X = np.random.default_rng(0).uniform(-2, 2, size=(400, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # four clusters per unit may not meet the tolerance
        ex = Setiono(net, prune=False, random_state=0).fit(X)
    assert ex.exact_
    g = np.linspace(-3, 3, 121) + 1e-3
    grid = np.array(list(itertools.product(g, g)))
    assert np.array_equal(ex.surrogate_.predict_index(grid), ex.discretised_predict_index(grid))


def test_trace_links_input_clauses_to_classes():
    import networkx as nx

    X, _, names = _bc()
    ex = Setiono(_net("breast_cancer_h3"), random_state=0).fit(X, feature_names=names)
    g = ex.to_networkx()
    classes = [n for n, d in g.nodes(data=True) if d["kind"] == "class"]
    inputs = [n for n, d in g.nodes(data=True) if d["kind"] == "clause" and d["layer"] == 0]
    hidden = [n for n, d in g.nodes(data=True) if d["kind"] == "clause" and d["layer"] == 1]
    assert inputs and len(hidden) == len(ex.hidden_rules_)
    for n in inputs:
        assert any(nx.has_path(g, n, c) for c in classes)


# -- the pieces ------------------------------------------------------------------------------

def test_cover_is_exact_on_random_functions():
    rng = np.random.default_rng(0)
    sizes = (3, 2, 4)
    D = np.array(list(itertools.product(*[range(s) for s in sizes])))
    for _ in range(30):
        on = rng.random(len(D)) < 0.4
        for ordered in (None, (True, True, True)):
            cubes = cover(D, on, sizes=sizes, ordered=ordered)
            got = np.zeros(len(D), dtype=bool)
            for cube in cubes:
                got |= np.all([np.isin(D[:, a], list(s)) for a, s in enumerate(cube)], axis=0)
                if ordered:
                    assert all(max(s) - min(s) + 1 == len(s) for s in cube)
            assert np.array_equal(got, on)


def test_cover_finds_the_minimum_for_monk1():
    from nnrules.datasets import monk_attributes

    A = monk_attributes() - 1
    on = (A[:, 0] == A[:, 1]) | (A[:, 4] == 0)
    assert len(cover(A, on, sizes=(3, 3, 2, 3, 4, 2))) == 4


def test_held_out_lookup_labels_a_row_by_the_others():
    D = np.array([[0, 0], [0, 1], [1, 0]])
    # combination (0,0): rows 0-2 answer 1, 1, 0; (0,1): row 3 alone; (1,1): not in D
    observed = np.array([[0, 0], [0, 0], [0, 0], [0, 1], [1, 1]])
    labels = np.array([1, 1, 0, 1, 1])
    centred = np.array([0, 0, 0, 0, 0])
    held = held_out_lookup(D, observed, labels, centred, 2)
    # row 0: the others say 1, 0 (a tie: the centre-fed 0); row 2: the others say 1, 1;
    # row 3 alone and row 4 outside D: the centres
    assert held.tolist() == [0, 0, 1, 0, 0]


def test_clusterings():
    a = np.array([-0.99, -0.97, -0.95, 0.01, 0.03, 0.96, 0.98])
    assert greedy_centres(a, 0.1) == pytest.approx((-0.97, 0.02, 0.97))
    assert greedy_centres(a, 5.0) == pytest.approx((float(np.mean(a)),))
    assert greedy_centres(a[::-1], 0.1) == greedy_centres(a, 0.1)
    assert kmeans_centres(a, 3) == pytest.approx((-0.97, 0.02, 0.97))


# -- plain networks, budgets, determinism -----------------------------------------------------

def test_a_plain_network_ends_with_a_clear_partial_report():
    """MONK-2 net of 12 sigmoid units trained without a penalty: the clustering stage cannot
    meet the tolerance; the method still ends with rules, one warning naming the stage."""
    d = load_monk(2)
    net = nnrules.load(ROOT / "tests" / "fixtures" / "decompositional" / "monk2_12.onnx")
    with pytest.warns(UserWarning, match="setiono: partial result .*cluster: units") as caught:
        ex = Setiono(net, random_state=0, max_seconds=30).fit(
            d.X_train, feature_names=list(d.feature_names))
    assert len(caught) == 1
    assert ex.partial_reason_.startswith("cluster:")
    assert ex.surrogate_.rules and ex.fit_seconds_ < 40


def test_budgets_hold():
    X, _, names = _bc()
    with pytest.warns(UserWarning, match="max_rules=1 reached"):
        ex = Setiono(_net("breast_cancer_h3"), max_rules=1, random_state=0).fit(
            X, feature_names=names)
    assert len(ex.surrogate_.rules) == 1
    with pytest.warns(UserWarning, match="max_seconds"):
        ex = Setiono(_net("breast_cancer_h3"), max_seconds=1e-9, random_state=0).fit(
            X, feature_names=names)
    assert ex.partial_reason_.startswith("prune: max_seconds")


def test_same_seed_same_bytes():
    X, _, names = _bc()
    a = Setiono(_net("breast_cancer_h3"), random_state=4).fit(X, feature_names=names)
    b = Setiono(_net("breast_cancer_h3"), random_state=4).fit(X, feature_names=names)
    assert serialize.dumps(a.surrogate_) == serialize.dumps(b.surrogate_)
    assert not a.exact_  # the continuous path (trees on jittered rows) is the seeded one


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("tolerance", [1.0, -0.1, 2])
def test_tolerance_outside_the_unit_interval(tolerance):
    X, _, names = _bc()
    with pytest.raises(ParameterError, match=r"'tolerance' parameter .* in \[0, 1\)"):
        Setiono(_net("breast_cancer_h3"), tolerance=tolerance).fit(X, feature_names=names)


def test_more_hidden_units_than_the_combination_cap():
    d = load_monk(1)
    with pytest.raises(ParameterError, match="5 hidden units, more than max_combinations=4"):
        Setiono(_net("monk1_h5"), max_combinations=4).fit(
            d.X_train, feature_names=list(d.feature_names))


def test_one_class_and_deep_networks_are_refused():
    d = load_monk(1)
    net = _net("monk1_h3")
    one = d.X_test[net.predict(d.X_test) == 1]
    with pytest.raises(DataError, match="nothing to tell apart"):
        Setiono(net).fit(one, feature_names=list(d.feature_names))
    X, _, names = _bc()
    deep = nnrules.load(ROOT / "tests" / "fixtures" / "tabular" / "breast_cancer.onnx")
    with pytest.raises(UnsupportedModelError, match="one hidden layer"):
        Setiono(deep).fit(X, feature_names=names)


# -- oblique conditions (oblique=True) -------------------------------------------------------

@cache
def _bc_oblique(name):
    X, _, names = _bc()
    return Setiono(_net(name), oblique=True, random_state=0).fit(X, feature_names=names)


@pytest.mark.parametrize("name", ["breast_cancer_h3", "breast_cancer_h4"])
def test_oblique_rules_decide_as_the_discretised_network(name):
    from nnrules.surrogates.rules import LinearCondition

    ex = _bc_oblique(name)
    X, X_test, _ = _bc()
    rules = ex.surrogate_
    assert ex.exact_ and ex.partial_reason_ is None
    assert any(isinstance(t, LinearCondition) for r in rules.rules for t in r.conditions)
    rng = np.random.default_rng(1)  # exact everywhere, not only on data rows
    box = X.min(axis=0) + rng.random((5000, X.shape[1])) * np.ptp(X, axis=0)
    for rows in (X, X_test, box):
        assert np.array_equal(rules.predict_index(rows), ex.discretised_predict_index(rows))
    # the goal: held-out fidelity >= 0.95 with at most 10 rules
    net = _net(name)
    assert len(rules.rules) <= 10
    assert np.mean(rules.predict(X_test) == net.predict(X_test)) >= 0.95


def test_oblique_rules_round_trip_and_export_exactly():
    from test_export import run_onnx, run_python

    ex = _bc_oblique("breast_cancer_h3")
    _, X_test, _ = _bc()
    text = serialize.dumps(ex.surrogate_)
    back = serialize.loads(text)
    assert serialize.dumps(back) == text
    rng = np.random.default_rng(0)
    rows = np.vstack([X_test, X_test * rng.uniform(0.9, 1.1, X_test.shape)])
    rows = rows.astype(np.float32).astype(np.float64)
    ref = [v.item() for v in back.predict(rows)]
    assert run_python(back, rows) == ref
    out, _ = run_onnx(back, rows.astype(np.float32))
    assert out["label"].tolist() == ref
    assert len(set(ref)) == 2


def test_report_carries_the_stages_and_round_trips():
    ex = _bc_oblique("breast_cancer_h3")
    X, X_test, _ = _bc()
    report = ex.report(X_test)
    stages = report.details["stages"]
    assert [s["stage"] for s in stages] == ["prune", "cluster", "table", "rules"]
    prune, cluster, _, rules = stages
    assert prune["inputs_before"] == 30
    assert prune["inputs_pruned"] == 30 - prune["inputs_kept"] > 0
    assert prune["connections_pruned"] == prune["connections_before"] - \
        prune["connections_kept"] > 0
    assert cluster["clusters"] == [0 if c is None else c.n_clusters for c in ex.clusters_]
    assert rules["rules"] == len(ex.surrogate_.rules) and rules["oblique_conditions"] > 0
    # ground truth: the last stage's fidelity is the rules' agreement on the training rows
    net = _net("breast_cancer_h3")
    assert rules["fidelity"] == float(np.mean(ex.surrogate_.predict(X) == net.predict(X)))
    text = serialize.dumps(report)  # validated against nnrules/io/schemas/report.json
    back = serialize.loads(text)
    assert back.details["stages"] == stages and serialize.dumps(back) == text
    assert "| rules | exact True, oblique conditions" in report.to_markdown()


# -- the real German credit data (UCI; tests/fixtures/setiono/german_*) -----------------------

def test_german_split_is_the_stratified_70_30_of_the_original_rows():
    import json

    split = json.loads((SET / "german_split.json").read_text())
    train, test = german_data()
    rows = split["train_rows"] + split["test_rows"]
    assert sorted(rows) == list(range(1000)) and len(split["test_rows"]) == 300
    assert (len(train.X), len(test.X)) == (700, 300)
    # German credit has 300 bad of 1,000: stratified, so exactly 90 of the 300 held-out rows
    assert int(np.sum(test.y)) == 90 and int(np.sum(train.y)) == 210
    names = list(train.schema.names)
    for group in ("checking_account", "purpose", "savings", "foreign_worker"):
        cols = [i for i, n in enumerate(names) if n.startswith(group + "_")]
        assert np.all(np.vstack([train.X, test.X])[:, cols].sum(axis=1) == 1)


@pytest.mark.parametrize("name", ["german_h3", "german_h4_s1"])
def test_real_german_oblique_rules_are_the_discretised_network(name):
    """On the real data the clustering stage may stop short of the tolerance (a partial report
    naming it), but the oblique rules still decide exactly as the discretised network, on data
    rows and off them, within the default time budget."""
    train, test = german_data()
    net = _net(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = Setiono(net, oblique=True, random_state=0).fit(
            train.X, feature_names=list(train.schema.names))
    assert ex.exact_ and ex.fit_seconds_ < 60
    assert ex.partial_reason_ is None or ex.partial_reason_.startswith(("cluster:", "linear:"))
    rules = ex.surrogate_
    rng = np.random.default_rng(2)
    box = np.round(train.X.min(axis=0) + rng.random((3000, train.X.shape[1]))
                   * np.ptp(train.X, axis=0))
    for rows in (train.X, test.X, box):
        assert np.array_equal(rules.predict_index(rows), ex.discretised_predict_index(rows))
    # better than the network's own majority class on the held-out rows
    y_net = net.predict(test.X)
    majority = max(np.mean(y_net == c) for c in np.unique(y_net))
    assert np.mean(rules.predict(test.X) == y_net) > majority


FAST = {"mofn": False, "queries": 0}  # the clustering stage is under test, not the boundaries


def test_an_unsaturated_network_is_named_and_gets_the_less_changing_clustering(monkeypatch):
    """german_h4_s1's tanh units are not saturated: greedy clustering changes ~20% of the
    training predictions. k-means is tried too; the kept clustering changes no more than
    either one alone, the stage names it, and the one warning says the units are not saturated
    and points to eclaire / tree."""
    train, _ = german_data()
    net, names = _net("german_h4_s1"), list(train.schema.names)
    changes = {}
    with monkeypatch.context() as m:  # each clustering alone (no fallback)
        m.setattr("nnrules.extract.decompose.setiono_cluster.UNSATURATED_CHANGE", 1.0)
        for how in ("greedy", "kmeans"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                alone = Setiono(net, linear_units="never", clustering=how, random_state=0, **FAST).fit(
                    train.X, feature_names=names)
            changes[how] = next(s["change"] for s in alone.stages_ if s["stage"] == "cluster")
    assert changes["greedy"] > 0.05
    with pytest.warns(UserWarning, match="not saturated.*--method eclaire") as caught:
        ex = Setiono(net, linear_units="never", random_state=0, **FAST).fit(train.X, feature_names=names)
    assert len(caught) == 1
    stage = next(s for s in ex.stages_ if s["stage"] == "cluster")
    assert [s["stage"] for s in ex.stages_] == ["prune", "cluster", "table", "rules"]
    assert stage["change"] == min(changes.values())
    assert stage["clustering"] == min(changes, key=lambda k: (changes[k], k != "greedy"))
    disc = ex.net_.predict_discrete(train.X)
    assert np.mean(disc != ex.pruned_net_.predict(train.X)) == pytest.approx(stage["change"])
    assert ex.partial_reason_.startswith("cluster:") and "not saturated" in ex.partial_reason_
    assert "--param mixed_conditions=48" in ex.partial_reason_  # German reads one-hot inputs


def test_unsaturated_advice_names_the_scorecard_only_when_a_unit_reads_a_two_valued_input():
    """The mixed staircase only changes boundaries over one-hot or binary inputs: the advice
    names it when the pruned network still reads one, and oblique conditions always."""
    from types import SimpleNamespace

    from nnrules.extract.decompose.setiono_cluster import ClusterStage
    from nnrules.schema import Feature, FeatureSchema

    schema = FeatureSchema((Feature("age", "continuous", 18, 80),
                            Feature("color_red", "onehot", 0, 1, group="color", category="red"),
                            Feature("color_blue", "onehot", 0, 1, group="color",
                                    category="blue")))
    stage = SimpleNamespace(schema_=schema, mixed_conditions=None, oblique=False)
    for reads_color, named in ((0.0, False), (0.7, True)):
        net = SimpleNamespace(W1=np.array([[1.5, reads_color, 0.0], [-0.2, 0.0, 0.0]]))
        advice = ClusterStage._unsaturated_advice(stage, net)
        assert "not saturated" in advice and "--param oblique=true" in advice
        assert ("mixed_conditions=48" in advice) is named
    # a form already asked for is not advised again
    asked = SimpleNamespace(schema_=schema, mixed_conditions=48, oblique=True)
    advice = ClusterStage._unsaturated_advice(asked, net)
    assert "--param" not in advice and advice.endswith("--method eclaire or --method tree)")


def test_unsaturated_table_holds_the_networks_majority_per_hidden_state():
    """When the clustering cannot meet the tolerance (german_h5_s2), each hidden-state
    combination seen on training rows is labelled by the network's majority on its rows
    (counted here independently), unseen ones by the centres fed forward; the hidden rules and
    ``discretised_predict_index`` decide as that table, which agrees with the network on the
    training rows at least as often as the centre-fed copy. ``state_labels="centres"`` keeps
    the centre-fed table."""
    train, _ = german_data()
    net, names = _net("german_h5_s2"), list(train.schema.names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = Setiono(net, linear_units="never", random_state=0, **FAST).fit(train.X, feature_names=names)
        centred = Setiono(net, linear_units="never", random_state=0, state_labels="centres", **FAST).fit(
            train.X, feature_names=names)
    t = ex.table_
    assert ex.partial_reason_.startswith("cluster:") and t["labels"] == "network"
    assert centred.table_["labels"] == "centres"
    y = ex.oracle_.predict_index(train.X)
    S = ex.net_.states(train.X)[:, t["units"]]
    H = np.zeros((len(t["states"]), len(ex.clusters_)))
    for a, j in enumerate(t["units"]):
        H[:, j] = np.asarray(ex.clusters_[j].centres)[t["states"][:, a]]
    fed = ex.net_.classes_of_hidden(H)
    n_changed = 0
    for i, state in enumerate(t["states"]):
        rows = np.all(S == state, axis=1)
        if not rows.any():
            assert t["classes"][i] == fed[i]
            continue
        votes = np.bincount(y[rows], minlength=2)
        assert votes[t["classes"][i]] == votes.max()
        n_changed += int(t["classes"][i] != fed[i])
    assert n_changed > 0 and n_changed == next(
        s["relabelled"] for s in ex.stages_ if s["stage"] == "table")
    assert np.array_equal(ex.hidden_predict_index(H), t["classes"])
    disc = ex.discretised_predict_index(train.X)
    assert np.mean(disc == y) >= np.mean(ex.net_.predict_discrete(train.X) == y)
    assert np.mean(disc == y) > np.mean(centred.discretised_predict_index(train.X) == y)


# -- M-of-N tests for a cluster boundary -------------------------------------------------------

def test_mofn_best_m_is_the_brute_force_best():
    from nnrules.extract.decompose.mofn import best_m

    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 8))
        count = rng.integers(0, n + 1, size=60)
        target = rng.random(60) < 0.5
        right, m = best_m(count, target, n)
        brute = [int(np.sum((count >= k) == target)) for k in range(1, n + 1)]
        assert right == max(brute) and m == 1 + int(np.argmax(brute))


def test_mofn_recovers_a_planted_test_and_its_negation_is_the_complement():
    """Rows of 8 binary columns labelled "at least 3 of {x0, x2, not x5, x7}": the greedy
    selection finds exactly that test (every row right), and negate_mofn holds on exactly the
    other rows."""
    from nnrules.extract.decompose.mofn import candidate_conditions, learn_mofn, negate_mofn
    from nnrules.surrogates.rules import Condition, MofN

    X = np.array(list(itertools.product([0.0, 1.0], repeat=8)))
    planted = MofN(3, (Condition(0, ">", 0.5), Condition(2, ">", 0.5), Condition(5, "<=", 0.5),
                       Condition(7, ">", 0.5)))
    truth = planted.holds(X)
    test, right = learn_mofn(X, truth, candidate_conditions(X, range(8)))
    assert right == len(X) and np.array_equal(test.holds(X), truth)
    assert test.m == 3 and set(test.conditions) == set(planted.conditions)
    assert np.array_equal(negate_mofn(test).holds(X), ~truth)
    constant, right = learn_mofn(X, np.ones(len(X), dtype=bool), candidate_conditions(X, [0]))
    assert constant is None and right == len(X)


def test_german_mofn_rules_round_trip_and_decide_by_their_tests():
    """On german_h3 the cluster boundaries become M-of-N tests (mofn=True, the default) and the
    rules hold them; mofn=False learns trees there. The M-of-N rule set round-trips through JSON
    with the same predictions, and the same seed gives the same bytes."""
    train, test = german_data()
    names = list(train.schema.names)
    fits = {}
    for mofn in (True, False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            twin = fits.get(mofn)
            fits[mofn] = Setiono(_net("german_h3"), mofn=mofn, queries=2, random_state=0).fit(
                train.X, feature_names=names)
    on, off = fits[True], fits[False]
    assert on.stages_[-1]["mofn_tests"] > 0 and off.stages_[-1]["mofn_tests"] == 0
    assert any(type(t).__name__ == "MofN" for r in on.surrogate_.rules for t in r.conditions)
    again = serialize.loads(serialize.dumps(on.surrogate_))
    for rows in (train.X, test.X):
        assert np.array_equal(again.predict_index(rows), on.surrogate_.predict_index(rows))
    assert serialize.dumps(twin.surrogate_) == serialize.dumps(fits[True].surrogate_)


def test_a_refit_stopped_before_the_table_does_not_reuse_the_last_fits_table():
    X, _, names = _bc()
    ex = Setiono(_net("breast_cancer_h3"), state_labels="network", random_state=0).fit(
        X, feature_names=names)
    assert ex.table_["labels"] == "network"
    ex.max_seconds = 1e-9
    with pytest.warns(UserWarning, match="prune: max_seconds"):
        ex.fit(X, feature_names=names)
    # No table this time: the discretised network is the stopped fit's own net_.
    assert np.array_equal(ex.discretised_predict_index(X), ex.net_.predict_discrete(X))


def test_domain_size_of_many_binary_inputs_is_exact_not_an_overflow():
    # 1100 binary attributes: 2**1100 points, past a float's range. The count decides whether
    # a unit is enumerated, so it must stay exact (and say "too many") rather than raise.
    from nnrules.extract.decompose.setiono_rules import _domain_size

    attrs = [("bin", (j,), (0, 1)) for j in range(1100)]
    assert _domain_size(attrs) == 2**1100


def test_learned_rules_are_written_for_the_minority_when_the_table_default_is_not_the_majority():
    """german_h5_s7 (weak penalty, every unit misses the tolerance): the hidden-state table's
    default is the minority class, so its rules all say the majority class. Ranked on the
    training rows those rules left the majority as the list's default and were all dropped:
    no rules, fidelity = the majority share (0.701). Now the candidates are the minority's
    clauses: rules that say the minority class, with the majority as the default, well above
    the constant answer on the training and held-out rows."""
    train, test = german_data()
    net = nnrules.load(SET / "german_h5_s7.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = Setiono(net, linear_units="never", random_state=0).fit(train.X, feature_names=list(train.schema.names))
    y = ex.oracle_.predict_index(train.X)
    majority = int(np.bincount(y).argmax())
    assert ex.hidden_default_ != majority and not ex.exact_
    rs = ex.surrogate_
    assert rs.rules and rs.default == majority
    assert all(r.output != majority for r in rs.rules)
    for rows in (train.X, test.X):
        ref = ex.oracle_.predict_index(rows)
        constant = np.mean(ref == majority)
        assert np.mean(rs.predict_index(rows) == ref) >= constant + 0.05
