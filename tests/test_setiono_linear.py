"""``setiono``'s linear stage: unsaturated hidden units read in their linear range as one score.

The line through each unit's activations against brute force (``np.polyfit``); the collapsed
score against the logits computed by hand; a ReLU network whose units are all in their linear
range collapses exactly; on German credit networks the clustering leaves unsaturated, the
score's one rule is at least as faithful held out as ``tree`` and ``eclaire`` at one rule, the
stage reports the share it changes, and oblique rules decide exactly as the score; MONK's
saturated networks never take the stage, and when both readings are exact the one changing
fewer predictions is kept; bad input.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from decompositional_fixtures import german_data
from onnx_builders import dense_mlp, mlp_weights, save

import nnrules
from nnrules.datasets import load_monk
from nnrules.exceptions import ParameterError
from nnrules.extract import get_extractor
from nnrules.extract.decompose.cluster import UnitClusters
from nnrules.extract.decompose.linear_units import linear_collapse, unit_lines
from nnrules.extract.decompose.onelayer import OneLayerNet
from nnrules.io.graph import Activation

SET = Path(__file__).resolve().parent / "fixtures" / "setiono"
Setiono = get_extractor("setiono")


@cache
def _fit(name, **params):
    train, _ = german_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Setiono(nnrules.load(SET / f"{name}.onnx"), random_state=0, **params).fit(
            train.X, feature_names=list(train.schema.names))


def _tiny(n_out, seed=0):
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(3, 4))
    W1[2] = 0.0  # a unit reading nothing: constant pre-activation
    return OneLayerNet(W1, rng.normal(size=3), Activation("tanh"), rng.normal(size=(n_out, 3)),
                       rng.normal(size=n_out), [None] * 3), rng.normal(size=(200, 4))


def test_unit_lines_are_the_least_squares_lines_of_the_activations():
    net, X = _tiny(2)
    a, s = unit_lines(net, X)
    Z, H = net.pre(X), net.hidden(X)
    for j in (0, 1):
        slope, intercept = np.polyfit(Z[:, j], H[:, j], 1)
        assert s[j] == pytest.approx(slope) and a[j] == pytest.approx(intercept)
    assert s[2] == 0.0 and a[2] == pytest.approx(np.tanh(net.b1[2]))


@pytest.mark.parametrize("n_out", [1, 2])
def test_collapsed_score_is_the_linearised_logit_difference(n_out):
    net, X = _tiny(n_out)
    a, s = unit_lines(net, X)
    lines = a + s * net.pre(X)  # every activation replaced by its line, by hand
    logits = lines @ net.W2.T + net.b2
    score = logits[:, 1] - logits[:, 0] if n_out == 2 else logits[:, 0]
    lin = linear_collapse(net, X)
    assert lin.n_hidden == 1 and lin.clusters[0].centres == (-1.0, 1.0)
    assert np.allclose(lin.pre(X)[:, 0], score)
    assert np.array_equal(lin.predict_discrete(X), (score > 0).astype(np.int64))
    with pytest.raises(ValueError, match="one or two logits"):
        linear_collapse(_tiny(3)[0], X)


def test_a_network_whose_units_stay_in_their_linear_range_collapses_exactly():
    """ReLU units whose pre-activations are positive on every row are linear there: the score
    is the network's own logit difference, so its sign changes no prediction."""
    rng = np.random.default_rng(1)
    W1, W2 = rng.normal(size=(4, 5)), rng.normal(size=(2, 4))
    X = rng.uniform(0, 1, size=(300, 5))
    b1 = np.abs(X @ W1.T).max(axis=0) + 1.0
    net = OneLayerNet(W1, b1, Activation("relu"), W2, np.zeros(2), [None] * 4)
    lin = linear_collapse(net, X)
    assert np.allclose(lin.pre(X)[:, 0], (net.hidden(X) @ W2.T) @ np.array([-1.0, 1.0]))
    assert np.array_equal(lin.predict_discrete(X), net.predict(X))


