"""The additive extractor: ground-truth shapes, pair terms, fidelity, exact sympy, files, errors."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnrules import load
from nnrules.datasets import tabular_split
from nnrules.exceptions import DataError, FormatError, ParameterError
from nnrules.extract.additive import AdditiveExtractor
from nnrules.extract.tree import TreeExtractor
from nnrules.fidelity import r2_score
from nnrules.io import serialize
from nnrules.schema import Feature, FeatureSchema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "scripts"))
from make_additive_fixtures import rows  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from sympy_check import sympy_predict  # noqa: E402


@cache
def _additive():
    net = load(FIXTURES / "additive" / "additive.onnx")
    X = rows("additive", 800, seed=2)
    ex = AdditiveExtractor(net, n_queries=0, random_state=0).fit(
        X, feature_names=["x1", "x2", "x3", "x4"])
    return net, X, ex


@cache
def _interaction(n_pairs):
    net = load(FIXTURES / "additive" / "interaction.onnx")
    X = rows("interaction", 800, seed=2)
    ex = AdditiveExtractor(net, n_pairs=n_pairs, n_queries=0, random_state=0).fit(
        X, feature_names=["x1", "x2", "x3"])
    return net, ex


def _mixed_schema():
    """An integer, a binary, a three-way one-hot group, a categorical code and a continuous
    column: every kind of axis."""
    return FeatureSchema((
        Feature("age", "integer", 18, 70),
        Feature("smoker", "binary", 0, 1),
        Feature("color_red", "onehot", 0, 1, group="color", category="red"),
        Feature("color_green", "onehot", 0, 1, group="color", category="green"),
        Feature("color_blue", "onehot", 0, 1, group="color", category="blue"),
        Feature("city", "categorical", 0, 2, categories=("a", "b", "c")),
        Feature("income", "continuous", 0, 10),
    ))


def _mixed_rows(n, seed):
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 7))
    X[:, 0] = rng.integers(18, 71, n)
    X[:, 1] = rng.integers(0, 2, n)
    X[np.arange(n), 2 + rng.integers(0, 3, n)] = 1.0
    X[:, 5] = rng.integers(0, 3, n)
    X[:, 6] = rng.uniform(0, 10, n)
    return X


COLOR = np.array([0.5, -1.0, 2.0])
CITY = np.array([0.0, 1.5, -0.5])


def _mixed_truth(X):
    if isinstance(X, dict):  # what a black box gets when the schema has category strings
        names = _mixed_schema().names
        city = np.searchsorted(["a", "b", "c"], np.asarray(X["city"]).ravel())
        X = np.column_stack([np.asarray(X[n], dtype=object).ravel() if n != "city" else city
                             for n in names]).astype(np.float64)
    return (0.05 * (X[:, 0] - 40) + 1.2 * X[:, 1] + X[:, 2:5] @ COLOR + CITY[X[:, 5].astype(int)]
            + np.sqrt(X[:, 6]))


@cache
def _mixed(n_pairs=0):
    X = _mixed_rows(600, 0)
    ex = AdditiveExtractor(_mixed_truth, task="regression", n_pairs=n_pairs, n_queries=300,
                           random_state=1).fit(X, schema=_mixed_schema())
    return X, ex


def _grid_values(surrogate, term_index, column, grid, n_features):
    G = np.zeros((grid.size, n_features))
    G[:, column] = grid
    return surrogate.terms[term_index].values(G)[:, 0]


# -- ground truth --------------------------------------------------------------------------
def test_shapes_of_an_additive_network_are_recovered():
    _, _, ex = _additive()
    s = ex.surrogate_
    assert [t.axes[0].columns for t in s.terms] == [(0,), (1,), (2,), (3,)]
    grid = np.linspace(-1.9, 1.9, 201)
    truths = [np.sin(2 * grid), grid ** 2, -np.abs(grid)]
    for j, truth in enumerate(truths):
        h = _grid_values(s, j, j, grid, 4)
        assert np.corrcoef(h, truth - truth.mean())[0, 1] >= 0.98, j
    spreads = [t.importance for t in s.terms]
    assert spreads[3] < 0.05 * max(spreads)
    flat = _grid_values(s, 3, 3, grid, 4)
    assert np.ptp(flat) < 0.05 * np.ptp(_grid_values(s, 1, 1, grid, 4))
    assert list(s.importances())[-1] == "x4"


def test_terms_are_centred_on_the_extraction_rows():
    _, X, ex = _additive()
    means = ex.surrogate_.term_values(X).mean(axis=0)
    np.testing.assert_allclose(means, 0.0, atol=1e-9)


def test_one_interaction_needs_one_pair_and_it_is_x1_x2():
    net, plain = _interaction(0)
    _, paired = _interaction(1)
    X_new = rows("interaction", 1000, seed=5)
    reference = net.predict(X_new)
    r2_plain = r2_score(reference, plain.surrogate_.predict(X_new))
    r2_pair = r2_score(reference, paired.surrogate_.predict(X_new))
    assert r2_plain < 0.5
    assert r2_pair >= 0.95
    pairs = [t for t in paired.surrogate_.terms if len(t.axes) == 2]
    assert len(pairs) == 1 and pairs[0].columns == (0, 1)
    gain = paired.pair_gains_[0]
    assert gain["pair"] == "x1 x x2" and gain["r2_before"] < 0.5 <= 0.95 <= gain["r2_after"]
    report = paired.report(X_new, data_name="fresh rows")
    assert report.fidelity >= 0.95
    assert "x1 x x2" in report.details["pair_1"]


def test_pair_terms_do_not_take_over_main_effects():
    """A second, useless pair (x1, x3) must stay tiny: x3's effect stays in h(x3)."""
    _, ex = _interaction(2)
    s = ex.surrogate_
    spread = dict(zip(s.term_names(), (t.importance for t in s.terms)))
    second = [n for n in spread if " x " in n and n != "x1 x x2"]
    assert len(second) == 1
    assert spread[second[0]] < 0.05 * spread["x3"]


