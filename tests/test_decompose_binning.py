"""Quantile binning for the decompositional trees, and ECLAIRE's weighted input samples."""

from __future__ import annotations

import numpy as np

from nnrules.extract.decompose.binning import bin_columns
from nnrules.extract.decompose.terms import clause_mask, learn_clauses
from nnrules.extract.eclaire import EclaireExtractor


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    A = np.c_[rng.normal(size=n), rng.integers(0, 3, n), np.round(rng.normal(size=n), 1),
              rng.exponential(size=n)]
    target = ((A[:, 0] > 0.3) ^ (A[:, 3] > 1.0)).astype(np.int64)
    return A, target


def test_codes_and_cuts_agree_on_every_cut():
    A, _ = _data()
    b = bin_columns(A, 16)
    for j in range(A.shape[1]):
        assert len(b.cuts[j]) <= 15
        assert np.all(np.diff(b.cuts[j]) > 0)
        for c, cut in enumerate(b.cuts[j]):
            assert np.array_equal(b.codes[:, j] <= c, A[:, j] <= cut)


def test_few_distinct_values_keep_every_midpoint():
    A, _ = _data()
    b = bin_columns(A, 16)
    assert b.cuts[1].tolist() == [0.5, 1.5]  # three values: CART's own midpoints


def test_binned_leaves_partition_the_rows_on_the_real_values():
    """Each leaf's clause, read on the real values, selects exactly the rows the tree put in
    that leaf: every row in one leaf, and each leaf's support its row count."""
    A, target = _data()
    b = bin_columns(A, 8)
    leaves = learn_clauses(A, target, min_samples_leaf=20, max_depth=None, binned=b)
    masks = [clause_mask(leaf.clause, A) for leaf in leaves]
    assert np.array_equal(np.sum(masks, axis=0), np.ones(len(A)))
    assert [int(m.sum()) for m in masks] == [leaf.support for leaf in leaves]
    raw = learn_clauses(A, target, min_samples_leaf=20, max_depth=None)
    right = lambda ls, ms: np.mean(sum(np.where(m, target == lf.value, False)  # noqa: E731
                                       for lf, m in zip(ls, ms)))
    raw_masks = [clause_mask(leaf.clause, A) for leaf in raw]
    assert right(leaves, masks) >= right(raw, raw_masks) - 0.02


def test_weights_make_the_sample_stand_for_all_rows():
    target = np.r_[np.ones(30, dtype=np.int64), np.zeros(970, dtype=np.int64)]
    rows = np.r_[np.arange(30), np.arange(30, 1000, 10)]
    w = EclaireExtractor._weights(target, rows)
    assert np.isclose(w[target[rows] == 1].sum(), 30)
    assert np.isclose(w[target[rows] == 0].sum(), 970)


def test_binned_sampled_eclaire_same_seed_same_bytes():
    """Above 4,000 rows eclaire bins its levels and samples its input trees (max_samples):
    the same seed still gives the same file, and the rules still follow the network."""
    from pathlib import Path

    import nnrules
    from nnrules.io import serialize

    net = nnrules.load(Path(__file__).parent / "fixtures" / "decompositional"
                       / "xor_16-8_s1.onnx")
    X = np.random.default_rng(3).uniform(size=(4500, 10))
    fits = [EclaireExtractor(net, max_samples=1500, random_state=5).fit(X) for _ in range(2)]
    assert serialize.dumps(fits[0].surrogate_) == serialize.dumps(fits[1].surrogate_)
    X_new = np.random.default_rng(4).uniform(size=(1000, 10))
    assert np.mean(fits[0].surrogate_.predict(X_new) == net.predict(X_new)) >= 0.9
