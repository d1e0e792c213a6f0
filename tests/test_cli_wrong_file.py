"""An ONNX model given where a surrogate JSON goes, or the reverse: the message says which kind
was expected, which was given and what to run instead (CLI and library)."""

from __future__ import annotations

from pathlib import Path

import pytest

import nnrules
from nnrules.cli import main
from nnrules.exceptions import FormatError, ModelLoadError
from nnrules.io import serialize
from nnrules.io.filekind import file_kind, is_onnx_model, nnrules_format

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "breast_cancer"
MODEL = str(EXAMPLE / "model.onnx")
TRAIN = str(EXAMPLE / "train.csv")
TEST = str(EXAMPLE / "test.csv")


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tree")
    assert main(["extract", MODEL, "--data", TRAIN, "--target", "target", "--method", "tree",
                 "--param", "max_leaves=4", "--out", str(folder), "--quiet"]) == 0
    return folder


def error_line(capsys, *argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("nnrules: error:"), err
    return lines[0]


def test_file_kind_tells_models_from_nnrules_files(out):
    assert file_kind(MODEL) == "onnx"
    assert file_kind(out / "surrogate.json") == "nnrules/tree"
    assert file_kind(out / "report.json") == "nnrules/report"
    assert file_kind(TRAIN) is None and file_kind(out / "missing") is None
    assert not is_onnx_model(b'{"format": "nnrules/tree"}') and not is_onnx_model(b"")
    assert nnrules_format(b'{"format": "other"}') is None and nnrules_format(b"\xff{") is None


def test_predict_given_a_model_says_to_extract_first(capsys):
    line = error_line(capsys, "predict", MODEL, "--data", TEST)
    assert "nnrules predict expects a surrogate file" in line
    assert f"{MODEL!r} is an ONNX model" in line
    assert f"nnrules extract {MODEL} --data TRAIN" in line
    assert "nnrules predict DIR/surrogate.json" in line


def test_export_given_a_model_says_to_extract_first(capsys, tmp_path):
    line = error_line(capsys, "export", MODEL, "--to", "python", "-o", tmp_path / "m.py")
    assert "nnrules export expects a surrogate file" in line and "is an ONNX model" in line
    assert not (tmp_path / "m.py").exists()


@pytest.mark.parametrize("command", ["evaluate", "certify"])
def test_swapped_surrogate_and_model_give_the_command_in_order(out, capsys, tmp_path, command):
    surrogate = str(out / "surrogate.json")
    extra = ["--out", tmp_path / "c"] if command == "certify" else []
    line = error_line(capsys, command, MODEL, surrogate, "--data", TEST, *extra)
    assert "swapped" in line
    assert f"nnrules {command} {surrogate} {MODEL}" in line


def test_evaluate_with_a_surrogate_as_the_model(out, capsys):
    surrogate = str(out / "surrogate.json")
    line = error_line(capsys, "evaluate", surrogate, surrogate, "--data", TEST)
    assert "the model argument" in line and "'nnrules/tree'" in line
    assert "network's .onnx file" in line


def test_inspect_given_a_surrogate_says_what_reads_it(out, capsys):
    surrogate = str(out / "surrogate.json")
    line = error_line(capsys, "inspect", surrogate)
    assert "nnrules inspect expects an ONNX model" in line
    assert f"{surrogate!r} is an nnrules surrogate file ('nnrules/tree')" in line
    assert f"nnrules predict {surrogate} --data X" in line


def test_extract_given_a_surrogate_points_at_evaluate(out, capsys, tmp_path):
    surrogate = str(out / "surrogate.json")
    line = error_line(capsys, "extract", surrogate, "--data", TRAIN, "--method", "tree",
                      "--out", tmp_path / "o")
    assert "nnrules extract expects the network's ONNX model" in line
    assert f"nnrules evaluate {surrogate} MODEL.onnx" in line
    assert not (tmp_path / "o").exists()


def test_inspect_given_a_report_or_export_model_given_a_surrogate(out, capsys, tmp_path):
    line = error_line(capsys, "inspect", out / "report.json")
    assert "is an nnrules report file ('nnrules/report')" in line
    line = error_line(capsys, "export", out / "surrogate.json", "--model", out / "surrogate.json",
                      "--to", "onnx", "-o", tmp_path / "s.onnx")
    assert "nnrules export --model expects the network's ONNX model" in line


def test_other_files_keep_the_plain_message(capsys):
    line = error_line(capsys, "inspect", TRAIN)
    assert "is not a readable ONNX file" in line


def test_library_errors_name_both_kinds(out):
    with pytest.raises(ModelLoadError, match=r"is an nnrules surrogate file \('nnrules/tree'\), "
                       r"not an ONNX model\. .*nnrules\.io\.serialize\.load"):
        nnrules.load(out / "surrogate.json")
    with pytest.raises(ModelLoadError, match=r"nnrules report file .*\.onnx file here\.$"):
        nnrules.load(out / "report.json")
    with pytest.raises(FormatError, match=r"is an ONNX model, not an nnrules file .* nnrules "
                       "extract"):
        serialize.load(MODEL)