@pytest.fixture(scope="module")
def tabular_fidelity():
    out = {}
    for name in ("breast_cancer", "wine"):
        s = tabular_split(name)
        net = load(FIXTURES / "tabular" / f"{name}.onnx")
        reference = net.predict(s.X_test)
        fit = {"X": s.X_train, "feature_names": s.feature_names}
        tree = TreeExtractor(net, max_leaves=32, random_state=0).fit(**fit)
        additive = AdditiveExtractor(net, random_state=0).fit(**fit)
        out[name] = {
            "tree": float(np.mean(tree.surrogate_.predict(s.X_test) == reference)),
            "additive": float(np.mean(additive.surrogate_.predict(s.X_test) == reference)),
            "extractor": additive, "X_test": s.X_test, "reference": reference,
        }
    return out


@pytest.mark.parametrize("name", ["breast_cancer", "wine"])
def test_class_fidelity_at_least_the_tree_with_32_leaves(tabular_fidelity, name):
    r = tabular_fidelity[name]
    assert r["additive"] >= r["tree"]
    assert r["additive"] >= 0.95


def test_multiclass_scores_sympy_and_report(tabular_fidelity):
    r = tabular_fidelity["wine"]
    ex, X = r["extractor"], r["X_test"]
    s = ex.surrogate_
    assert s.output == "logits" and s.intercept.size == 3
    form = s.to_sympy()
    assert set(form) == {0, 1, 2}
    np.testing.assert_array_equal(sympy_predict(s, X), s.predict(X))
    proba = s.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(proba, axis=1), s.predict_index(X))
    report = ex.report(X, data_name="held-out")
    assert report.details["r2_scores"] > 0.5
    for label in (0, 1, 2):
        assert -1.0 < report.details[f"r2_score_class_{label}"] <= 1.0
    ranking = report.details["importance_ranking"].split(", ")
    assert ranking[0].startswith(next(iter(s.importances())))


