"""The tree extraction's fast paths give exactly what the plain computations they replace give.

Each test runs the fast path and the computation it replaced (written out here, or reached by
switching the fast path off) on the same rows and compares bits: sampler data model, generated
rows, tree simplification (rows read by index instead of stacked), reach counts, distinct row
hashes, class lookup and agreements, a tree's leaves shared by the annotation, and the
network's labels asked once per fit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nnrules.extract.engines import sampling, simplify
from nnrules.extract.engines.sampling import METHODS, QuerySampler
from nnrules.extract.engines.simplify import generate_rows, simplify_tree
from nnrules.extract.tree import TreeExtractor
from nnrules.io.hashing import distinct_hashes
from nnrules.schema import Feature, FeatureSchema
from nnrules.surrogates import reasons
from nnrules.surrogates.linear import LinearCondition
from nnrules.surrogates.rules import Condition, MofN
from nnrules.surrogates.tree import TreeSurrogate


def _mixed(n: int, seed: int = 0, order: str = "C"):
    """Rows of every kind the sampler models (wide / narrow integer, binary, categorical,
    continuous with ties, a constant column) and their schema."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.integers(0, 5000, n), rng.integers(0, 17, n), rng.integers(0, 2, n),
        rng.integers(0, 3, n), np.round(rng.normal(size=n), 2), rng.normal(3.0, 0.01, n),
        np.full(n, 1.5),
    ]).astype(np.float64)
    schema = FeatureSchema((
        Feature("big", "integer", 0, 5000), Feature("small", "integer", 0, 16),
        Feature("flag", "binary", 0, 1),
        Feature("colour", "categorical", 0, 2, categories=("blue", "green", "red")),
        Feature("z", "continuous", -np.inf, np.inf), Feature("w", "continuous", 2.0, 4.0),
        Feature("c", "continuous", 0.0, 3.0),
    ))
    return np.asarray(X, order=order), schema


def _old_units(schema, X, bandwidth):
    """The data model as built before: np.sort of the strided column, quartiles by
    np.percentile of the unsorted column."""
    def silverman(x):
        std = float(np.std(x))
        q75, q25 = np.percentile(x, [75, 25])
        spread = min(std, (q75 - q25) / 1.34) if q75 > q25 else std
        return 0.9 * spread * x.size ** (-0.2)

    out = {}
    for j, f in enumerate(schema.features):
        col = X[:, j]
        if f.kind == "continuous" or (f.kind == "integer" and col.max() - col.min() + 1 > 64):
            out[j] = (np.sort(col), bandwidth * silverman(col))
    return out


@pytest.mark.parametrize("order", ["C", "F"])
def test_data_model_is_the_same_bits_as_before(order):
    X, schema = _mixed(5003, seed=1, order=order)
    before = X.copy()
    units = sampling._build_units(schema, X, 0.5)
    assert np.array_equal(X, before)  # the columns are sorted in copies, never in X
    old = _old_units(schema, X, 0.5)
    numeric = {u.columns[0]: u for u in units if u.kind == "numeric"}
    assert sorted(numeric) == sorted(old) and len(numeric) >= 3
    for j, (observed, bandwidth) in old.items():
        assert numeric[j].observed.tobytes() == observed.tobytes()
        assert numeric[j].bandwidth == bandwidth  # exactly: same std, same quartiles


@pytest.mark.parametrize("method", METHODS)
def test_sibling_draws_what_a_fresh_sampler_draws(method):
    X, schema = _mixed(2000, seed=2)
    first = QuerySampler(schema, X, method="perturb", random_state=4, validate=False)
    path = [(Condition(0, ">", 100.5), True), (Condition(4, "<=", 0.3), False)]
    for constraints in ((), path):
        fresh = QuerySampler(schema, X, method=method, random_state=9, validate=False)
        twin = first.sibling(method, 9)
        assert twin.sample(300, constraints).tobytes() == fresh.sample(300, constraints).tobytes()
    first.sample(10)  # the sibling has its own generator: the first one is untouched by it
    assert first.sibling(method, 9).sample(50).tobytes() == QuerySampler(
        schema, X, method=method, random_state=9, validate=False).sample(50).tobytes()


