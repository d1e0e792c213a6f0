"""Batches: evaluate / predict over files in batches give what the in-memory path gives;
folders, globs and bad inputs; the stratified sample."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nnrules.io.stream as stream
from nnrules.batch_eval import evaluate_files, predict_files
from nnrules.cli import main
from nnrules.exceptions import DataError, InputFileError
from nnrules.oracles import as_oracle
from nnrules.extract.tree import TreeExtractor
from nnrules.fidelity import evaluate
from nnrules.io import serialize
from nnrules.io.data import read_data
from nnrules.io.model import load
from nnrules.io.stream import data_files, stratified_sample

sys.path.insert(0, str(Path(__file__).parent))
from onnx_builders import dense_mlp, mlp_weights, save  # noqa: E402

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 4-8-3 softmax network, 3000 rows in one CSV and the same rows in three files of each
    type, and a tree surrogate fitted on other rows."""
    root = tmp_path_factory.mktemp("stream")
    net_path = root / "net.onnx"
    save(dense_mlp(mlp_weights([4, 8, 3], seed=2), head="Softmax"), net_path)
    network = load(net_path)
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(3000, 4)), 3)
    y = rng.integers(0, 3, size=3000)
    header = "a,b,c,d,y\n"
    whole = root / "all.csv"
    whole.write_text(header + "".join(f"{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r},{t}\n"
                                      for r, t in zip(X.tolist(), y.tolist())))
    (root / "csv").mkdir()
    (root / "pq").mkdir()
    import pyarrow as pa

    for k, (lo, hi) in enumerate([(0, 1000), (1000, 2200), (2200, 3000)]):
        part = root / "csv" / f"p{k}.csv"
        part.write_text(header + "".join(f"{r[0]!r},{r[1]!r},{r[2]!r},{r[3]!r},{t}\n"
                                         for r, t in zip(X[lo:hi].tolist(), y[lo:hi].tolist())))
        pq.write_table(pa.table({"a": X[lo:hi, 0], "b": X[lo:hi, 1], "c": X[lo:hi, 2],
                                 "d": X[lo:hi, 3], "y": y[lo:hi]}), root / "pq" / f"p{k}.parquet")
    train = rng.normal(size=(800, 4))
    ex = TreeExtractor(network, max_leaves=8, random_state=0).fit(
        train, feature_names=["a", "b", "c", "d"])
    sur_path = root / "surrogate.json"
    serialize.dump(ex.surrogate_, sur_path)
    return {"root": root, "net": net_path, "network": network, "whole": whole, "X": X, "y": y,
            "extractor": ex, "surrogate": sur_path}


def _plain(report) -> dict:
    d = report.to_dict()
    d.pop("timings")
    d["details"].pop("details_rows", None)  # details of the first batch: said, and left out
    d["data"] = {k: v for k, v in d["data"].items() if k in ("n_rows", "kind")}
    return d


@pytest.mark.parametrize("source", ["whole", "csv", "pq", "glob"])
def test_batches_give_the_in_memory_report(setup, monkeypatch, source):
    monkeypatch.setattr(stream, "CSV_BLOCK", 4096)   # many CSV batches
    monkeypatch.setattr(stream, "BATCH_ROWS", 700)   # many Parquet batches
    sur = serialize.load(setup["surrogate"])
    data = read_data(setup["whole"], target="y", schema=sur.schema)
    expected = evaluate(sur, as_oracle(setup["network"], sur.schema), data.X, data.y,
                        data_name="d")
    path = {"whole": setup["whole"], "csv": setup["root"] / "csv", "pq": setup["root"] / "pq",
            "glob": str(setup["root"] / "csv" / "p*.csv")}[source]
    got = evaluate_files(sur, setup["network"], path, target="y", data_name="d")
    assert got.data["n_batches"] > 3
    assert _plain(got) == {**_plain(expected), "model_sha256": setup["network"].sha256}
    assert got.accuracy is not None and got.per_class[0]["n"] > 0
    jsonschema = pytest.importorskip("jsonschema")
    from importlib import resources

    schema = json.loads(resources.files("nnrules.io").joinpath("schemas/report.json").read_text())
    jsonschema.validate(got.to_dict(), schema)  # n_batches and all: a valid nnrules/report


def test_a_cell_pyarrow_refuses_mid_file_is_read_by_the_exact_rules(setup, monkeypatch,
                                                                    tmp_path):
    monkeypatch.setattr(stream, "CSV_BLOCK", 4096)
    lines = setup["whole"].read_text().splitlines(keepends=True)
    lines[2500] = "1_000," + lines[2500].split(",", 1)[1]   # Python's float reads 1_000
    lines[2700] = " NA ," + lines[2700].split(",", 1)[1]    # missing, with spaces
    path = tmp_path / "odd.csv"
    path.write_text("".join(lines))
    sur = serialize.load(setup["surrogate"])
    data = read_data(path, target="y", schema=sur.schema, drop_invalid=True)
    assert data.n_dropped == 1 and 1000.0 in data.X[:, 0]
    expected = evaluate(sur, as_oracle(setup["network"], sur.schema), data, data_name="d")
    got = evaluate_files(sur, setup["network"], path, target="y", drop_invalid=True,
                         data_name="d")
    assert _plain(got) == {**_plain(expected), "model_sha256": setup["network"].sha256}
    assert got.data["invalid_dropped"] == 1  # the dropped row is counted, both ways


