"""Exports equal the surrogate, not resemble it: ONNX (onnxruntime), SQL (SQLite and DuckDB) and
Python give exactly ``surrogate.predict``'s labels (regression: within 1e-6 relative) on 10,000
rows that include every threshold exactly and one float32 ulp either side, and every category."""

from __future__ import annotations

import json
import math
import sqlite3
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import export_cases as ec

from nnrules.cli import main
from nnrules.exceptions import FormatError, ParameterError, SchemaError
from nnrules.fidelity import FidelityReport
from nnrules.io import serialize
from nnrules.io.export import export, export_bytes
from nnrules.io.export.sql import quote_identifier

N_ROWS = 10_000


def _rows(surrogate, X: np.ndarray) -> list[dict]:
    """Rows as a CSV reader or a database would hold them: categories as text."""
    schema = surrogate.schema
    out = []
    for x in X.tolist():
        row = {}
        for f, v in zip(schema.features, x):
            row[f.name] = f.categories[int(v)] if f.kind == "categorical" else v
        out.append(row)
    return out


def _same(got, ref, regression: bool) -> None:
    got = list(got)
    ref = list(ref)
    assert len(got) == len(ref)
    if regression:
        g = np.asarray([math.nan if v is None else v for v in got], dtype=float)
        r = np.asarray(ref, dtype=float)
        both_nan = np.isnan(g) & np.isnan(r)
        ok = both_nan | np.isclose(g, r, rtol=1e-6, atol=0.0)
        assert ok.all(), f"{(~ok).sum()} values differ, e.g. {g[~ok][:3]} vs {r[~ok][:3]}"
        return
    bad = [i for i, (a, b) in enumerate(zip(got, ref)) if a != b or type(a) is not type(b)
           and not (isinstance(a, (int, np.integer)) and isinstance(b, (int, np.integer)))]
    assert not bad, f"{len(bad)} labels differ, e.g. row {bad[0]}: {got[bad[0]]!r} vs " \
                    f"{ref[bad[0]]!r}"


def _plain(values) -> list:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def run_python(surrogate, X):
    ns: dict = {}
    exec(compile(export_bytes(surrogate, "python").decode(), "exported.py", "exec"), ns)
    return ns["predict_many"](_rows(surrogate, X))


def _sql_table(surrogate, X):
    cols = ["row_id"] + list(surrogate.schema.names)
    kinds = ["INTEGER"] + ["TEXT" if f.kind == "categorical" else "DOUBLE PRECISION"
                           for f in surrogate.schema.features]
    values = [(i, *row.values()) for i, row in enumerate(_rows(surrogate, X))]
    return cols, kinds, values


def run_sqlite(surrogate, X, table="data"):
    cols, kinds, values = _sql_table(surrogate, X)
    con = sqlite3.connect(":memory:")
    q = ", ".join(f'{quote_identifier(c)} {k}' for c, k in zip(cols, kinds))
    con.execute(f'CREATE TABLE {quote_identifier(table)} ({q})')
    con.executemany(f'INSERT INTO {quote_identifier(table)} VALUES ({", ".join("?" * len(cols))})', values)
    sql = export_bytes(surrogate, "sql", table=table, key="row_id").decode()
    got = con.execute(sql).fetchall()
    assert [r[0] for r in got] == list(range(len(X)))  # the key comes through, in order
    return [r[1] for r in got]


def run_duckdb(surrogate, X):
    duckdb = pytest.importorskip("duckdb")
    import pandas as pd

    frame = pd.DataFrame(_rows(surrogate, X))
    frame.insert(0, "row_id", np.arange(len(X)))
    con = duckdb.connect()
    con.register("data_frame", frame)
    con.execute('CREATE TABLE "data" AS SELECT * FROM data_frame')
    sql = export_bytes(surrogate, "sql", key="row_id").decode()
    got = sorted(con.execute(sql).fetchall(), key=lambda r: r[0])
    return [r[1] for r in got]


