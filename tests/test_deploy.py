"""Deployment end to end through the CLI, on the bundled example (breast cancer, one float
input) and on a German-credit-like skl2onnx pipeline (13 string inputs): export equality in
onnxruntime / SQLite / DuckDB / Python, the model card read back by huggingface_hub, and reasons
for 100 declined applicants."""

from __future__ import annotations

import csv
import json
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
from nnrules.io import serialize
from nnrules.io.model import load

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "breast_cancer"
CREDIT = ROOT / "tests" / "fixtures" / "credit"


def _strip_id(src: Path, dst: Path) -> Path:
    with open(src, newline="") as fh, open(dst, "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        for row in csv.reader(fh):
            w.writerow(row[1:])
    return dst


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    train = _strip_id(CREDIT / "train.csv", tmp / "train.csv")
    test = _strip_id(CREDIT / "test.csv", tmp / "test.csv")
    out = {}
    for name, model, args in [
        ("example_tree", EXAMPLE / "model.onnx",
         ["--data", EXAMPLE / "train.csv", "--eval", EXAMPLE / "test.csv", "--target", "target",
          "--method", "tree", "--param", "max_leaves=12"]),
        ("credit_tree", CREDIT / "credit.onnx",
         ["--data", train, "--eval", test, "--target", "risk", "--method", "tree"]),
        ("credit_trepan", CREDIT / "credit.onnx",
         ["--data", train, "--eval", test, "--target", "risk", "--method", "trepan",
          "--param", "max_leaves=10"]),
    ]:
        folder = tmp / name
        assert main(["extract", str(model), *map(str, args), "--out", str(folder)]) == 0
        out[name] = (folder, model)
    return tmp, out


def _sql_rows(surrogate, X):
    schema = surrogate.schema
    return [(i, *[f.categories[int(v)] if f.kind == "categorical" else v
                  for f, v in zip(schema.features, x)]) for i, x in enumerate(X.tolist())]


@pytest.mark.parametrize("name", ["example_tree", "credit_tree", "credit_trepan"])
def test_exports_equal_the_surrogate_everywhere(extracted, name):
    tmp, out = extracted
    folder, model = out[name]
    s = serialize.load(folder / "surrogate.json")
    X = ec.edge_rows(s, 10_000, seed=1)
    ref = [v.item() if isinstance(v, np.generic) else v for v in s.predict(X)]
    files = {}
    for to, suffix in (("onnx", ".onnx"), ("sql", ".sql"), ("python", ".py")):
        files[to] = folder / f"export{suffix}"
        assert main(["export", str(folder / "surrogate.json"), "--to", to, "-o",
                     str(files[to]), "--model", str(model), "--key", "row_id"]) == 0
    # ONNX: the network's own inputs, fed exactly as the network is fed
    network = load(model)
    exported = onnx.load(files["onnx"])
    onnx.checker.check_model(exported, full_check=True)
    assert [(i.name, i.type.tensor_type.elem_type) for i in exported.graph.input] == \
        [(i.name, i.type.tensor_type.elem_type) for i in network.model.graph.input]
    meta = {p.key: p.value for p in exported.metadata_props}
    report = json.loads((folder / "report.json").read_text())
    assert meta["model_sha256"] == network.sha256 == report["model_sha256"]
    assert float(meta["fidelity"]) == report["fidelity"]
    X32 = X.astype(np.float32).astype(np.float64)
    feeds = s.schema.to_model_input(X32)
    if not isinstance(feeds, dict):
        feeds = {network.inputs[0].name: X32.astype(np.float32)}
    sess = ort.InferenceSession(files["onnx"].read_bytes(), providers=["CPUExecutionProvider"])
    label = sess.run(["label"], feeds)[0].tolist()
    assert label == [v.item() if isinstance(v, np.generic) else v for v in s.predict(X32)]
    # SQLite, DuckDB
    names = ["row_id", *s.schema.names]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE data (" + ", ".join(f'"{c}"' for c in names) + ")")
    con.executemany(f"INSERT INTO data VALUES ({', '.join('?' * len(names))})", _sql_rows(s, X))
    sql = files["sql"].read_text()
    assert [r[1] for r in con.execute(sql)] == ref
    duckdb = pytest.importorskip("duckdb")
    import pandas as pd

    dcon = duckdb.connect()
    dcon.register("frame", pd.DataFrame(_sql_rows(s, X), columns=names))
    dcon.execute("CREATE TABLE data AS SELECT * FROM frame")
    assert [r[1] for r in sorted(dcon.execute(sql).fetchall())] == ref
    # Python, dependency-free
    ns: dict = {}
    exec(compile(files["python"].read_text(), str(files["python"]), "exec"), ns)
    rows = [dict(zip(s.schema.names, r[1:])) for r in _sql_rows(s, X)]
    assert ns["predict_many"](rows) == ref


def test_card_round_trip_on_real_reports(extracted):
    hub = pytest.importorskip("huggingface_hub")
    tmp, out = extracted
    card = tmp / "README.md"
    card.write_text("# Credit scoring MLP\n\nOur own words.\n")
    dirs = [str(out[n][0]) for n in ("credit_tree", "credit_trepan")]
    assert main(["card", *dirs, "--card", str(card), "--json", str(tmp / "card.json")]) == 0
    first = card.read_bytes()
    assert main(["card", *dirs, "--card", str(card), "--json", str(tmp / "card.json")]) == 0
    assert card.read_bytes() == first
    results = hub.ModelCard.load(card).data.eval_results
    for res, d in zip(results, dirs):
        report = json.loads((Path(d) / "report.json").read_text())
        assert res.metric_value == report["fidelity"]
        assert [res.metric_args["ci95_lower"], res.metric_args["ci95_upper"]] == \
            report["fidelity_ci95"]
        assert res.metric_args["model_sha256"] == report["model_sha256"]
        assert res.dataset_split == "held-out"
    assert "Our own words." in card.read_text()


def test_reasons_for_100_declined_applicants(extracted):
    tmp, out = extracted
    folder, _ = out["credit_tree"]
    applicants = tmp / "applicants.csv"
    lines = (CREDIT / "train.csv").read_text().splitlines()
    lines += (CREDIT / "test.csv").read_text().splitlines()[1:]
    applicants.write_text("\n".join(lines) + "\n")
    target = tmp / "reasons.csv"
    assert main(["predict", str(folder / "surrogate.json"), "--data", str(applicants),
                 "--target", "risk", "--reasons", "4", "--key", "applicant_id",
                 "-o", str(target)]) == 0
    with open(target, newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["applicant_id", "prediction", "reason_1", "reason_2",
                                     "reason_3", "reason_4", "local_fidelity",
                                     "local_fidelity_low", "local_fidelity_high", "local_n"]
        rows = list(reader)
    assert [r["applicant_id"] for r in rows] == [f"{i:04d}" for i in range(1000)]
    declined = [r for r in rows if r["prediction"] == "bad"][:100]
    assert len(declined) == 100
    s = serialize.load(folder / "surrogate.json")
    assert s.local_fidelity["source"] == "evaluation" and s.local_fidelity["data"] == "test.csv"
    names = set(s.schema.names)
    for r in declined:
        assert r["reason_1"], r
        assert any(name in r["reason_1"] for name in names)
        n = int(r["local_n"]) if r["local_n"] else 0
        if n:
            lo, fid, hi = (float(r[k]) for k in ("local_fidelity_low", "local_fidelity",
                                                  "local_fidelity_high"))
            assert 0.0 <= lo <= fid <= hi <= 1.0
    # a decline's first reason is the condition whose failure would most raise the chance of
    # 'bad' changing: its contribution is the largest shown
    for r in declined:
        shown = [r[f"reason_{i}"] for i in range(1, 5) if r[f"reason_{i}"]]
        values = [float(t.rsplit("(", 1)[1].rstrip(")")) for t in shown if t.endswith(")")
                  and t.rsplit("(", 1)[1][0] in "+-"]
        assert values == sorted(values, reverse=True)


def test_reasons_bad_k_writes_nothing(extracted, capsys):
    tmp, out = extracted
    folder, _ = out["example_tree"]
    target = tmp / "none.csv"
    for k in ("0", "11"):
        assert main(["predict", str(folder / "surrogate.json"), "--data",
                     str(EXAMPLE / "test.csv"), "--target", "target", "--reasons", k,
                     "-o", str(target)]) == 1
        assert "--reasons takes a number of reasons in 1..10" in capsys.readouterr().err
    assert not target.exists()