def test_held_out_check_counts_rows_across_batches(setup, monkeypatch):
    monkeypatch.setattr(stream, "CSV_BLOCK", 4096)
    ex = setup["extractor"]
    report = evaluate_files(ex.surrogate_, setup["network"], setup["whole"], target="y",
                            oracle=ex.oracle_, provenance=ex.provenance_)
    assert report.data["kind"] == "held-out rows the extractor did not see"
    # The same rows as the extraction data: recognised across batches.
    path = setup["root"] / "train.csv"
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 4))
    path.write_text("a,b,c,d\n" + "".join(",".join(repr(v) for v in r) + "\n" for r in X.tolist()))
    ex2 = TreeExtractor(setup["network"], max_leaves=4, random_state=0).fit(
        read_data(path))
    again = evaluate_files(ex2.surrogate_, setup["network"], path, oracle=ex2.oracle_,
                           provenance=ex2.provenance_)
    assert again.data["kind"] == "the extraction data itself"
    assert ex2.report(read_data(path)).data["kind"] == "the extraction data itself"


def test_predict_csv_is_the_in_memory_csv(setup, monkeypatch, tmp_path):
    monkeypatch.setattr(stream, "CSV_BLOCK", 4096)
    sur = serialize.load(setup["surrogate"])
    X = read_data(setup["whole"], target="y", schema=sur.schema).X
    reasons = sur.reasons(X)
    expected = "prediction,reason\n" + "".join(
        f"{p},{r}\n" if "," not in r else f'{p},"{r}"\n'
        for p, r in zip(sur.predict(X).tolist(), reasons))
    out = tmp_path / "p.csv"
    n = predict_files(sur, setup["whole"], output=str(out), target="y", explain=True)
    assert out.read_text() == expected and n == len(X)


def test_predict_partitions_hold_every_row_in_order(setup, tmp_path):
    sur = serialize.load(setup["surrogate"])
    out = tmp_path / "preds"
    n = predict_files(sur, setup["root"] / "pq", output=str(out), target="y")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["part-00000-00000.parquet", "part-00001-00000.parquet",
                     "part-00002-00000.parquet"]
    got = np.concatenate([pq.read_table(out / f).column("prediction").to_numpy() for f in names])
    assert n == 3000 and got.tolist() == sur.predict(setup["X"]).tolist()


def test_bad_second_file_leaves_no_output(setup, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("a,b,c,d\n1,2,3,4\n")
    (folder / "b.csv").write_text("a,b,c,d\n1,2,x,4\n")
    sur = serialize.load(setup["surrogate"])
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"Column 'c' is numeric but row 0 holds 'x'.*b\.csv"):
        predict_files(sur, folder, output=str(out))
    assert not out.exists() and list(tmp_path.iterdir()) == [folder]


def test_inputs_that_name_nothing_or_disagree(setup, tmp_path):
    with pytest.raises(InputFileError, match="matches no file"):
        data_files(str(tmp_path / "nothing" / "*.parquet"))
    with pytest.raises(InputFileError, match="holds no data file"):
        data_files(tmp_path)
    with pytest.raises(InputFileError, match="does not exist"):
        data_files(tmp_path / "missing.csv")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "a.csv").write_text("a,b,c,d\n1,2,3,4\n")
    (mixed / "b.parquet").write_bytes((setup["root"] / "pq" / "p0.parquet").read_bytes())
    with pytest.raises(DataError, match="mixes file types"):
        data_files(mixed)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.csv").write_text("a,b,c,d\n1,2,3,4\n")
    (other / "b.csv").write_text("a,b,d,c\n1,2,3,4\n")
    sur = serialize.load(setup["surrogate"])
    # The message names the file that differs and the first file (not the same file twice).
    disagree = r"b\.csv' has columns \['a', 'b', 'd', 'c'\] but '[^']*a\.csv' has .*same columns"
    with pytest.raises(DataError, match=disagree):
        evaluate_files(sur, setup["network"], other)
    out = tmp_path / "preds"
    with pytest.raises(DataError, match=disagree):
        predict_files(sur, other, output=str(out))
    assert not out.exists() and not list(tmp_path.glob(".preds*"))


def test_stratified_sample_keeps_shares_and_order():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 3))
    labels = np.where(np.arange(1000) % 10 == 0, "rare", "common")
    data = read_data(X)
    s1 = stratified_sample(data, labels, 101, seed=3)
    s2 = stratified_sample(data, labels, 101, seed=3)
    assert s1.n_samples == 101 and np.array_equal(s1.X, s2.X)
    rows = [int(np.flatnonzero((X == r).all(axis=1))[0]) for r in s1.X]
    assert rows == sorted(rows)                       # original order
    picked = labels[rows]
    assert (picked == "rare").sum() == 10             # 101 * 0.1 = 10.1 -> 10 (+1 to common)
    assert stratified_sample(data, labels, 2000) is data
    # A label with one row in 1000 keeps it in a sample of 10.
    labels[5] = "single"
    assert "single" in labels[[int(np.flatnonzero((X == r).all(axis=1))[0])
                               for r in stratified_sample(data, labels, 10).X]]


