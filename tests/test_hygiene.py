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