def test_shape_plot_axes_say_which_class_a_positive_contribution_favours(
        tabular_fidelity, tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    from matplotlib.axes import Axes

    from nnrules.surrogates.additive_plot import write_plots

    seen: list[str] = []
    original = Axes.set_ylabel
    monkeypatch.setattr(Axes, "set_ylabel",
                        lambda self, text, *a, **k: (seen.append(text), original(
                            self, text, *a, **k))[1])
    s = tabular_fidelity["breast_cancer"]["extractor"].surrogate_
    small = type(s)(s.intercept, s.terms[:2], output=s.output, classes=s.classes,
                    schema=s.schema, task=s.task)
    write_plots(small, tmp_path)
    assert "> 0 favours 1, < 0 favours 0" in seen[-1].replace("'", "")


def test_binary_logit_surrogate_matches_network_scores(tabular_fidelity):
    r = tabular_fidelity["breast_cancer"]
    s = r["extractor"].surrogate_
    assert s.output == "logit" and s.classes == (0, 1)
    text = s.to_text()
    assert text.startswith("logit of 1 vs 0 = ") and "P(1) = 1 / (1 + exp(-logit))" in text
    assert "(toward 1)" in text and "(toward 0)" in text
    assert max(len(block.splitlines()) for block in text.split("\n") if block) < 200
    f = s.decision_function(r["X_test"])
    np.testing.assert_array_equal(s.predict(r["X_test"]), np.where(f > 0, 1, 0))


# -- every kind of axis --------------------------------------------------------------------
def test_mixed_kinds_recover_one_value_per_category():
    X, ex = _mixed()
    s = ex.surrogate_
    kinds = [tuple(a.kind for a in t.axes) for t in s.terms]
    assert kinds == [("steps",), ("steps",), ("onehot",), ("steps",), ("spline",)]
    color = s.terms[2].coef[0, :, 0]
    np.testing.assert_allclose(color - color.mean(), COLOR - COLOR.mean(), atol=0.02)
    city = s.terms[3].coef[0, :, 0]
    np.testing.assert_allclose(city - city.mean(), CITY - CITY.mean(), atol=0.02)
    smoker = s.terms[1].coef[0, :, 0]
    assert smoker[1] - smoker[0] == pytest.approx(1.2, abs=0.02)
    cuts = s.terms[0].axes[0].edges  # 53 ages > max_steps: binned, cut between whole ages
    assert 8 <= len(cuts) + 1 <= 32 and all(c % 1 == 0.5 for c in cuts)
    X_new = _mixed_rows(300, 7)
    assert r2_score(_mixed_truth(X_new), s.predict(X_new)) > 0.99
    text = s.knots_text()
    assert "color_green: " in text and "smoker <= 0.5" in text
    # The readable text: link stated, terms by importance, categories and ranges with effects.
    lines = s.to_text().splitlines()
    assert lines[0].startswith("prediction = ")
    heads = [ln for ln in lines if ln[:1].isdigit()]
    assert [h.split(" (")[0] for h in heads] == [
        f"{i}. {n}" for i, n in enumerate(s.importances(), 1)]
    smoker = lines[lines.index(next(h for h in heads if "smoker" in h)) + 1:][:2]
    effect = {row.split()[0]: float(row.split()[1]) for row in smoker}
    assert effect["1"] - effect["0"] == pytest.approx(1.2, abs=0.03)
    # Every age range's stated effect is the shape's mean on that range, within the tolerance.
    age = s.terms[0]
    start = lines.index(next(h for h in heads if h.split(". ")[1].startswith("age")))
    tol = float(lines[-1].split("at most ")[1].split(" ")[0])
    for row in lines[start + 1:]:
        if not row.startswith("     "):
            break
        span, value = row.split()[0], float(row.split()[1])
        lo, _, hi = span.partition("–")
        ages = np.arange(int(lo), int(hi or lo) + 1, dtype=float)
        Z = np.zeros((ages.size, s.n_features))
        Z[:, 0] = ages
        assert abs(age.values(Z)[:, 0].mean() - value) <= 1.6 * tol


@cache
def _lambdified():
    _, ex = _mixed(1)
    s = ex.surrogate_
    return s, sympy.lambdify(s.symbols(), s.to_sympy(), modules="numpy")


_row = st.tuples(
    st.integers(0, 90), st.integers(0, 1), st.integers(0, 2), st.integers(0, 2),
    st.floats(-5.0, 15.0, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, min_size=1, max_size=20))
def test_predict_equals_lambdified_sympy_on_any_row(raw):
    """Inside and outside the observed ranges (splines hold their boundary values)."""
    s, fn = _lambdified()
    X = np.zeros((len(raw), 7))
    for i, (age, smoker, color, city, income) in enumerate(raw):
        X[i, [0, 1, 2 + color, 5, 6]] = [age, smoker, 1.0, city, income]
    expected = np.broadcast_to(fn(*X.T), (len(X),))
    np.testing.assert_allclose(s.predict(X), expected, rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (8, 4), elements=st.floats(-3.0, 3.0, allow_nan=False)))
