"""One-row fast paths give what the batch paths give (tree walk, Network.predict)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nnrules.exceptions import DataError
from nnrules.extract.trepan import TrepanExtractor
from nnrules.io.model import load
from nnrules.surrogates.rules import Condition, MofN
from nnrules.surrogates.tree import TreeSurrogate

sys.path.insert(0, str(Path(__file__).parent))
from onnx_builders import dense_mlp, mlp_weights, save  # noqa: E402


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    path = tmp_path_factory.mktemp("one") / "net.onnx"
    save(dense_mlp(mlp_weights([6, 12, 3], seed=1), head="Softmax"), path)
    return load(path)


# The three batch strategies of apply(): outcome table, all tests + level walk, rows by node.
@pytest.mark.parametrize(("all_tests_up_to", "table_up_to"), [(64, 16), (64, 0), (0, 0)])
def test_one_row_walk_equals_the_batch_apply(network, monkeypatch, all_tests_up_to,
                                             table_up_to):
    import nnrules.surrogates.tree as tree_module

    monkeypatch.setattr(tree_module, "_ALL_TESTS_UP_TO", all_tests_up_to)
    monkeypatch.setattr(tree_module, "_LEAF_TABLE_UP_TO", table_up_to)
    X = np.random.default_rng(0).normal(size=(300, 6))
    X[:3] = np.round(X[:3])                      # ties on integer thresholds
    X[3, 2] = 1e300                              # beyond every threshold, still finite
    tree = TrepanExtractor(network, max_leaves=10, random_state=0).fit(X[4:]).surrogate_
    hand = TreeSurrogate(tests=(Condition(0, "<=", 0.0), MofN(1, (Condition(1, ">", 0.5),
                                Condition(2, "==", 1.0))), None, None, None),
                         left=[1, 3, -1, -1, -1], right=[2, 4, -1, -1, -1],
                         value=np.eye(3)[[0, 0, 1, 2, 0]], classes=(0, 1, 2))
    for surrogate in (tree, hand):
        batch = surrogate.apply(X)
        assert [int(surrogate.apply(X[i:i + 1])[0]) for i in range(len(X))] == batch.tolist()
        # Columns contiguous (stream batches) give the same leaves.
        np.testing.assert_array_equal(surrogate.apply(np.asfortranarray(X)), batch)
        assert [surrogate.predict(X[i:i + 1])[0] for i in range(20)] == \
            surrogate.predict(X[:20]).tolist()
        bad = X[:5].copy()
        bad[3, 2] = np.nan                       # NaN: refused by the walk and the batch alike
        for rows in (bad, bad[3:4]):
            with pytest.raises(DataError, match="column 'x2'"):
                surrogate.apply(rows)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_network_predict_fast_path_equals_the_general_path(network, dtype):
    X = (np.random.default_rng(1).normal(size=(50, 6)) * 3).astype(dtype)
    before = network.n_queries
    fast = network.predict(X)
    one = [network.predict(X[i:i + 1])[0] for i in range(len(X))]
    general = network.predict(X.tolist())          # a list takes the general path
    assert fast.tolist() == one == general.tolist()
    assert network.n_queries - before == 150
    np.testing.assert_array_equal(network.predict(np.asfortranarray(X)), fast)


def test_sigmoid_head_fast_path_equals_the_general_path():
    # A one-output sigmoid network (skl2onnx / VIA fixture): the fast path must read p > 1/2 as
    # class 1 exactly as the general path does, and leave NaN rows to the general path's error.
    net = load(Path(__file__).parent / "fixtures" / "via_breast_cancer.onnx")
    assert net._sigmoid_head
    X = np.random.default_rng(2).normal(size=(200, 30)) * 2
    fast = [net.predict(X[i:i + 1])[0] for i in range(len(X))]
    general = net.predict(X.tolist())
    assert fast == general.tolist()
    assert len(set(fast)) == 2                     # both classes occur, so a flip would show


def test_fast_path_without_onnxruntime_internals(network, monkeypatch):
    # The fast path calls onnxruntime's compiled session when it has one; without it (another
    # onnxruntime version) the public session.run gives the same answers.
    X = np.random.default_rng(3).normal(size=(20, 6))
    expected = [network.predict(X[i:i + 1])[0] for i in range(len(X))]
    public = network.session

    class Wrapped:
        def run(self, names, feeds, run_options=None):
            return public.run(names, feeds, run_options)

    monkeypatch.setattr(network, "session", Wrapped())
    assert [network.predict(X[i:i + 1])[0] for i in range(len(X))] == expected


def test_fast_path_survives_changed_onnxruntime_internals(network, monkeypatch):
    # An onnxruntime whose compiled session takes other arguments: the public run answers.
    X = np.random.default_rng(4).normal(size=(10, 6))
    expected = [network.predict(X[i:i + 1])[0] for i in range(len(X))]
    public = network.session

    class Changed:
        _sess = type("Inner", (), {"run": lambda self, names, feeds: None})()

        def run(self, names, feeds, run_options=None):
            return public.run(names, feeds, run_options)

    monkeypatch.setattr(network, "session", Changed())
    assert [network.predict(X[i:i + 1])[0] for i in range(len(X))] == expected