@pytest.mark.parametrize("name", ["german_h4_s1", "german_h5_s7"])
def test_unsaturated_german_networks_become_one_score_and_say_how_far_it_is(name):
    """The clustering changes 0.10-0.15 of the training predictions (unsaturated): the stage
    reads the pruned copy as one score, records the share of training predictions its sign
    changes (recomputed here from the lines), and the partial report says so instead of the
    clustering's shortfall."""
    train, _ = german_data()
    ex = _fit(name)
    names = [s["stage"] for s in ex.stages_]
    assert names == ["prune", "cluster", "linear", "table", "rules"]
    cluster, linear = ex.stages_[1], ex.stages_[2]
    assert cluster["change"] > 0.05
    pruned = ex.pruned_net_
    a, s = unit_lines(pruned, train.X)
    d = pruned.W2[1] - pruned.W2[0]
    score = (a + s * pruned.pre(train.X)) @ d + pruned.b2[1] - pruned.b2[0]
    assert linear["change"] == pytest.approx(
        np.mean((score > 0).astype(np.int64) != pruned.predict(train.X)))
    assert ex.net_.n_hidden == 1 and ex.clusters_ == [UnitClusters((-1.0, 1.0))]
    assert ex.partial_reason_.startswith("linear:") and "cluster:" not in ex.partial_reason_
    assert f"{linear['change']:.3f}" in ex.partial_reason_
    assert "not saturated" in ex.partial_reason_ and "--method eclaire" in ex.partial_reason_
    assert len(ex.surrogate_.rules) == 1