def test_cli_sample_flag(setup, tmp_path, capsys):
    out = tmp_path / "o"
    code = main(["extract", str(setup["net"]), "--data", str(setup["whole"]), "--target", "y",
                 "--method", "tree", "--sample", "500", "--out", str(out)])
    assert code == 0
    assert "stratified sample of 500 of 3000 rows" in capsys.readouterr().err
    report = json.loads((out / "report.json").read_text())
    assert report["n_eval"] == 500


def test_column_contiguous_batches_are_checked_like_row_major_ones():
    # Stream batches hold their columns contiguous; the range check's fast path and the domain
    # count must say exactly what the row-major path says.
    from nnrules.io.cells import _check_magnitude
    from nnrules.schema import FeatureSchema

    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 4))
    schema = FeatureSchema.infer(X[:300], ["a", "b", "c", "d"])
    X[310, 2], X[20, 0], X[40, 3] = 1e6, np.nan, -np.inf   # outside the domain; NaN; inf
    for order in ("C", "F"):
        Y = np.array(X, order=order)
        _check_magnitude(["a", "b", "c", "d"], Y, "x")      # inf and NaN are not refused here
        mask, counts = schema.outside_domain(Y)
        ref_mask, ref_counts = schema.outside_domain(np.ascontiguousarray(X))
        np.testing.assert_array_equal(mask, ref_mask)
        assert counts == ref_counts and counts["c"] >= 1
        Y[450, 1] = -3.5e38                                  # beyond float32
        with pytest.raises(DataError, match=r"Column 'b' of 'x' holds -3.5e\+38 in row 450"):
            _check_magnitude(["a", "b", "c", "d"], Y, "x")


def test_count_members_is_isin_sum():
    from nnrules.io.hashing import count_members, distinct_hashes

    rng = np.random.default_rng(3)
    for _ in range(100):
        train = distinct_hashes(rng.integers(0, 50, rng.integers(0, 30), dtype=np.uint64))
        rows = rng.integers(0, 60, rng.integers(0, 40), dtype=np.uint64)
        assert count_members(rows, train) == int(np.isin(rows, train).sum())
    big = rng.integers(0, 2**64 - 1, 2000, dtype=np.uint64)
    assert count_members(big, distinct_hashes(big[:700])) == int(np.isin(big, big[:700]).sum())


def test_bad_second_file_leaves_an_existing_csv_output_as_it_was(setup, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("a,b,c,d\n1,2,3,4\n")
    (folder / "b.csv").write_text("a,b,c,d\n1,2,x,4\n")
    out = tmp_path / "p.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    sur = serialize.load(setup["surrogate"])
    with pytest.raises(DataError, match=r"row 0 holds 'x'"):
        predict_files(sur, folder, output=str(out))
    assert out.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["in", "p.csv"]
    (folder / "b.csv").unlink()
    predict_files(sur, folder, output=str(out))
    assert out.read_text().startswith("prediction\n") and out.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("sample", [0, 40])
def test_invalid_rows_and_the_sample_add_up_in_the_report(tmp_path, capsys, sample):
    """--drop-invalid --sample without --eval: the report said the whole file's 5 dropped rows
    beside a fidelity on the 40-row sample, with words hedging between the two; now it says
    what the sample came from (data.sampled_from) and the counts add up: 5 of 105 dropped, a
    sample of 40 of the other 100 (without --sample: measured on the other 100)."""
    import csv

    jsonschema = pytest.importorskip("jsonschema")
    tabular = Path(__file__).resolve().parent / "fixtures" / "tabular"
    rows = list(csv.reader((tabular / "iris_train.csv").open()))
    for i in (3, 9, 20, 40, 77):
        rows[i][1] = ""
    with (tmp_path / "holes.csv").open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    assert main(["extract", str(tabular / "iris.onnx"), "--data", str(tmp_path / "holes.csv"),
                 "--target", "target", "--method", "tree", "--drop-invalid", "--sample",
                 str(sample), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    measured = "a stratified sample of 40 of the other 100 rows" if sample else \
        "the other 100 rows"
    assert report["data"]["invalid_dropped"] == 5 and report["n_eval"] == (sample or 100)
    assert report["data"].get("sampled_from") == (100 if sample else None)
    assert any(w.startswith("5 of 105 rows of 'holes.csv' were dropped") and
               w.endswith(f"the fidelity is measured on {measured}.") for w in report["warnings"])
    assert f"measured on {measured}." in err
    schema = Path(__file__).resolve().parent.parent / "nnrules" / "io" / "schemas" / "report.json"
    jsonschema.Draft202012Validator(json.loads(schema.read_text())).validate(report)
    assert ("a stratified sample of 100;" in (tmp_path / "o" / "report.md").read_text()) == \
        bool(sample)