def test_generate_rows_is_the_two_samplers_it_replaced():
    X, schema = _mixed(3000, seed=3)
    for seed in (0, 11):
        old = np.vstack([
            QuerySampler(schema, X, method="perturb", random_state=seed, validate=False)
            .sample(2500),
            QuerySampler(schema, X, method="marginal", random_state=seed + 1, validate=False)
            .sample(2501),
        ])
        assert generate_rows(schema, X, 5001, random_state=seed).tobytes() == old.tobytes()


def test_perturb_pool_without_constraints_and_when_no_row_satisfies_the_path():
    X, schema = _mixed(1500, seed=5)
    # No row has big > 6000: the pool falls back to the rows inside the box (the lazy branch).
    impossible = [(MofN(2, (Condition(0, ">", 6000.0), Condition(1, ">", 30.0),
                            Condition(4, ">", 1e9))), True)]
    a = QuerySampler(schema, X, random_state=1).sample(200, impossible)
    b = QuerySampler(schema, X.copy(), random_state=1).sample(200, impossible)
    assert a.tobytes() == b.tobytes()
    # Without constraints the pool is X itself: the draws equal those from an explicit copy.
    s = QuerySampler(schema, X, random_state=2)
    assert s._draw(100, s._box([]), []).tobytes() == QuerySampler(
        schema, X, random_state=2)._draw(100, [r for r in s._box([])], []).tobytes()


class _Naive:
    """The old way: real and generated rows stacked, whole rows copied per node."""

    def __init__(self, X, G):
        self.R = np.vstack([X, G])
        self.n_rows = self.R.shape[0]

    def rows(self, idx):
        return self.R[idx]

    def holds(self, test, idx):
        return test.holds(self.R[idx])


def _old_reach_counts(tree, X):
    counts = np.zeros(len(tree.tests), dtype=np.int64)
    node = np.zeros(X.shape[0], dtype=np.int64)
    active = np.ones(X.shape[0], dtype=bool)
    np.add.at(counts, node, 1)
    while active.any():
        for u in np.unique(node[active]):
            rows = np.flatnonzero(active & (node == u))
            if tree.left[u] < 0:
                active[rows] = False
                continue
            h = tree.tests[u].holds(X[rows])
            node[rows] = np.where(h, tree.left[u], tree.right[u])
            np.add.at(counts, node[rows], 1)
    return counts


def _random_tree(rng, d, depth=4):
    tests, left, right, value = [], [], [], []

    def node(level):
        u = len(tests)
        tests.append(None)
        left.append(-1)
        right.append(-1)
        value.append(rng.dirichlet([1.0, 1.0, 1.0]))
        if level < depth and rng.random() < 0.8:
            kind = rng.integers(3)
            conds = tuple(Condition(int(j), str(rng.choice(["<=", ">", "==", "!="])),
                                    float(rng.integers(0, 4)) - 0.5 * rng.integers(0, 2))
                          for j in rng.choice(d, size=3, replace=False))
            if kind == 0:
                tests[u] = conds[0]
            elif kind == 1:
                tests[u] = MofN(int(rng.integers(1, 4)), conds)
            else:
                tests[u] = MofN(3, conds)
            left[u] = node(level + 1)
            right[u] = node(level + 1)
        return u

    node(0)
    return TreeSurrogate(tests, left, right, np.array(value))


@pytest.mark.parametrize("seed", range(6))
def test_simplify_tree_reads_rows_by_index_with_the_same_result(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, size=(700, 5)).astype(float)
    G = rng.integers(0, 4, size=(300, 5)).astype(float)
    tree = _random_tree(rng, 5)
    idx = np.sort(rng.choice(1000, size=400, replace=False))
    fast, naive = simplify._Stacked(X, G), _Naive(X, G)
    assert fast.rows(idx).tobytes() == naive.rows(idx).tobytes()
    linear = LinearCondition((0, 3), (1.0, -0.5), "<=", 0.75)  # read on whole rows
    for t in [*tree.tests, linear]:
        if t is not None:
            assert np.array_equal(fast.holds(t, idx), naive.holds(t, idx))
    assert np.array_equal(simplify._reach_counts(tree, X), _old_reach_counts(tree, X))
    new, info = simplify_tree(tree, X, generated=G)
    monkeypatch.setattr(simplify, "_Stacked", _Naive)
    monkeypatch.setattr(simplify, "_reach_counts", _old_reach_counts)
    old, old_info = simplify_tree(tree, X, generated=G)
    assert json.dumps(new.to_dict()) == json.dumps(old.to_dict())
    assert info == old_info