def run_onnx(surrogate, X32, scores=True):
    model = onnx.load_from_string(export_bytes(surrogate, "onnx", scores=scores))
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = surrogate.schema.to_model_input(X32)
    if not isinstance(feeds, dict):
        feeds = {sess.get_inputs()[0].name: X32.astype(np.float32)}
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    meta = {p.key: p.value for p in model.metadata_props}
    return out, meta


@pytest.fixture(scope="module", params=sorted(ec.CASES))
def case(request):
    s = ec.CASES[request.param]()
    X = ec.edge_rows(s, N_ROWS)
    return request.param, s, X


def test_python_equals_predict(case):
    name, s, X = case
    _same(run_python(s, X), _plain(s.predict(X)), s.task == "regression")


def test_sqlite_equals_predict(case):
    name, s, X = case
    _same(run_sqlite(s, X), _plain(s.predict(X)), s.task == "regression")


def test_duckdb_equals_predict(case):
    name, s, X = case
    _same(run_duckdb(s, X), _plain(s.predict(X)), s.task == "regression")


def _same_onnx_answers(s, out, meta, ref):
    """The ONNX model's values (regression) or labels (abstentions read back as None) equal
    ``ref``, the surrogate's predictions."""
    if s.task == "regression":
        _same(out["value"].tolist(), ref, True)
        return
    got = out["label"].tolist()
    if "ABSTAIN" in meta:
        abstain = eval(meta["ABSTAIN"])  # a repr of a label
        got = [None if v == abstain else v for v in got]
    _same(got, _plain(ref), False)


def test_onnx_equals_predict_on_float32_rows(case):
    """The export reads float32 like the network; it equals predict on those float32 rows."""
    name, s, X = case
    X32 = X.astype(np.float32)
    ref = s.predict(X32.astype(np.float64))
    out, meta = run_onnx(s, X32)
    _same_onnx_answers(s, out, meta, ref)
    if s.task != "regression" and "scores" in out and hasattr(s, "predict_proba"):
        np.testing.assert_allclose(out["scores"], s.predict_proba(X32.astype(np.float64)),
                                   rtol=1e-5, atol=1e-6)


def _near64(t: float) -> list[float]:
    """t and the float64 values one ulp either side (no float32 lies between them)."""
    if not math.isfinite(t):
        return []
    return [t, float(np.nextafter(t, -np.inf)), float(np.nextafter(t, np.inf))]