def test_spline_sympy_matches_predict_on_the_ground_truth_model(X):
    _, _, ex = _additive()
    s = ex.surrogate_
    fn = _spline_fn()
    np.testing.assert_allclose(s.predict(X), fn(*X.T), rtol=1e-9, atol=1e-9)


@cache
def _spline_fn():
    s = _additive()[2].surrogate_
    return sympy.lambdify(s.symbols(), s.to_sympy(), modules="numpy")


# -- files ---------------------------------------------------------------------------------
def test_json_round_trip_with_pairs_and_every_axis_kind_validates():
    _, ex = _mixed(1)
    text = serialize.dumps(ex.surrogate_)
    d = json.loads(text)
    serialize.validate(d)
    again = serialize.loads(text)
    assert serialize.dumps(again) == text
    X = _mixed_rows(50, 3)
    np.testing.assert_array_equal(again.predict(X), ex.surrogate_.predict(X))
    assert again.term_names() == ex.surrogate_.term_names()


def test_malformed_files_are_format_errors():
    _, ex = _mixed()
    d = json.loads(serialize.dumps(ex.surrogate_))
    d["terms"][0]["coef"] = d["terms"][0]["coef"][:-1]
    with pytest.raises(FormatError, match="nnrules/additive"):
        serialize.loads(json.dumps(d))
    d = json.loads(serialize.dumps(ex.surrogate_))
    d["version"] = 3  # version 2 is version 1 plus the local fidelity and reason statistics
    with pytest.raises(FormatError, match="version"):
        serialize.loads(json.dumps(d))