def test_distinct_hashes_is_np_unique():
    rng = np.random.default_rng(0)
    for h in (rng.integers(0, 2**63, 5000, dtype=np.uint64),
              rng.integers(0, 40, 5000).astype(np.uint64), np.zeros(0, np.uint64),
              np.array([7], np.uint64), np.array([3, 3, 3], np.uint64)):
        a, b = distinct_hashes(h), np.unique(h)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


class _Labels:
    """A fitted surrogate's face as reasons._class_index sees it."""

    def __init__(self, classes):
        self.classes = classes


@pytest.mark.parametrize("reference, classes", [
    (np.array([1, 0, 2, 2, 5, 0]), (0, 1, 2)),
    (np.array([0.0, -0.0, 1.0, np.nan, 2.5, 1.0]), (0.0, 1.0, 2.5)),
    (np.array(["yes", "no", "maybe", "no"]), ("no", "yes")),
    (np.array([True, False, True]), (False, True)),
    (np.array([1, "a", 2.0], dtype=object), (1, "a")),
])
def test_class_index_per_distinct_value_is_the_per_row_lookup(reference, classes, monkeypatch):
    s = _Labels(classes)
    fast = reasons._class_index(s, reference)
    monkeypatch.setattr(reasons, "_distinct", lambda values: None)
    assert fast.tolist() == reasons._class_index(s, reference).tolist()


@pytest.mark.parametrize("pred, ref", [
    (np.array([0, 1, 2, 3]), np.array([0, 1, 1, 3])),
    (np.array([0, 1, 2]), np.array([0, 1, 2], dtype=np.uint8)),
    (np.array([0.0, np.nan, 1.5]), np.array([-0.0, np.nan, 1.5])),
    (np.array([0.5, 1.0], dtype=np.float32), np.array([0.5, 1.1])),
    (np.array(["a", "b"]), np.array(["a", "c"])),
    (np.array([1, 2]), np.array([1.0, 2.5])),            # mixed kinds: the Python loop
    (np.array(["1", "2"]), np.array([1, 2])),
    (np.array([None, 1], dtype=object), np.array([None, 1], dtype=object)),
])
def test_agreements_count_what_python_equality_counts(pred, ref):
    slow = int(sum(p is not None and p == q for p, q in zip(pred.tolist(), ref.tolist())))
    assert reasons._agreements(pred, ref) == slow


def test_attach_with_shared_leaves_equals_separate_passes():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(4000, 3))
    black_box = lambda A: (A[:, 0] + 0.3 * A[:, 1] > 0.1).astype(int)
    ex = TreeExtractor(black_box, max_leaves=7, random_state=0).fit(X[:2000])
    s, ref = ex.surrogate_, black_box(X)
    reasons.attach(s, X, ref, source="evaluation", data="d", stats=True)
    separate = (reasons.reason_stats(s, X, ref),
                reasons.local_fidelity(s, X, ref, source="evaluation", data="d"))
    assert json.dumps(s.reason_stats) == json.dumps(separate[0])
    assert json.dumps(s.local_fidelity) == json.dumps(separate[1])
    assert np.array_equal(s.predict_leaves(s.apply(X)), s.predict(X))


class _Counting:
    """A black box that records the shape of every batch it answers."""

    def __init__(self):
        self.calls = []

    def __call__(self, A):
        self.calls.append(A.shape[0])
        return np.where(A[:, 0] * A[:, 2] > 0.2, "yes", "no")


@pytest.mark.parametrize("n_queries", [0, 150])
def test_labels_asked_once_and_the_surrogate_unchanged(n_queries, monkeypatch):
    X = np.random.default_rng(3).normal(size=(3000, 4))
    net = _Counting()
    ex = TreeExtractor(net, max_leaves=9, n_queries=n_queries, random_state=2).fit(X)
    # With no queries the rows the tree learns from are X: one pass over the network.
    assert sum(c for c in net.calls) == len(X) + n_queries + (len(X) if n_queries else 0)
    assert ex._fit_rows is None and ex._fit_labels is None  # nothing kept after fit
    # The old way: the annotation asks the network again.
    monkeypatch.setattr(TreeExtractor, "_network_labels",
                        lambda self, rows: self.oracle_.predict(rows))
    again = TreeExtractor(_Counting(), max_leaves=9, n_queries=n_queries, random_state=2).fit(X)
    assert json.dumps(ex.surrogate_.to_dict()) == json.dumps(again.surrogate_.to_dict())
    assert ex.n_queries_ == again.n_queries_


