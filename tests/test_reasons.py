"""Reason codes and local fidelity: figures recomputed by brute force from the rows, the stored
annotations round-trip (format version 2) while version-1 files still load, bad input fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import export_cases as ec

from nnrules.exceptions import FormatError, ParameterError
from nnrules.fidelity import wilson_interval
from nnrules.io import serialize
from nnrules.surrogates.reasons import attach, reasons
from nnrules.surrogates.rules import simplify_conditions

SCHEMAS = Path(__file__).parents[1] / "nnrules" / "io" / "schemas"


def _noisy_reference(s, X, seed=0):
    """A 'network' that agrees with the surrogate on about 85% of rows."""
    rng = np.random.default_rng(seed)
    ref = np.asarray(s.predict(X), dtype=object)
    flip = rng.random(len(X)) < 0.15
    labels = list(s.classes)
    ref[flip] = [labels[(labels.index(v) + 1) % len(labels)] for v in ref[flip]]
    return ref


@pytest.fixture(scope="module")
def annotated_tree():
    s = ec.CASES["tree"]()
    X = ec.random_rows(3000, np.random.default_rng(5))
    ref = _noisy_reference(s, X)
    attach(s, X, ref, source="training", data="train", stats=True)
    return s, X, ref


def test_tree_contributions_are_sibling_region_probability_changes(annotated_tree):
    s, X, ref = annotated_tree
    rows = ec.random_rows(40, np.random.default_rng(9))
    out = reasons(s, rows, k=10)
    leaves = s.apply(rows)
    checked = 0
    for i, item in enumerate(out):
        conds = simplify_conditions(s.paths()[int(leaves[i])])
        c = s.predict_index(rows[i:i + 1])[0]
        label = s.classes[c]
        H = np.column_stack([t.holds(X) for t in conds])
        own = H.all(axis=1)
        expected = {}
        for j, t in enumerate(conds):
            sib = (~H[:, j]) & np.delete(H, j, axis=1).all(axis=1)
            if own.sum() and sib.sum():
                expected[t.to_text(s.schema)] = (np.mean(ref[own] == label)
                                                 - np.mean(ref[sib] == label))
        got = {r["text"]: r["contribution"] for r in item["reasons"]
               if r["contribution"] is not None}
        assert got == pytest.approx(expected)
        checked += len(expected)
        values = [r["contribution"] for r in item["reasons"] if r["contribution"] is not None]
        assert values == sorted(values, reverse=True)  # most important first
        assert item["prediction"] == label
        # every reason is a condition the row meets
        texts = {t.to_text(s.schema): bool(t.holds(rows[i:i + 1])[0]) for t in conds}
        assert all(texts[r["text"]] for r in item["reasons"])
    assert checked > 100


def test_local_fidelity_counts_agreement_per_leaf_with_wilson_interval(annotated_tree):
    s, X, ref = annotated_tree
    out = reasons(s, X[:200], k=2)
    leaves = s.apply(X)
    pred = s.predict(X)
    for i, item in enumerate(out):
        mask = leaves == leaves[i]
        k, n = int(np.sum(pred[mask] == ref[mask])), int(mask.sum())
        assert item["local_n"] == n
        assert item["local_fidelity"] == k / n
        assert (item["local_fidelity_low"], item["local_fidelity_high"]) == pytest.approx(
            wilson_interval(k, n))
    assert s.local_fidelity["source"] == "training"


def test_ruleset_uses_the_deciding_rule_in_order():
    s = ec.CASES["ruleset"]()
    X = ec.random_rows(3000, np.random.default_rng(2))
    attach(s, X, _noisy_reference(s, X), source="evaluation", data="held-out", stats=True)
    rows = ec.random_rows(50, np.random.default_rng(3))
    fired = s.explain(rows)
    for i, item in enumerate(reasons(s, rows, k=3)):
        r = int(fired[i])
        assert item["region"] == r
        if r < 0:
            assert item["reasons"] == []  # the default decided: no condition to cite
            continue
        texts = {t.to_text(s.schema) for t in s.rules[r].conditions}
        assert {x["text"] for x in item["reasons"]} <= texts
        assert len(item["reasons"]) == min(3, len(texts))


def test_additive_reasons_are_terms_pushing_toward_the_prediction():
    s = ec.CASES["additive_logit"]()
    X = ec.random_rows(2000, np.random.default_rng(4))
    attach(s, X, s.predict(X), source="training", stats=True)
    ref = np.asarray(s.reason_stats["reference"])
    assert ref[ec.AGE] == np.median(X[:, ec.AGE])
    rows = ec.random_rows(30, np.random.default_rng(6))
    tv = s.term_values(rows)[:, :, 0] - s.term_values(ref.reshape(1, -1))[0, :, 0]
    sign = np.where(s.predict_index(rows) == 1, 1.0, -1.0)
    for i, item in enumerate(reasons(s, rows, k=4)):
        toward = sorted((v for v in tv[i] * sign[i] if v > 0), reverse=True)[:4]
        assert [r["contribution"] for r in item["reasons"]] == pytest.approx(toward)
    # the contributions of all terms add up to the score's move from the reference
    full = tv.sum(axis=1)
    moved = s.decision_function(rows) - s.decision_function(ref.reshape(1, -1))[0]
    np.testing.assert_allclose(full, moved, rtol=1e-9, atol=1e-9)


def test_box_reasons_are_the_tightest_bounds():
    s = ec.CASES["boxes"]()
    rows = ec.random_rows(300, np.random.default_rng(8))
    idx = s.explain(rows)
    for i, item in enumerate(reasons(s, rows, k=2)):
        slacks = [r["contribution"] for r in item["reasons"]]
        assert slacks == sorted(slacks) and all(v >= 0 for v in slacks)
        if idx[i] >= 0 and item["reasons"]:
            b = int(idx[i])
            span = np.array([f.upper - f.lower for f in ec.SCHEMA.features])
            cand = [(rows[i, j] - s.lower[b, j]) / span[j] for j in range(8)
                    if ec.SCHEMA.features[j].kind != "onehot" and s.lower[b, j] >
                    ec.SCHEMA.features[j].lower]
            cand += [(s.upper[b, j] - rows[i, j]) / span[j] for j in range(8)
                     if ec.SCHEMA.features[j].kind != "onehot" and s.upper[b, j] <
                     ec.SCHEMA.features[j].upper]
            assert slacks[0] == pytest.approx(min(cand))


def test_regression_has_counts_but_no_agreement():
    s = ec.CASES["tree_regression"]()
    X = ec.random_rows(500, np.random.default_rng(1))
    attach(s, X, s.predict(X) + 1.0, source="training", stats=True)
    item = reasons(s, X[:1], k=4)[0]
    assert item["local_fidelity"] is None and item["local_n"] > 0
    counts = {c["region"]: c for c in s.local_fidelity["counts"]}
    assert counts[item["region"]]["mean_abs_difference"] == pytest.approx(1.0)


@pytest.mark.parametrize("k", [0, 11, -1, 2.5, True])
def test_bad_k_is_a_clear_error(k):
    s = ec.CASES["tree"]()
    with pytest.raises(ParameterError, match=r"int in \[1, 10\]"):
        reasons(s, ec.random_rows(2, np.random.default_rng(0)), k=k)


def test_method_form_and_sentences_unchanged():
    s = ec.CASES["tree"]()
    X = ec.random_rows(3, np.random.default_rng(0))
    assert all(isinstance(t, str) for t in s.reasons(X))  # the one-sentence form stays
    assert s.reasons(X, k=2) == reasons(s, X, 2)


@pytest.mark.parametrize("name", ["tree", "ruleset", "boxes", "additive_logits"])
def test_annotations_round_trip_as_version_2_and_validate(name):
    s = ec.CASES[name]()
    plain = json.loads(serialize.dumps(s))
    assert plain["version"] == 2 and "local_fidelity" not in plain  # nothing stored yet
    X = ec.random_rows(800, np.random.default_rng(0))
    attach(s, X, s.predict(X), source="training", stats=True)
    text = serialize.dumps(s)
    d = json.loads(text)
    assert d["version"] == 2 and "local_fidelity" in d
    assert ("reason_stats" in d) == (name != "boxes")  # boxes need no statistics
    kind = d["format"].split("/")[1]
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{kind}.json").read_text())).validate(d)
    again = serialize.loads(text)
    assert serialize.dumps(again) == text
    assert reasons(again, X[:20], 3) == reasons(s, X[:20], 3)
    # a version-1 file (written before local figures existed) still loads, without them
    old = serialize.loads(json.dumps({**plain, "version": 1}))
    assert old.local_fidelity is None and old.reason_stats is None
    assert reasons(old, X[:2], 1)[0]["local_n"] is None
    assert np.array_equal(old.predict(X), s.predict(X))
    d["version"] = 3
    with pytest.raises(FormatError, match="version 3"):
        serialize.loads(json.dumps(d))