def test_cli_extract_writes_shape_plots_into_the_report(tmp_path):
    pytest.importorskip("matplotlib")
    from nnrules.cli import main

    X = rows("interaction", 300, seed=4)
    data = tmp_path / "train.csv"
    data.write_text("x1,x2,x3\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in X) + "\n")
    out = tmp_path / "out"
    code = main(["extract", str(FIXTURES / "additive" / "interaction.onnx"), "--data",
                 str(data), "--method", "additive", "--param", "n_pairs=1", "--param",
                 "n_queries=0", "--out", str(out)])
    assert code == 0
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["importance.png", "shapes.png"]
    for name in pngs:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"![{name}]({name})" in (out / "report.md").read_text()
    saved = serialize.load(out / "surrogate.json")
    assert saved.term_names()[-1] == next(iter(saved.importances())) == "x1 x x2"


def test_plots_show_the_terms_that_matter_unless_asked_for_all():
    from types import SimpleNamespace

    from nnrules.surrogates.additive_plot import MAX_TERMS, important_terms

    def surrogate(spreads):
        return SimpleNamespace(terms=[SimpleNamespace(importance=v) for v in spreads])

    # 0.5 + 0.3 = 0.8 of the total: two terms, largest first; ties keep their order.
    assert important_terms(surrogate([0.1, 0.5, 0.05, 0.3, 0.05])) == [1, 3]
    assert important_terms(surrogate([0.1, 0.5, 0.05, 0.3, 0.05]), "all") == [1, 3, 0, 2, 4]
    assert important_terms(surrogate([0.1, 0.5, 0.05, 0.3, 0.05]), 3) == [1, 3, 0]
    flat = important_terms(surrogate([1.0] * 30))
    assert flat == list(range(MAX_TERMS))
    assert important_terms(surrogate([0.0, 0.0])) == [0]
    with pytest.raises(DataError, match="'important', 'all' or a count"):
        important_terms(surrogate([1.0]), "most")


# -- bad input -----------------------------------------------------------------------------
def test_constant_and_single_valued_features_give_flat_shapes():
    X = _mixed_rows(200, 1)
    X[:, 6] = 3.0                      # a constant continuous feature
    X[:, 1] = 0.0                      # a binary feature with one value
    X[:, 2:5] = 0.0
    X[:, 3] = 1.0                      # a one-hot group that never changes
    schema = _mixed_schema()
    ex = AdditiveExtractor(_mixed_truth, task="regression", n_queries=50,
                           random_state=0).fit(X, schema=schema)
    s = ex.surrogate_
    used = {c for t in s.terms for c in t.columns}
    assert used == {0, 5}
    X_new = _mixed_rows(20, 2)
    assert np.all(np.isfinite(s.predict(X_new)))
    assert set(s.importances()) == {"age", "city"}


def test_too_few_rows_for_the_knots_says_the_minimum():
    X = rows("additive", 10, seed=0)
    net = load(FIXTURES / "additive" / "additive.onnx")
    with pytest.raises(DataError, match=r"at least 19 rows .*n_knots=16.*got 10 rows"):
        AdditiveExtractor(net, random_state=0).fit(X)
    ex = AdditiveExtractor(net, n_knots=4, n_queries=0, random_state=0).fit(X)
    assert len(ex.surrogate_.terms) == 4


@pytest.mark.parametrize("params, name", [
    ({"n_knots": 1}, "n_knots"), ({"degree": 0}, "degree"), ({"n_pairs": -1}, "n_pairs"),
    ({"smoothing": 0.0}, "smoothing"), ({"pair_knots": 1}, "pair_knots"),
])
def test_bad_parameters_are_parameter_errors(params, name):
    X = rows("additive", 50, seed=0)
    with pytest.raises(ParameterError, match=rf"'{name}' parameter of AdditiveExtractor"):
        AdditiveExtractor(lambda X: X[:, 0], task="regression", **params).fit(X)


def test_black_box_with_labels_only_is_distilled_from_indicators():
    X = rows("additive", 400, seed=0)
    labels = lambda X: np.where(X[:, 0] + X[:, 1] ** 2 > 1.0, "yes", "no")  # noqa: E731
    ex = AdditiveExtractor(labels, n_queries=0, random_state=0).fit(X)
    s = ex.surrogate_
    assert s.output == "logit" and s.classes == ("no", "yes")
    X_new = rows("additive", 400, seed=9)
    assert np.mean(s.predict(X_new) == labels(X_new)) > 0.9


def test_wrong_width_rows_are_refused():
    _, _, ex = _additive()
    with pytest.raises(DataError, match=r"rows of 4 columns"):  # bad data: a DataError
        ex.surrogate_.predict(np.zeros((3, 5)))


def test_duplicated_columns_share_the_shape_without_breaking_the_fit():
    X = rows("additive", 300, seed=0)[:, :2]
    X = np.column_stack([X, X[:, 0]])  # x3 is a copy of x1: the basis is degenerate
    f = lambda X: np.sin(2 * X[:, 0]) + X[:, 1]  # noqa: E731
    ex = AdditiveExtractor(f, task="regression", n_queries=0, random_state=0).fit(X)
    X_new = rows("additive", 200, seed=1)[:, :2]
    X_new = np.column_stack([X_new, X_new[:, 0]])
    assert r2_score(f(X_new), ex.surrogate_.predict(X_new)) > 0.99


def test_without_matplotlib_plots_are_skipped_or_a_clear_error(monkeypatch, tmp_path):
    from nnrules.surrogates.additive_plot import write_plots

    _, ex = _interaction(1)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    from nnrules.exceptions import PlotsSkippedWarning

    with pytest.warns(PlotsSkippedWarning, match=r"pip install nnrules\[plot\]"):
        assert ex.surrogate_.write_artifacts(tmp_path) == []
    assert not list(tmp_path.iterdir())
    with pytest.raises(DataError, match=r"pip install nnrules\[plot\]"):
        write_plots(ex.surrogate_, tmp_path, required=True)


def test_reasons_name_the_largest_contributions():
    _, ex = _interaction(1)
    s = ex.surrogate_
    X = np.array([[2.0, 2.0, 0.0], [-2.0, 2.0, 0.5]])
    reasons = s.reasons(X)
    values = s.predict(X)
    for text, value in zip(reasons, values):
        first = text.split("(intercept) ")[1]          # "+3.998 x1 x x2 +0.01 x3 ..."
        assert first.split(" ", 1)[1].startswith("x1 x x2 ")
        assert float(text.split(" ")[1]) == pytest.approx(value, rel=1e-3)
    contributions = s.explain(X)
    np.testing.assert_allclose(contributions.sum(axis=1) + s.intercept[0], values)