def _strip_timings(o):
    if isinstance(o, dict):
        return {k: _strip_timings(v) for k, v in o.items()
                if k != "timings" and "seconds" not in k and k != "created"}
    if isinstance(o, list):
        return [_strip_timings(v) for v in o]
    return o


def test_cli_asks_the_network_once_and_writes_the_same_files(tmp_path, monkeypatch):
    from pathlib import Path

    from nnrules import fidelity
    from nnrules.cli import main
    from nnrules.oracles import tabular

    example = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
    argv = ["extract", str(example / "model.onnx"), "--data", str(example / "train.csv"),
            "--target", "target", "--method", "tree", "--seed", "3", "--quiet"]
    calls, predict = [], tabular.Oracle.predict

    def counting(self, X):
        calls.append(len(X))
        return predict(self, X)

    from nnrules.io import hashing

    prints, fingerprint = [], hashing.fingerprint
    monkeypatch.setattr(hashing, "fingerprint", lambda X: prints.append(1) or fingerprint(X))
    monkeypatch.setattr(tabular.Oracle, "predict", counting)
    assert main([*argv, "--out", str(tmp_path / "new")]) == 0
    assert len(calls) == 1  # fit, annotation and report share one pass over the network
    assert len(prints) == 1  # and the rows are fingerprinted once (the provenance)
    evaluate = fidelity.evaluate
    monkeypatch.setattr(fidelity, "evaluate",
                        lambda *a, _reference=None, **k: evaluate(*a, **k))  # the old way
    assert main([*argv, "--out", str(tmp_path / "old")]) == 0
    assert len(calls) == 3  # the report asks the network again
    assert len(prints) == 3  # and fingerprints the rows again
    for name in ("surrogate.json", "rules.txt"):
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()
    reports = [_strip_timings(json.loads((tmp_path / d / "report.json").read_text()))
               for d in ("new", "old")]
    assert reports[0] == reports[1]


@pytest.mark.parametrize("held_out", [False, True])
def test_cli_asks_the_network_once_per_row_set(tmp_path, monkeypatch, held_out):
    """extract --sample N [--eval FILE]: --sample asks the network about every row to
    stratify; the fit (and the report on the sample) reuse the sampled rows' labels instead
    of asking again, and with --eval the report's answers on the held-out rows serve the
    per-leaf figures too (they were asked twice). The files are the same as the old way's."""
    from pathlib import Path

    from nnrules.cli import main
    from nnrules.extract.base import Extractor
    from nnrules.oracles import tabular

    example = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
    argv = ["extract", str(example / "model.onnx"), "--data", str(example / "train.csv"),
            "--target", "target", "--method", "tree", "--seed", "3", "--quiet",
            "--sample", "150", *(["--eval", str(example / "test.csv")] if held_out else [])]
    calls, predict = [], tabular.Oracle.predict

    def counting(self, X):
        calls.append(len(X))
        return predict(self, X)

    monkeypatch.setattr(tabular.Oracle, "predict", counting)
    assert main([*argv, "--out", str(tmp_path / "new")]) == 0
    n_train = calls[0]
    # No pass over the sample; with --eval one over the test rows (report and per-leaf figures).
    assert n_train > 150 and calls[1:] == ([171] if held_out else [])
    # The old way: the fit asked again about the sample, and --eval asked twice.
    fit_data = Extractor._fit_data
    monkeypatch.setattr(Extractor, "_fit_data",
                        lambda self, X, *a, labels=None, **k: fit_data(self, X, *a, **k))

    def two_passes(self, X, *, data_name, label_map, nonfinite):
        report = self.report(X, data_name=data_name, label_map=label_map, nonfinite=nonfinite)
        self.attach_local_fidelity(X, report)
        return report

    monkeypatch.setattr(Extractor, "_report_and_attach", two_passes)
    calls.clear()
    assert main([*argv, "--out", str(tmp_path / "old")]) == 0
    assert calls[:2] == [n_train, 150] and calls.count(171) == (2 if held_out else 0)
    for name in ("surrogate.json", "rules.txt"):
        assert (tmp_path / "new" / name).read_bytes() == (tmp_path / "old" / name).read_bytes()
    reports = [_strip_timings(json.loads((tmp_path / d / "report.json").read_text()))
               for d in ("new", "old")]
    assert reports[0] == reports[1]
    assert reports[0]["n_queries"] == 150
    if held_out:
        local = json.loads((tmp_path / "new" / "surrogate.json").read_text())["local_fidelity"]
        assert local["source"] == "evaluation" and local["data"] == "test.csv"


