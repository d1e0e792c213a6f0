"""Table surrogates refuse NaN and inf rows instead of answering them silently.

``NaN <= t`` is False, so a tree sent NaN down one branch, a rule set fired or skipped rules
arbitrarily, and a box set's "no fallback leaf" looked like fallback leaf 0. Every predict-family
method now refuses such rows with a ``DataError`` naming the column and the first row; finite
rows are answered exactly as before (checked against the unchecked path), and the CLI's
``--drop-invalid`` / refusal of NaN cells is unchanged.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from nnrules.exceptions import DataError
from nnrules.surrogates.base import TableSurrogate
from nnrules.surrogates.boxes import BoxRuleSet

sys.path.insert(0, str(Path(__file__).parent))
from test_contract import _instances, _rows

TABLE_KINDS = ("tree", "tree_regression", "trepan", "additive", "additive_regression", "rules",
               "rules_regression", "rules_from_tree", "boxes", "boxes_regression")
#: The public methods that read rows, where a kind has them.
METHODS = ("predict", "predict_index", "predict_proba", "explain", "apply", "reasons",
           "decision_function", "term_values", "covered")


def _methods(s):
    for name in METHODS:
        if not hasattr(s, name):
            continue
        if name == "predict_proba" and s.task != "classification":
            continue
        yield name, getattr(s, name)
    yield "reasons(k=2)", lambda X: s.reasons(X, k=2)


@pytest.mark.parametrize("kind", TABLE_KINDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_row_reading_method_refuses_nan_and_inf_naming_column_and_row(kind, bad):
    s = _instances()[kind]
    X, _ = _rows()
    batch = X[:40].copy()
    batch[7, 1] = bad                        # column 'n' (integer)
    batch[9, 3] = bad                        # column 'color_green' (one-hot)
    one = batch[7:8]
    names = ("n", "color_green") if s.schema is not None else ("x1", "x3")  # no schema: x<j>
    for name, method in _methods(s):
        for rows, first in ((batch, 7), (one, 0)):
            with pytest.raises(DataError) as err:
                method(rows)
            text = str(err.value)
            assert f"row {first}, column '{names[0]}' = {bad}" in text, (name, text)
            assert (f"'{names[1]}'" in text) == (rows is batch), (name, text)
            assert "drop" in text and "--drop-invalid" in text and "Impute" in text


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_finite_rows_answer_exactly_as_the_unchecked_path(kind, monkeypatch):
    s = _instances()[kind]
    X, _ = _rows()
    rng = np.random.default_rng(3)
    wild = X[:50] * rng.choice([-1e3, 1.0, 1e3], size=(50, X.shape[1]))  # off the domain too
    huge = X[:3].copy()
    huge[:, 0] = 1.7e308                     # finite, but the row sums overflow to inf
    rows = np.vstack([X, wild, huge])
    checked = [(name, method(rows), [method(rows[i:i + 1]) for i in (0, 301, 351)])
               for name, method in _methods(s)]
    monkeypatch.setattr(TableSurrogate, "_rows",
                        lambda self, X: np.asarray(X, dtype=np.float64))
    for (name, batch, singles), (_, method) in zip(checked, _methods(s)):
        assert repr(np.asarray(batch, dtype=object).tolist()) == \
            repr(np.asarray(method(rows), dtype=object).tolist()), name
        for i, got in zip((0, 301, 351), singles):
            assert repr(np.asarray(got, dtype=object).tolist()) == \
                repr(np.asarray(method(rows[i:i + 1]), dtype=object).tolist()), (name, i)


def test_large_inputs_take_the_numpy_check_and_overflow_is_not_refused():
    s = _instances()["tree"]
    X, _ = _rows()
    big = np.vstack([X] * 4)
    big[:, 0] = 1.7e308                      # the sum overflows; every value is finite
    assert len(s.predict(big)) == len(big)
    big[1000, 5] = np.nan
    with pytest.raises(DataError, match=r"NaN or inf on 1 of 1200 rows \(first: row 1000, column 'smoker'"):
        s.predict(big)


#: The one shape of every NaN / inf message (nnrules._finite): who, what, how many, the first,
#: why, what to do.
SHAPE = (r"^\S.* (answered|was given) NaN or inf on \d+ of \d+ [a-z (),0-9]+ \(first: [^)]+\)"
         r"[^;]*; [a-z].*\. [A-Z].*\.$")


@pytest.mark.parametrize("rows", [1, 3, 100])  # Python's sum below 64 values, numpy above
def test_network_answers_and_surrogate_inputs_share_one_check_and_one_message(tmp_path, rows):
    """A network answering NaN and a surrogate given NaN take the same check (one- to
    many-row answers alike) and say so in one message shape."""
    from onnx_builders import dense_mlp, mlp_weights, save

    from nnrules.exceptions import OracleError
    from nnrules.io.model import load

    layers = mlp_weights([6, 4, 2], seed=1)
    w0 = layers[0][0].copy()
    w0[0, :] = 3e38                          # column 0 = 1: every logit overflows to inf
    layers[0] = (w0, layers[0][1])
    layers[1] = (np.abs(layers[1][0]) + 1, layers[1][1])
    network = load(save(dense_mlp(layers, head="Softmax"), tmp_path / "big.onnx"))
    X = np.ones((rows, 6))
    X[:, 0] = 0.0
    X[-1, 0] = 1.0                           # the last row only: NaN answered
    if rows > 1:
        assert len(network.predict(X[:-1])) == rows - 1
    with pytest.raises(OracleError) as answered:
        network.predict(X)
    assert re.match(SHAPE, str(answered.value)), str(answered.value)
    assert f"on 1 of {rows} rows (first: {rows - 1})" in str(answered.value)
    s = _instances()["tree"]
    batch = _rows()[0][:rows].copy()
    batch[-1, 0] = np.nan
    with pytest.raises(DataError) as given:
        s.predict(batch)
    assert re.match(SHAPE, str(given.value)), str(given.value)
    assert f"on 1 of {rows} rows (first: row {rows - 1}, column" in str(given.value)
    huge = np.full((rows, 6), 1.7e308)       # finite; the sum overflows: not refused
    from nnrules._finite import all_finite

    assert all_finite(huge)
    assert not all_finite(np.where(np.arange(rows * 6).reshape(rows, 6) == 5, np.inf, huge))


def _gapped_boxes():
    """One proven box and a fallback tree whose two leaves leave age in (50, 60] uncovered."""
    _, schema = _rows()
    inf = np.inf
    lower = np.array([[18, 0, 0, 0, 0, 0]], dtype=float)
    upper = np.array([[30, 1, 1, 1, 1, 0]], dtype=float)
    return BoxRuleSet(lower, upper, ["yes"], schema=schema, classes=["no", "yes"],
                      fallback="tree",
                      fallback_lower=np.array([[-inf] * 6, [60] + [-inf] * 5]),
                      fallback_upper=np.array([[50] + [inf] * 5, [inf] * 6]),
                      fallback_outputs=["no", "yes"])


def test_box_explain_tells_no_fallback_leaf_from_fallback_leaf_zero():
    boxes = _gapped_boxes()
    X = np.array([[20, 0, 1, 0, 0, 0],        # the proven box
                  [40, 3, 1, 0, 0, 1],        # fallback leaf 0 (age <= 50)
                  [55, 3, 1, 0, 0, 1],        # no box, no leaf
                  [70, 3, 1, 0, 0, 1]],       # fallback leaf 1 (age > 60)
                 dtype=float)
    assert boxes.explain(X).tolist() == [0, -1, -3, -2]
    assert boxes.predict(X).tolist() == ["yes", "no", None, "yes"]  # was "no" (leaf 0's label)
    said = boxes.reasons(X)
    assert "fallback tree leaf 0" in said[1] and "abstained" in said[2] and "leaf 0" not in said[2]
    principal = boxes.reasons(X, k=2)
    assert principal[2]["reasons"] == [] and principal[2]["prediction"] is None
    assert principal[1]["reasons"]           # leaf 0 still explained by its bounds

    from nnrules.certification.regions import regions_of

    schema = boxes.schema
    lo = np.array([f.lower for f in schema.features])
    hi = np.array([f.upper for f in schema.features])
    regions = regions_of(boxes, ["no", "yes"], lo, hi)
    assert regions.region_of(X).tolist() == [0, 1, -1, 2]  # box 1, leaf 1, none, leaf 2


def test_abstaining_boxes_keep_minus_one():
    boxes = _instances()["boxes_regression"]  # fallback "abstain"
    X, _ = _rows()
    e = boxes.explain(X)
    assert set(e[e < 0].tolist()) == {-1}
    assert np.isnan(boxes.predict(X)[e < 0]).all()


def test_string_categories_read_by_nnrules_are_answered(tmp_path):
    from nnrules.extract import get_extractor
    from nnrules.io.data import read_data

    rng = np.random.default_rng(0)
    colours = rng.choice(["red", "green", "blue"], 200)
    age = rng.uniform(18, 90, 200).round(1)
    path = tmp_path / "rows.csv"
    path.write_text("age,colour\n" + "".join(f"{a},{c}\n" for a, c in zip(age, colours)))
    data = read_data(path)
    truth = np.where((colours == "green") | (age > 60), "yes", "no")

    def model(Z):  # the oracle feeds a function the raw columns, categories as strings
        return np.where((Z["colour"][:, 0] == "green") | (Z["age"][:, 0] > 60), "yes", "no")

    tree = get_extractor("tree")(model, random_state=0, n_queries=0).fit(
        data.X, schema=data.schema).surrogate_
    for s in (tree, tree.to_rules()):
        again = read_data(path, schema=s.schema)
        assert s.predict(again.X).tolist() == truth.tolist()
        assert len(s.reasons(again.X)) == 200


def test_cli_predict_refuses_a_nan_cell_as_before_and_drops_it_on_request(tmp_path, capsys):
    from nnrules.cli import main

    root = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
    out = tmp_path / "tree"
    assert main(["extract", str(root / "model.onnx"), "--data", str(root / "train.csv"),
                 "--target", "target", "--method", "tree", "--param", "max_leaves=4",
                 "--out", str(out), "--quiet"]) == 0
    lines = (root / "test.csv").read_text().splitlines()[:21]
    cells = lines[3].split(",")
    cells[1] = "nan"
    lines[3] = ",".join(cells)
    data = tmp_path / "nan.csv"
    data.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    predict = ["predict", str(out / "surrogate.json"), "--data", str(data), "--quiet",
               "--target", "target"]
    code = main(predict)
    err = capsys.readouterr().err
    assert code != 0 and "--drop-invalid" in err and "row 2" in err  # the reader's refusal
    code = main(predict + ["--drop-invalid"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and len(printed) == 1 + 19            # header, 20 rows less the NaN one


@pytest.mark.parametrize("kind", TABLE_KINDS)
def test_every_row_reading_method_refuses_rows_of_another_width(kind):
    """A row of the wrong shape is refused with a DataError saying the width: a tree or rule
    set read columns by position, so a 1-D row or a missing column raised IndexError, and an
    extra column (the target left in) was answered silently."""
    s = _instances()[kind]
    X, _ = _rows()
    d = X.shape[1]
    wrong = [(X[0], "X.reshape(1, -1)"), (X[:5, :-1], "in order")]
    if s.schema is not None:  # without a schema extra columns are allowed (no width known)
        wrong.append((np.hstack([X[:5], X[:5, :1]]), "without the target"))
    for name, method in _methods(s):
        for rows, hint in wrong:
            with pytest.raises(DataError) as err:
                method(rows)
            text = str(err.value)
            assert f"takes rows of {s.n_features} columns" in text, (name, text)
            assert f"got shape {rows.shape}" in text and hint in text, (name, text)
        method(X[:5])  # the right width is answered
    assert s.n_features <= d
