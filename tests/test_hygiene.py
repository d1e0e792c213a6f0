"""Careless and hostile input (issue 16, items 7-12): clear errors instead of internal ones,
limits with clear refusals, progress on a terminal only, and clean, readable output folders."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest

from nnrules.cli import EXIT_ERROR, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "breast_cancer"
MODEL = str(EXAMPLE / "model.onnx")
TRAIN = str(EXAMPLE / "train.csv")
TEST = str(EXAMPLE / "test.csv")
TOMITA = ROOT / "tests" / "fixtures" / "tomita"
ADDITIVE = ROOT / "tests" / "fixtures" / "additive"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def extract_tree(out, *extra):
    return ["extract", MODEL, "--data", TRAIN, "--target", "target", "--method", "tree",
            "--param", "max_leaves=4", "--param", "n_queries=200", "--out", out, *extra]


# -- item 11: files respect the umask ---------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_files_respect_the_umask(tmp_path, capsys, umask):
    old = os.umask(umask)
    try:
        code, _, _ = run(capsys, *extract_tree(tmp_path / "out"))
    finally:
        os.umask(old)
    assert code == 0
    for name in ("surrogate.json", "report.json", "report.md", "rules.txt"):
        mode = stat.S_IMODE((tmp_path / "out" / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


# -- item 7: clear errors, not internal ones --------------------------------------------------

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("where", ["data", "model", "surrogate"])
def test_a_fifo_is_named_as_not_a_regular_file(tmp_path, capsys, where):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    argv = {"data": ["extract", MODEL, "--data", fifo, "--method", "tree"],
            "model": ["inspect", fifo],
            "surrogate": ["predict", fifo, "--data", TEST]}[where]
    code, _, err = run(capsys, *argv)
    assert code == EXIT_ERROR
    assert "named pipe (FIFO), not a regular file" in err
    assert "does not exist" not in err


@pytest.fixture(scope="module")
def tree_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("tree")
    assert main([str(a) for a in extract_tree(out)]) == 0
    return out / "surrogate.json"


def _mutated(tree_file, tmp_path, how):
    text = tree_file.read_text()
    if how == "deep":
        text = text.rstrip().rstrip("}") + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif how == "version":
        text = text.replace('"version": 1', '"version": ' + "9" * 5000)
    elif how == "feature":
        text = re.sub(r'"feature": \d+', '"feature": 1' + "0" * 30, text, count=1)
    elif how == "float":
        text = text.replace('"value": ', '"value": 1' + "0" * 400 + ".5, \"v\": ", 1)
    elif how == "nan":
        text = text.replace('"samples": ', '"samples": NaN, "s": ', 1)
    elif how == "depth_70":
        text = text.rstrip().rstrip("}") + ', "x": ' + "[" * 70 + "]" * 70 + "}"
    path = tmp_path / f"{how}.json"
    path.write_text(text)
    return path


@pytest.mark.parametrize("how, message", [
    ("deep", "nested deeper than 64 levels"),
    ("depth_70", "nested deeper than 64 levels"),
    ("version", "outside the 64-bit range"),
    ("feature", "1000000000000000000000000000000 is outside the 64-bit range"),
    ("float", "beyond the float64 range"),
    ("nan", "NaN is not allowed"),
])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_hostile_json_is_a_format_error_at_parsing(tree_file, tmp_path, capsys, how, message,
                                                   command):
    path = _mutated(tree_file, tmp_path, how)
    argv = ["predict", path, "--data", TEST, "--target", "target"] if command == "predict" else [
        "evaluate", path, MODEL, "--data", TEST, "--target", "target"]
    code, _, err = run(capsys, *argv)
    assert code == EXIT_ERROR, err
    assert message in err
    assert "internal error" not in err


def test_parse_json_limits_are_the_documented_constants():
    from nnrules.exceptions import FormatError
    from nnrules.io import serialize

    assert serialize.parse_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(FormatError, match="nested deeper than 64"):
        serialize.parse_json("[" * 65 + "]" * 65)
    assert serialize.parse_json(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(FormatError, match="64-bit range"):
        serialize.parse_json(str(2**63))


@pytest.mark.parametrize("key, value, message", [
    ("offset", str(10**15), "reads"),
    ("length", str(10**15), "reads 1000000000000000 bytes at offset 0"),
    ("offset", "-4", "must be a non-negative integer"),
    ("length", "9" * 40, "must be a non-negative integer"),
])
def test_external_data_beyond_its_file_is_a_clear_error(tmp_path, capsys, key, value, message):
    import onnx

    folder = tmp_path / "ext"
    shutil.copytree(ROOT / "tests" / "fixtures" / "dynamo_ext", folder)
    model = onnx.load(folder / "model.onnx", load_external_data=False)
    tensor = next(t for t in model.graph.initializer
                  if t.data_location == onnx.TensorProto.EXTERNAL)
    entries = {e.key: e for e in tensor.external_data}
    if key in entries:
        entries[key].value = value
    else:
        tensor.external_data.add(key=key, value=value)
    onnx.save(model, folder / "model.onnx")
    code, _, err = run(capsys, "inspect", folder / "model.onnx")
    assert code == EXIT_ERROR, err
    assert message in err and tensor.name in err


def test_an_unknown_opset_names_the_opset_and_the_supported_range(tmp_path, capsys):
    import onnx

    model = onnx.load(MODEL)
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            entry.version = 99
    onnx.save(model, tmp_path / "opset99.onnx")
    code, _, err = run(capsys, "inspect", tmp_path / "opset99.onnx")
    assert code == EXIT_ERROR
    top = onnx.defs.onnx_opset_version()
    assert f"opset 99 of domain 'ai.onnx'" in err and f"supports opsets 1 to {top}" in err
    assert "onnxruntime_src" not in err and "ValidateOpsetForDomain" not in err
    from nnrules.exceptions import UnsupportedModelError
    from nnrules.io.model import load

    with pytest.raises(UnsupportedModelError, match="opset 99"):
        load(tmp_path / "opset99.onnx")


# -- item 7: CSV files nnrules cannot read as they are ----------------------------------------

def _rows():
    with open(TRAIN, newline="") as fh:
        return list(csv.reader(fh))


def test_a_value_beyond_float32_names_column_and_row_without_numpy_warnings(tmp_path, capsys,
                                                                             recwarn):
    rows = _rows()
    rows[3][2] = "1e300"
    with open(tmp_path / "big.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    code, _, err = run(capsys, *extract_tree(tmp_path / "o")[:3], tmp_path / "big.csv",
                       *extract_tree(tmp_path / "o")[4:])
    assert code == EXIT_ERROR, err
    assert f"Column {rows[0][2]!r} of 'big.csv' holds 1e+300 in row 2" in err
    assert "float32" in err and "RuntimeWarning" not in err
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
    assert not (tmp_path / "o").exists()


def test_a_latin1_csv_names_the_encoding_and_reads_with_encoding(tmp_path, capsys):
    text = Path(TRAIN).read_text()
    header, body = text.split("\n", 1)
    # A label column holding a non-ASCII word: the model never sees it.
    lines = [header + ",note"] + [line + ",café" for line in body.rstrip("\n").split("\n")]
    (tmp_path / "latin.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    argv = ["extract", MODEL, "--data", tmp_path / "latin.csv", "--target", "target",
            "--method", "tree", "--param", "max_leaves=4", "--out", tmp_path / "o"]
    code, _, err = run(capsys, *argv)
    assert code == EXIT_ERROR, err
    assert "is not utf-8 text: line 2 holds the byte b'\\xe9'" in err
    assert "--encoding latin-1" in err
    from nnrules.io.data import read_data

    data = read_data(tmp_path / "latin.csv", target="target", encoding="latin-1",
                     feature_names=header.split(",")[:-1])
    assert data.n_samples == len(lines) - 1


def test_a_semicolon_csv_names_the_separator_and_reads_with_sep(tmp_path, capsys):
    rows = _rows()
    (tmp_path / "semi.csv").write_text("\n".join(";".join(r) for r in rows) + "\n")
    base = ["extract", MODEL, "--data", tmp_path / "semi.csv", "--target", "target",
            "--method", "tree", "--param", "max_leaves=4", "--out", tmp_path / "o"]
    code, _, err = run(capsys, *base)
    assert code == EXIT_ERROR
    assert "separated by semicolons (';')" in err and "--sep ';'" in err
    code, out, _ = run(capsys, *base, "--sep", ";")
    assert code == 0
    ref = [TRAIN if a == tmp_path / "semi.csv" else a for a in base[:-1]] + [tmp_path / "ref"]
    assert run(capsys, *ref)[0] == 0
    assert ((tmp_path / "o" / "surrogate.json").read_bytes()
            == (tmp_path / "ref" / "surrogate.json").read_bytes())


def test_decimal_commas_are_named_with_the_separator(tmp_path):
    from nnrules.exceptions import DataError
    from nnrules.io.data import read_data

    (tmp_path / "d.csv").write_text("a;b\n0,5;1\n1,5;0\n")
    with pytest.raises(DataError, match="decimal comma"):
        read_data(tmp_path / "d.csv")