def test_the_score_rule_is_at_least_as_faithful_as_tree_and_eclaire_at_one_rule():
    """The issue's goal at equal rule count, held out, on the German fixture whose states gave
    rules less faithful than ``tree`` (0.793 against 0.807 at three rules)."""
    train, test = german_data()
    net = nnrules.load(SET / "german_h4_s1.onnx")
    ex = _fit("german_h4_s1")
    n = len(ex.surrogate_.rules)
    ref = net.predict(test.X)
    ours = np.mean(ex.surrogate_.predict(test.X) == ref)
    names = list(train.schema.names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree = get_extractor("tree")(net, max_leaves=n + 1, random_state=0).fit(
            train.X, feature_names=names)
        eclaire = get_extractor("eclaire")(net, max_rules=n, random_state=0).fit(
            train.X, feature_names=names)
    assert ours >= np.mean(tree.surrogate_.predict(test.X) == ref)
    assert ours >= np.mean(eclaire.surrogate_.predict(test.X) == ref)
    never = _fit("german_h4_s1", linear_units="never")
    assert "linear" not in [s["stage"] for s in never.stages_]
    assert never.partial_reason_.startswith("cluster:") and len(never.surrogate_.rules) > n


def test_oblique_rules_through_the_score_decide_exactly_as_its_sign():
    """With ``oblique=True`` both readings are exact; the score changes fewer predictions on
    german_h4_s1 than the clusters (0.126 against 0.151), so it is kept, and the rules decide
    as its sign on the data and off it."""
    train, test = german_data()
    ex = _fit("german_h4_s1", oblique=True)
    stages = {s["stage"]: s for s in ex.stages_}
    assert stages["linear"]["change"] < stages["cluster"]["change"] and ex.exact_
    rng = np.random.default_rng(0)
    off = rng.uniform(train.X.min(axis=0), train.X.max(axis=0), size=(2000, train.X.shape[1]))
    for X in (train.X, test.X, off):
        assert np.array_equal(ex.surrogate_.predict_index(X), ex.discretised_predict_index(X))
        assert np.array_equal(ex.discretised_predict_index(X),
                              (ex.net_.pre(X)[:, 0] > 0).astype(np.int64))


def test_same_seed_same_bytes_through_the_linear_stage():
    from nnrules.io import serialize

    a, b = _fit("german_h5_s7"), _fit("german_h5_s7", tolerance=0.01)
    assert a is not b and serialize.dumps(a.surrogate_) == serialize.dumps(b.surrogate_)


@pytest.mark.parametrize("name", ["monk1_h3", "monk2_h4", "monk3_h3"])
def test_monk_networks_keep_their_states(name):
    """Saturated (MONK's fixtures): no linear stage. Forced (``"always"``), MONK's one-hot
    inputs are enumerated, so the score's rules are exact and decide as its sign on all 432
    points; on MONK-2, whose concept is not linear, that is far from the network, which is why
    ``"auto"`` keeps exact states unless the score changes fewer predictions."""
    d = load_monk(int(name[4]))
    net = nnrules.load(SET / f"{name}.onnx")
    names = list(d.feature_names)
    auto = Setiono(net, random_state=0).fit(d.X_train, feature_names=names)
    assert "linear" not in [s["stage"] for s in auto.stages_]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forced = Setiono(net, random_state=0, linear_units="always").fit(
            d.X_train, feature_names=names)
    assert forced.exact_ and [s["stage"] for s in forced.stages_][2] == "linear"
    sign = (forced.net_.pre(d.X_test)[:, 0] > 0).astype(np.int64)
    assert np.array_equal(forced.surrogate_.predict_index(d.X_test), sign)
    if name == "monk2_h4":
        assert np.mean(sign == forced.oracle_.predict_index(d.X_test)) < 0.9


def test_always_needs_two_classes(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    path = save(dense_mlp(mlp_weights([4, 3, 3], seed=3), head="Softmax", activation="Tanh"),
                tmp_path / "three.onnx")
    net = nnrules.load(path)
    assert len(np.unique(net.predict(X))) == 3
    with pytest.raises(ParameterError, match="two-class.*3 classes"):
        Setiono(net, linear_units="always", random_state=0).fit(X)
    with pytest.raises(ParameterError, match="linear_units"):
        Setiono(net, linear_units="sometimes").fit(X)


def test_the_scorecard_option_keeps_the_states():
    """``mixed_conditions`` asks for rules closer to the network: a scorecard per state
    boundary (CV 0.881 / 0.821 on nine German networks) rather than one scorecard of the score
    (0.843 / 0.749), so ``"auto"`` leaves the states; ``"always"`` still takes the score."""
    kept = _fit("german_h4_s1", mixed_conditions=48)
    assert "linear" not in [s["stage"] for s in kept.stages_]
    assert kept.partial_reason_.startswith("cluster:")
    forced = _fit("german_h4_s1", mixed_conditions=48, linear_units="always")
    assert [s["stage"] for s in forced.stages_][2] == "linear"
    assert len(forced.surrogate_.rules) < len(kept.surrogate_.rules)


def test_a_sigmoid_head_network_collapses_to_its_single_logit(tmp_path):
    """One logit (a sigmoid head): the score is the linearised logit itself, and with
    ``oblique=True`` the rules decide exactly as its sign on the rows and off them."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 3))
    layers = mlp_weights([3, 4, 1], seed=5)
    net = nnrules.load(save(dense_mlp(layers, head="Sigmoid", activation="Tanh"),
                            tmp_path / "sigmoid.onnx"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = Setiono(net, linear_units="always", oblique=True, prune=False,
                     random_state=0).fit(X)
    (W1, _), (W2, _) = layers
    pruned = ex.pruned_net_
    a, s = unit_lines(pruned, X)
    score = (a + s * pruned.pre(X)) @ pruned.W2[0] + pruned.b2[0]
    assert np.allclose(pruned.W1, W1.T) and np.allclose(pruned.W2, W2.T)
    assert np.allclose(ex.net_.pre(X)[:, 0], score)
    off = rng.uniform(-4, 4, size=(2000, 3))
    for Z in (X, off):
        assert np.array_equal(ex.surrogate_.predict_index(Z),
                              (ex.net_.pre(Z)[:, 0] > 0).astype(np.int64))


def test_a_clustering_within_a_loose_tolerance_keeps_its_states():
    """``tolerance=0.2`` lets the clustering stop at coarse states changing more than 0.05 of
    the predictions; that is what was asked for, not units that no handful of states stands
    for, so ``"auto"`` keeps them."""
    ex = _fit("german_h4_s1", tolerance=0.2)
    cluster = next(s for s in ex.stages_ if s["stage"] == "cluster")
    assert 0.05 < cluster["change"] <= 0.2
    assert "linear" not in [s["stage"] for s in ex.stages_]
