"""Fidelity figures: Wilson intervals, per-class agreement, R², honest warnings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from nnrules.exceptions import DataError, FormatError
from nnrules.fidelity import FidelityReport, evaluate, r2_score, wilson_interval


class _Fixed:
    """A stand-in surrogate or oracle answering fixed values."""

    def __init__(self, values, task="classification", classes=None):
        self.values = np.asarray(values)
        self.task = task
        self.classes = None if classes is None else np.asarray(classes)
        self.n_queries = 0

    def predict(self, X):
        return self.values[: len(X)]

    def complexity(self):
        return {"leaves": 3}


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (37, 50), (999, 1000), (1, 3)])
def test_wilson_matches_closed_form(k, n):
    lo, hi = wilson_interval(k, n)
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert lo == pytest.approx(max(0, centre - half), abs=1e-12)
    assert hi == pytest.approx(min(1, centre + half), abs=1e-12)
    assert 0.0 <= lo <= p <= hi <= 1.0


def test_wilson_refuses_zero_rows():
    with pytest.raises(DataError, match="at least one row"):
        wilson_interval(0, 0)


def test_agreement_per_class_and_accuracy():
    network = _Fixed([0, 0, 1, 1, 1, 2], classes=[0, 1, 2])
    surrogate = _Fixed([0, 1, 1, 1, 0, 2])
    y = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 2.0])  # CSV labels often come as floats
    report = evaluate(surrogate, network, np.zeros((6, 1)), y, data_name="six rows")
    assert report.fidelity == pytest.approx(4 / 6)
    assert report.n_eval == 6
    by_label = {row["label"]: row for row in report.per_class}
    assert by_label[0]["fidelity"] == pytest.approx(0.5) and by_label[0]["n"] == 2
    assert by_label[1]["fidelity"] == pytest.approx(2 / 3) and by_label[1]["n"] == 3
    assert by_label[2]["fidelity"] == 1.0
    assert report.accuracy == {"network": pytest.approx(5 / 6), "surrogate": pytest.approx(3 / 6)}
    assert report.fidelity_ci95[0] < 4 / 6 < report.fidelity_ci95[1]


def test_one_class_network_is_reported_not_divided_by_zero():
    network = _Fixed([1, 1, 1, 1], classes=[0, 1])
    surrogate = _Fixed([1, 1, 0, 1])
    report = evaluate(surrogate, network, np.zeros((4, 1)), data_name="tiny")
    assert report.fidelity == 0.75
    row0 = next(r for r in report.per_class if r["label"] == 0)
    assert row0 == {"label": 0, "n": 0, "fidelity": None, "ci95": None}
    assert any("predicts only class 1" in w for w in report.warnings)
    json.dumps(report.to_dict(), allow_nan=False)  # no NaN sneaks into the file


def test_regression_r2_and_constant_output():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=200)
    noisy = ref + 0.1 * rng.normal(size=200)
    report = evaluate(_Fixed(noisy, "regression"), _Fixed(ref, "regression"), np.zeros((200, 1)))
    assert report.fidelity == pytest.approx(r2_score(ref, noisy))
    assert 0.95 < report.fidelity < 1.0
    lo, hi = report.fidelity_ci95
    assert lo < report.fidelity < hi
    flat = evaluate(_Fixed(noisy, "regression"), _Fixed(np.ones(200), "regression"), np.zeros((200, 1)))
    assert flat.fidelity is None and any("constant" in w for w in flat.warnings)


def test_empty_evaluation_data_is_refused():
    with pytest.raises(DataError, match="no rows"):
        evaluate(_Fixed([]), _Fixed([], classes=[0]), np.zeros((0, 1)), data_name="empty.csv")


def test_report_round_trips_and_reads_as_markdown():
    network = _Fixed([0, 1, 1, 0], classes=[0, 1])
    report = evaluate(_Fixed([0, 1, 1, 1]), network, np.zeros((4, 1)), data_name="held.csv")
    again = FidelityReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.to_dict() == report.to_dict()
    text = report.to_markdown()
    assert "held.csv" in text and "0.7500" in text and "95% interval" in text


def test_reports_count_evaluation_rows_seen_during_extraction():
    from pathlib import Path

    import nnrules
    from nnrules.io.data import read_data

    example = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
    network = nnrules.load(example / "model.onnx")
    train = read_data(example / "train.csv", target="target")
    test = read_data(example / "test.csv", target="target", schema=train.schema)
    ex = nnrules.TreeExtractor(network, max_leaves=4, random_state=0).fit(
        train.X, schema=train.schema)

    held_out = ex.report(test.X)
    assert held_out.data["kind"] == "held-out rows the extractor did not see"
    assert not [w for w in held_out.warnings if "optimistic" in w]
    # Held-out rows beyond the extraction rows' bounds are counted, row by row.
    lo, hi = train.X.min(axis=0), train.X.max(axis=0)
    beyond = int(np.any((test.X < lo) | (test.X > hi), axis=1).sum())
    assert held_out.data["outside_domain"]["rows"] == beyond
    assert [w for w in held_out.warnings if "outside the domain" in w]

    subset = ex.report(train.X[10:60])  # not the same array, but every row was seen
    assert subset.data["kind"] == "rows taken from the extraction data"
    assert any("50 of the 50" in w for w in subset.warnings)

    mixed = ex.report(np.vstack([test.X[:30], train.X[:7]]))
    assert mixed.data["kind"] == "7 of 37 rows were also extraction rows"
    assert any("7 of the 37" in w for w in mixed.warnings)

    assert "extraction data itself" in ex.report(train.X).data["kind"]

    # Without the extractor nothing is known, and the report does not pretend otherwise.
    blind = evaluate(ex.surrogate_, ex.oracle_, test.X)
    assert "not compared" in blind.data["kind"]


# -- provenance: what an extraction was, handed over explicitly ------------------------------
def _breast_cancer():
    from pathlib import Path

    import nnrules
    from nnrules.io.data import read_data

    example = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
    network = nnrules.load(example / "model.onnx")
    train = read_data(example / "train.csv", target="target")
    test = read_data(example / "test.csv", target="target", schema=train.schema)
    return network, train, test


def test_a_surrogate_and_a_network_are_enough_for_a_report():
    import nnrules

    network, train, test = _breast_cancer()
    ex = nnrules.TreeExtractor(network, max_leaves=4, random_state=0).fit(train)
    fitted = ex.report(test)
    queries = network.n_queries
    bare = evaluate(ex.surrogate_, network, test, data_name="evaluation data")
    assert network.n_queries == queries  # evaluation queries are not extraction queries
    # Same figures as through the extractor, with the extraction's provenance left empty.
    for key in ("fidelity", "fidelity_ci95", "per_class", "accuracy", "complexity", "task"):
        assert getattr(bare, key) == getattr(fitted, key), key
    assert bare.model_sha256 == network.sha256 == fitted.model_sha256
    # The saved surrogate names its method (notes["method"]); the rest of the provenance is empty.
    assert bare.method == "tree" and bare.parameters == {} and bare.n_queries is None
    assert bare.to_markdown().startswith("## Fidelity report: `tree`")
    assert "not compared" in bare.data["kind"]
    # The provenance alone (no extractor) gives back the overlap and the method.
    again = evaluate(ex.surrogate_, network, train, provenance=ex.provenance_)
    assert again.data["kind"] == "the extraction data itself"
    assert again.method == "tree" and again.parameters["max_leaves"] == 4
    assert again.n_queries == ex.n_queries_ and again.seed == 0


def test_partial_extraction_is_reported_in_json_and_markdown():
    from dataclasses import replace

    import nnrules
    from nnrules.io import serialize

    network, train, test = _breast_cancer()
    ex = nnrules.TreeExtractor(network, max_leaves=4, random_state=0).fit(train)
    assert ex.partial_reason_ is None and not ex.provenance_.partial
    complete = json.loads(serialize.dumps(ex.report(test)))
    assert complete["partial"] is False and complete["partial_reason"] is None
    assert "Partial" not in ex.report(test).to_markdown()

    stopped = replace(ex.provenance_, partial_reason="max_seconds=5 reached after layer 2")
    report = evaluate(ex.surrogate_, ex.oracle_, test, provenance=stopped)
    serialize.loads(serialize.dumps(report))  # checked against nnrules/io/schemas/report.json
    d = json.loads(serialize.dumps(report))
    assert d["partial"] is True and d["partial_reason"] == "max_seconds=5 reached after layer 2"
    assert "max_seconds=5 reached after layer 2" in report.to_markdown()
    assert FidelityReport.from_dict(d).to_dict() == report.to_dict()


def test_a_subclass_partial_reason_reaches_the_report():
    import nnrules

    class Stopping(nnrules.TreeExtractor):
        stop = True

        def _fit(self, X, y):
            surrogate = super()._fit(X, y)
            if self.stop:
                self.partial_reason_ = "budget of 10 queries spent"
            return surrogate

    network, train, test = _breast_cancer()
    ex = Stopping(network, max_leaves=4, random_state=0).fit(train)
    report = ex.report(test)
    assert report.partial and report.partial_reason == "budget of 10 queries spent"
    ex.stop = False
    ex.fit(train)  # a fit that finishes starts from partial_reason_ = None
    assert ex.partial_reason_ is None and not ex.report(test).partial


def test_report_json_schema_accepts_old_reports_without_partial():
    from nnrules.io import serialize

    report = evaluate(_Fixed([0, 1]), _Fixed([0, 1], classes=[0, 1]), np.zeros((2, 1)))
    d = report.to_dict()
    del d["partial"], d["partial_reason"]
    old = serialize.loads(json.dumps(d))
    assert old.partial is False and old.partial_reason is None
    d["partial"] = "yes"
    with pytest.raises(FormatError, match="partial"):
        serialize.loads(json.dumps(d))
    d["partial"], d["partial_reason"] = True, None  # stopped early must say why
    with pytest.raises(FormatError, match="partial_reason"):
        serialize.loads(json.dumps(d))
    d["partial_reason"] = "max_seconds reached"
    assert serialize.loads(json.dumps(d)).partial_reason == "max_seconds reached"


def _blocks(markdown: str) -> list:
    """Markdown parsed with markdown-it (GFM tables): its block tokens."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").parse(markdown)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_markdown_renders_as_written(task):
    """Tables end where they should (the next line is a paragraph, not a table row), no
    'Seed: None', R² named R² for regression, pipes in details escaped."""
    rng = np.random.default_rng(0)
    if task == "classification":
        net = _Fixed([0, 1, 1, 0] * 10, classes=[0, 1])
        report = evaluate(_Fixed([0, 1, 1, 1] * 10), net, np.zeros((40, 1)), y=[0, 1] * 20)
    else:
        ref = rng.normal(size=40)
        report = evaluate(_Fixed(ref + 0.1, "regression"), _Fixed(ref, "regression"),
                          np.zeros((40, 1)), y=-3 * ref)
    report.details["regex"] = "(0|11)*"
    text = report.to_markdown()
    tokens = _blocks(text)
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == (2 if task == "classification" else 1)
    cells = [t.content for i, t in enumerate(tokens) if t.type == "inline"
             and tokens[i - 1].type in ("td_open", "th_open")]
    assert "(0|11)*" in cells  # the pipe stayed inside its cell
    assert not any("Versions" in c or "Seed" in c for c in cells)
    paragraphs = [t.content for i, t in enumerate(tokens) if t.type == "inline"
                  and tokens[i - 1].type == "paragraph_open"]
    assert any(p.startswith("Versions: ") for p in paragraphs)
    assert "Seed: None" not in text and "Seed" not in text
    if task == "regression":
        assert "R² against true values" in text and "Accuracy" not in text
        assert report.accuracy["network"] < 0  # a negative R², named R², not accuracy


@pytest.mark.parametrize("streamed", [False, True])
def test_no_better_than_a_constant_answer_is_said(streamed):
    """The sweep's additive model on a MONK-2 network agreed on 0.609 of the rows while the
    network answered class 0 on 0.671: the report gave the figure without saying so."""
    from nnrules.fidelity_stream import count_batch, report_from_counts

    network = _Fixed([0] * 7 + [1] * 3, classes=[0, 1])
    surrogate = _Fixed([0] * 5 + [1] * 2 + [0, 0, 1])  # 6 of 10 agree; class 0 is 7 of 10
    X = np.zeros((10, 1))
    if streamed:
        report = report_from_counts(count_batch(surrogate, network, X), surrogate, network,
                                    data_name="ten rows")
    else:
        report = evaluate(surrogate, network, X, data_name="ten rows")
    assert report.fidelity == pytest.approx(0.6)
    assert any("does no better than a constant" in w and "0.7000" in w
               for w in report.warnings)
    better = _Fixed([0] * 7 + [1] * 3)  # every row agrees: nothing to say
    assert not any("constant" in w for w in evaluate(better, network, X).warnings)