def test_labels_are_shared_within_one_call_only():
    X = np.random.default_rng(4).normal(size=(800, 4))
    net = _Counting()
    ex = TreeExtractor(net, max_leaves=5, random_state=0).fit(X)
    ex.report(X)  # a separate report call: the network answers again
    assert net.calls == [800, 800]
    from nnrules.io.data import as_dataset

    data = as_dataset(X)  # a Dataset passes through fit and report as it is (the CLI's case)
    first = ex._fit_and_report(data, data_name="d")  # one call: one pass over the network
    assert net.calls == [800, 800, 800]
    assert not hasattr(ex, "_kept_answers") and ex._fit_rows is None  # nothing kept after
    fresh = TreeExtractor(_Counting(), max_leaves=5, random_state=0).fit(X).report(
        X, data_name="d")
    assert first.fidelity == fresh.fidelity and first.data == fresh.data
    assert first.per_class == fresh.per_class and first.n_queries == fresh.n_queries
    # Rows changed in place after a fit: the next report asks the network about them.
    ex.fit(data)
    data.X[:] = data.X[::-1] * -1
    assert ex.report(data).fidelity == TreeExtractor(_Counting(), max_leaves=5, random_state=0).fit(
        np.random.default_rng(4).normal(size=(800, 4))).report(data).fidelity
    assert net.calls == [800] * 5


def _old_reason_stats(surrogate, X, reference):
    """reason_stats as it was: every leaf's conditions stacked into an (n, m) matrix."""
    ref = reasons._class_index(surrogate, np.asarray(reference))
    reg = surrogate.apply(X)
    out = []
    for r, conds in reasons._rule_view(surrogate).items():
        H = np.column_stack([c.holds(X) for c in conds]) if conds else np.ones((len(X), 0), bool)
        m = len(conds)
        hits = H.sum(axis=1)
        siblings = [reasons._summary(surrogate, (hits == m - 1) & ~H[:, i], ref)
                    for i in range(m)]
        out.append({"region": int(r), "own": reasons._summary(surrogate, reg == r, ref),
                    "siblings": siblings})
    return {"source": "training", "regions": out}


@pytest.mark.parametrize("seed", [0, 1])
def test_reason_stats_counts_equal_the_stacked_matrix_ones(seed):
    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(3000, 4)), 1)
    black_box = lambda A: np.where(A[:, 0] - A[:, 2] > 0.2, 2, (A[:, 1] > 0).astype(int))
    ex = TreeExtractor(black_box, max_leaves=12, random_state=seed).fit(X[:1500])
    s, ref = ex.surrogate_, black_box(X)
    assert json.dumps(reasons.reason_stats(s, X, ref)) == json.dumps(
        _old_reason_stats(s, X, ref))


def test_data_model_sorted_two_at_a_time_equals_one_at_a_time(monkeypatch):
    # Large data sorts its numeric columns in two threads: the same units, bit for bit.
    X, schema = _mixed(3000, order="C", seed=4)
    serial = sampling._build_units(schema, X, 1.0)
    monkeypatch.setattr(sampling, "_PARALLEL_SORT_FROM", 0)
    threaded = sampling._build_units(schema, X, 1.0)
    assert [u.kind for u in serial] == [u.kind for u in threaded]
    for a, b in zip(serial, threaded):
        assert a.bandwidth == b.bandwidth and a.columns == b.columns
        if a.observed is not None:
            assert np.all(np.diff(b.observed) >= 0)
            np.testing.assert_array_equal(a.observed, b.observed)