def test_onnx_for_a_float64_network_equals_predict_on_float64_rows(case):
    """A network read in float64 gets an export that reads float64 and equals predict on rows
    one float64 ulp from every threshold (float32 rounding would merge them); it was refused."""
    from nnrules.io.export.onnx import InputSpec, to_onnx

    _, s, X = case
    X = X.copy()
    rng = np.random.default_rng(1)
    for j, ts in ec.thresholds(s).items():
        if s.schema.features[j].kind == "continuous":
            pool = [v for t in ts for v in _near64(t)]
            if pool:
                X[: len(X) // 2, j] = rng.choice(pool, len(X) // 2)
    names = s.schema.input_names or s.schema.names
    specs = [InputSpec(n, "str" if f.kind == "categorical" else "float64", 1)
             for n, f in zip(names, s.schema.features)]
    model = to_onnx(s, model_inputs=specs, scores=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = s.schema.to_model_input(X)
    feeds = {k: (v if v.dtype == object else X[:, [names.index(k)]].astype(np.float64))
             for k, v in feeds.items()}
    out = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds)))
    meta = {p.key: p.value for p in model.metadata_props}
    assert "float64" in meta["threshold_semantics"]
    _same_onnx_answers(s, out, meta, s.predict(X))
    if s.task != "regression" and "scores" in out and hasattr(s, "predict_proba"):
        np.testing.assert_allclose(out["scores"], s.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_onnx_label_only_equals_predict_on_float32_rows(case):
    """The label-only model (no scores; labels as leaf weights for trees) gives the same labels."""
    _, s, X = case
    X32 = X.astype(np.float32)
    ref = s.predict(X32.astype(np.float64))
    out, meta = run_onnx(s, X32, scores=False)
    assert "scores" not in out
    _same_onnx_answers(s, out, meta, ref)


def test_edge_rows_sit_on_thresholds_and_flip_answers():
    """The rows are not easy: thresholds are hit exactly and one ulp moves the answer."""
    s = ec.CASES["tree"]()
    X = ec.edge_rows(s, N_ROWS)
    ts = ec.thresholds(s)
    hits = sum(np.isin(X[:, j], sorted(v)).sum() for j, v in ts.items())
    assert hits > 1000
    # the same row one float32 ulp above a '<=' threshold goes the other way for some rows
    tree = s
    root = tree.tests[0]
    row = ec.random_rows(1, np.random.default_rng(1))
    below, above = row.copy(), row.copy()
    t32 = np.float32(root.value)
    below[0, root.feature] = float(t32) if float(t32) <= root.value else float(
        np.nextafter(t32, np.float32(-np.inf)))
    above[0, root.feature] = float(np.nextafter(np.float32(below[0, root.feature]),
                                                np.float32(np.inf)))
    assert tree.apply(below)[0] != tree.apply(above)[0]


def test_float32_rounding_is_exact_for_every_neighbour():
    from nnrules.io.export._ir import Atom, to_float32

    rng = np.random.default_rng(0)
    for t in rng.standard_normal(200) * 10.0 ** rng.integers(-5, 6, 200):
        xs = np.array(ec._near(float(t)), np.float32)
        for op in ("<=", ">", "<", ">=", "==", "!="):
            a32 = to_float32(Atom(0, op, float(t)))
            for x in xs:
                want = Atom(0, op, float(t)).holds(float(x))
                got = a32 if isinstance(a32, bool) else Atom(0, a32.op, a32.value).holds(
                    float(np.float32(x)))
                assert got == want, (t, op, x)


def test_onnx_metadata_and_inputs(tmp_path):
    s = ec.CASES["tree_mofn"]()
    report = {"model_sha256": "ab" * 32, "fidelity": 0.9375, "fidelity_ci95": [0.9, 0.96],
              "method": "trepan", "data": {"name": "test.csv", "n_rows": 160, "kind": "held-out"}}
    path = export(s, "onnx", tmp_path / "tree.onnx", report=report)
    model = onnx.load(path)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["model_sha256"] == "ab" * 32
    assert float(meta["fidelity"]) == 0.9375
    assert [i.name for i in model.graph.input] == list(s.schema.names)
    types = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert types["job"] == onnx.TensorProto.STRING
    assert any(n.op_type == "TreeEnsembleRegressor" for n in model.graph.node)


def test_automaton_exports_table_and_regex(tmp_path):
    from nnrules.surrogates.automaton import Automaton

    a = Automaton.from_table(np.array([[0, 1], [1, 0]]), np.array([1, 0]), alphabet=("0", "1"),
                             classes=np.array([0, 1]))
    table = json.loads(export_bytes(a, "json"))
    assert table["states"][0] == {"id": 0, "next": {"0": 0, "1": 1}, "output": 1}
    rows = export_bytes(a, "csv").decode().splitlines()
    assert rows == ["state,start,output,0,1", "0,1,1,0,1", "1,0,0,1,0"]
    import re

    regex = export_bytes(a, "regex").decode().splitlines()
    accept = regex[regex.index(next(r for r in regex if r.startswith("# strings") and "1" in
                                    r.split("labels")[1])) + 1]
    for text in ["", "0", "1", "11", "0110", "111"]:
        assert bool(re.fullmatch(accept, text)) == (text.count("1") % 2 == 0)
    with pytest.raises(Exception, match="transition table"):
        export_bytes(a, "onnx")


def test_sql_without_names_is_a_clear_error():
    from dataclasses import replace

    s = ec.CASES["ruleset"]()
    schema = s.schema
    s.schema = replace(schema, features=tuple(replace(f, name=f"x{i}")
                                              for i, f in enumerate(schema.features)))
    with pytest.raises(SchemaError, match="placeholder names 'x0'..'x7'"):
        export_bytes(s, "sql")
    assert "def predict" in export_bytes(s, "python").decode()  # Python reads dict keys
    s.schema = None
    with pytest.raises(SchemaError, match="needs the features' names"):
        export_bytes(s, "sql")


def test_unknown_target_and_directory_path(tmp_path):
    s = ec.CASES["ruleset"]()
    with pytest.raises(ParameterError, match="Unknown export format 'xml'"):
        export_bytes(s, "xml")
    with pytest.raises(ParameterError, match="is a directory"):
        export(s, "sql", tmp_path)


def test_cli_export_refuses_unknown_version_and_writes_nothing(tmp_path, capsys):
    s = ec.CASES["tree"]()
    path = tmp_path / "surrogate.json"
    d = s.to_dict()
    d["version"] = 99
    path.write_text(json.dumps(d))
    out = tmp_path / "out.sql"
    assert main(["export", str(path), "--to", "sql", "-o", str(out)]) == 1
    assert "version 99" in capsys.readouterr().err
    assert not out.exists()
    with pytest.raises(FormatError):
        serialize.load(path)


def test_cli_export_all_targets(tmp_path):
    s = ec.CASES["boxes"]()
    serialize.dump(s, tmp_path / "surrogate.json")
    report = FidelityReport(task="classification", method="via", parameters={}, seed=0,
                            model_sha256="cd" * 32, data={"name": "t.csv", "n_rows": 8,
                                                          "kind": "held-out rows"}, n_eval=8,
                            fidelity=0.5, fidelity_ci95=[0.2, 0.8])
    serialize.dump(report, tmp_path / "report.json")
    for to, name in (("onnx", "m.onnx"), ("sql", "q.sql"), ("python", "m.py")):
        assert main(["export", str(tmp_path / "surrogate.json"), "--to", to,
                     "-o", str(tmp_path / name), "--table", "apps", "--key", "id"]) == 0
    assert 'FROM "apps"' in (tmp_path / "q.sql").read_text()
    assert "cd" * 32 in (tmp_path / "m.py").read_text()
    meta = {p.key: p.value for p in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert meta["model_sha256"] == "cd" * 32


def test_same_surrogate_same_bytes():
    s = ec.CASES["additive_logits"]()
    for to in ("onnx", "sql", "python"):
        assert export_bytes(s, to) == export_bytes(ec.CASES["additive_logits"](), to)


@pytest.mark.parametrize("method", __import__("test_common").METHODS)
def test_every_registered_method_exports_exactly(method):
    """Whatever a method extracts, its export equals it (automata: table and regex)."""
    import re

    from test_common import _fitted

    extractor, X_eval = _fitted(method)
    s = extractor.surrogate_
    if s.FORMAT == "nnrules/automaton":
        table = json.loads(export_bytes(s, "json"))
        patterns = export_bytes(s, "regex").decode().splitlines()
        labels = [json.loads(json.dumps(c)) for c in table["classes"]]
        for text, label in zip(X_eval[:200], s.predict(X_eval[:200]).tolist()):
            state = table["start"]
            for symbol in text:
                state = table["states"][state]["next"][symbol]
            assert table["states"][state]["output"] == label
            pattern = patterns[2 * labels.index(label) + 1]
            assert re.fullmatch(pattern, text)
        return
    X = ec.edge_rows(s, 2000, seed=2)
    regression = s.task == "regression"
    ref = _plain(s.predict(X))
    _same(run_python(s, X), ref, regression)
    _same(run_sqlite(s, X), ref, regression)
    X32 = X.astype(np.float32)
    out, meta = run_onnx(s, X32)
    got = out["value" if regression else "label"].tolist()
    if "ABSTAIN" in meta:
        got = [None if v == eval(meta["ABSTAIN"]) else v for v in got]
    _same(got, _plain(s.predict(X32.astype(np.float64))), regression)
    # fit stored the local figures: every row's reasons come with its region's fidelity
    for item in s.reasons(X_eval[:20], k=3):
        assert item["local_n"] is not None


def test_onnx_mofn_counts_conditions_that_round_to_one_float32_test():
    """Two conditions of one m-of-n test with float64 thresholds that round to the same float32
    threshold are still two conditions: an input that meets both counts 2, not 1."""
    from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet
    from nnrules.surrogates.tree import TreeSurrogate

    t1, t2 = 30000.0001, 30000.0002  # both round down to the float32 30000.0
    assert np.float32(t1) == np.float32(t2) and t1 != t2
    both = MofN(2, (Condition(ec.INCOME, "<=", t1), Condition(ec.INCOME, "<=", t2)))
    rules = RuleSet([Rule((both,), 1)], 0, ordered=True, classes=("no", "yes"), schema=ec.SCHEMA)
    value = np.array([[0.0, 0.0], [0.0, 5.0], [5.0, 0.0]])
    tree = TreeSurrogate([both, None, None], [1, -1, -1], [2, -1, -1], value,
                         classes=("no", "yes"), schema=ec.SCHEMA,
                         n_node_samples=np.array([10, 5, 5]))
    X = ec.random_rows(200, np.random.default_rng(0))
    X[:100, ec.INCOME] = np.float32(30000.0)
    X32 = X.astype(np.float32)
    for s in (tree, rules):
        ref = s.predict(X32.astype(np.float64))
        assert (ref == "yes").sum() >= 100
        for scores in (True, False):
            out, meta = run_onnx(s, X32, scores=scores)
            _same_onnx_answers(s, out, meta, ref)


def test_provenance_text_cannot_break_out_of_comments_or_docstrings():
    """A data file name (or method) with newlines, quotes or backslashes stays inside the SQL
    comment and the Python docstring: no statement injected, the module still compiles."""
    s = ec.CASES["ruleset"]()
    evil = 'x.csv\nDROP TABLE "data"; --\r\\N{oops} """ \\'
    report = {"model_sha256": "ab" * 32, "fidelity": 0.9, "method": "m\n; DELETE FROM data",
              "data": {"name": evil, "n_rows": 3, "kind": "eval"}}
    sql = export_bytes(s, "sql", report=report).decode()
    head = sql[:sql.index("SELECT")]
    assert all(line.startswith("--") for line in head.splitlines()), head
    X = ec.edge_rows(s, 200)
    ns: dict = {}
    exec(compile(export_bytes(s, "python", report=report).decode(), "exported.py", "exec"), ns)
    assert ns["predict_many"](_rows(s, X)) == _plain(s.predict(X))
    assert "DROP TABLE" in ns["__doc__"] and "oops" in ns["__doc__"]


@pytest.mark.parametrize("name", sorted(ec.CASES))
def test_missing_values_give_null_in_sql_and_an_error_in_python(name):
    """A NULL in a column the surrogate reads, or a category it does not know, gives a NULL
    prediction in SQL (not the answer of whichever rule happens to survive the NULL), and a
    ValueError naming the column in Python; other rows are unchanged."""
    s = ec.CASES[name]()
    X = ec.edge_rows(s, 300)
    cols, kinds, values = _sql_table(s, X)
    used = set(ec.thresholds(s))
    missing = np.zeros(len(X), dtype=bool)
    for i in range(0, len(X), 3):
        j = (ec.INCOME, ec.JOB, ec.RATIO)[(i // 3) % 3]
        row = list(values[i])
        row[1 + j] = None if j != ec.JOB or i % 2 else "astronaut"
        values[i] = tuple(row)
        missing[i] = j in used
    con = sqlite3.connect(":memory:")
    con.execute('CREATE TABLE "data" (' + ", ".join(f'"{c}" {k}' for c, k in zip(cols, kinds))
                + ")")
    con.executemany(f'INSERT INTO "data" VALUES ({", ".join("?" * len(cols))})', values)
    got = [r[1] for r in con.execute(export_bytes(s, "sql", key="row_id").decode()).fetchall()]
    assert all(v is None for v in np.asarray(got, dtype=object)[missing])
    keep = np.flatnonzero(~missing & (np.arange(len(X)) % 3 != 0))
    _same([got[i] for i in keep], _plain(s.predict(X[keep])), s.task == "regression")
    ns: dict = {}
    exec(compile(export_bytes(s, "python").decode(), "exported.py", "exec"), ns)
    row = _rows(s, X[:1])[0]
    row["income"] = math.nan
    if ec.INCOME in used:
        with pytest.raises(ValueError, match="income"):
            ns["predict"](row)


def test_names_and_categories_that_are_keywords_quotes_or_not_identifiers_export_exactly():
    """Column names that are Python keywords or hold quotes, spaces, backslashes, newlines,
    non-ASCII; category texts likewise: Python, SQLite, DuckDB and ONNX equal predict."""
    from sklearn.tree import DecisionTreeClassifier

    from nnrules.schema import Feature, FeatureSchema
    from nnrules.surrogates.tree import TreeSurrogate

    cats = ("it's", 'say "hi"', "back\\slash", "new\nline", "ünï", "--", "NULL")
    schema = FeatureSchema((
        Feature("class", "continuous", -5.0, 5.0),
        Feature('we"ird name', "continuous", 0.0, 1.0),
        Feature("select", "integer", 0, 9),
        Feature("lambda\\x", "categorical", 0, len(cats) - 1, categories=cats),
        Feature("1st; DROP", "binary", 0, 1),
    ))
    rng = np.random.default_rng(3)
    X = ec.schema_rows(schema, 4000, rng)
    y = (X[:, 0] + 3 * X[:, 1] + (X[:, 3] % 3 == 1) - X[:, 2] / 5 + X[:, 4]
         + 0.2 * rng.standard_normal(len(X))) > 0.5
    s = TreeSurrogate.from_sklearn(DecisionTreeClassifier(max_leaf_nodes=25, random_state=0)
                                   .fit(X, y), schema=schema, classes=("if", "else"))
    assert any(f.kind == "categorical" for f in schema.features)
    X = ec.edge_rows(s, 3000, seed=1)
    for rows in (s, s.to_rules()):
        ref = _plain(rows.predict(X))
        _same(run_python(rows, X), ref, False)
        _same(run_sqlite(rows, X, table="tab le"), ref, False)
        _same(run_duckdb(rows, X), ref, False)
        X32 = X.astype(np.float32)
        out, meta = run_onnx(rows, X32)
        _same_onnx_answers(rows, out, meta, rows.predict(X32.astype(np.float64)))


def test_onnx_export_reads_a_network_whose_feature_width_is_not_fixed(tmp_path):
    """A network declaring its input as [N, ?] (a dynamic feature axis) exports: the one input
    holds all the surrogate's features (it was read as width 1 and refused)."""
    from nnrules.datasets.tabular import tabular_split
    from nnrules.extract.tree import TreeExtractor
    from nnrules.io.model import load
    from nnrules.schema import FeatureSchema

    model = onnx.load(Path(__file__).parent / "fixtures" / "via_iris.onnx")
    dim = model.graph.input[0].type.tensor_type.shape.dim[1]
    dim.ClearField("dim_value")
    dim.dim_param = "features"
    onnx.save(model, tmp_path / "dynamic.onnx")
    net = load(tmp_path / "dynamic.onnx")
    sp = tabular_split("iris")
    schema = FeatureSchema.infer(sp.X_train, list(sp.feature_names))
    s = TreeExtractor(net, random_state=0, max_leaves=5).fit(sp.X_train, schema=schema).surrogate_
    exported = onnx.load_from_string(export_bytes(s, "onnx", network=net))
    sess = ort.InferenceSession(exported.SerializeToString(), providers=["CPUExecutionProvider"])
    X32 = sp.X_test.astype(np.float32)
    got = sess.run(["label"], {sess.get_inputs()[0].name: X32})[0]
    assert got.tolist() == _plain(s.predict(X32.astype(np.float64)))
