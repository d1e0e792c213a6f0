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
    ("deep", "nests deeper than 64 levels"),
    ("depth_70", "nests deeper than 64 levels"),
    ("version", "is not an nnrules file"),
    ("feature", "feature 1000000000000000000000000000000, outside the 30 features"),
    ("float", "too large for a float"),
    ("nan", "NaN"),
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


def test_parse_json_limits_are_the_documented_constants(monkeypatch, tmp_path, tree_file):
    from nnrules.exceptions import FormatError
    from nnrules.io import serialize

    assert serialize.parse_json("[" * 64 + "]" * 64) is not None
    with pytest.raises(FormatError, match="nests deeper than 64"):
        serialize.parse_json("[" * 65 + "]" * 65)
    monkeypatch.setattr(serialize, "MAX_BYTES", 100)
    with pytest.raises(FormatError, match="more than the 100 an nnrules file may have"):
        serialize.parse_json("[" + "0, " * 50 + "0]")
    with pytest.raises(FormatError, match=r"bytes, more than the 100 .*MAX_BYTES"):
        serialize.load(tree_file)
    model = tmp_path / "big_model.bin"  # too large to read, and not JSON: named as not ours
    model.write_bytes(b"\x08\x07" + bytes(200))
    with pytest.raises(FormatError, match="is not an nnrules file.*does not begin with '{'.*"
                                          "nnrules extract MODEL"):
        serialize.load(model)


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


def _external(tmp_path, edit=None, tail=0):
    """The dynamo_ext fixture with its first tensor's external-data entries edited and ``tail``
    zero bytes appended to its data file (sparse: never written to disk)."""
    import onnx

    folder = tmp_path / "ext"
    shutil.copytree(ROOT / "tests" / "fixtures" / "dynamo_ext", folder)
    model = onnx.load(folder / "model.onnx", load_external_data=False)
    tensors = [t for t in model.graph.initializer
               if t.data_location == onnx.TensorProto.EXTERNAL]
    if edit:
        edit(tensors)
    onnx.save(model, folder / "model.onnx")
    if tail:
        with open(folder / "model.onnx.data", "r+b") as f:
            f.truncate(os.path.getsize(folder / "model.onnx.data") + tail)
    return folder / "model.onnx", tensors


def _set(tensor, key, value=None):
    entries = {e.key: e for e in tensor.external_data}
    if value is None:
        tensor.external_data.remove(entries[key])
    elif key in entries:
        entries[key].value = value
    else:
        tensor.external_data.add(key=key, value=value)


def _last_length(tensors):
    _set(tensors[-1], "length")  # the last tensor reads the rest of the file


@pytest.mark.parametrize("edit, tail, message", [
    # 12 bytes of bias, no length: the rest of a 3 GiB file was read whole, then refused.
    (_last_length, 3 * 2**30, r"'2\.bias' of shape \[3\] reads 3221225484 bytes at offset 256 of "
     r"'model\.onnx\.data' \(no length: the rest of the file\), but its 3 element\(s\) take "
     r"at most 12 bytes"),
    (lambda t: _set(t[1], "length", "200"), 200, r"'0\.bias' of shape \[8\] reads 200 bytes"),
    (lambda t: _set(t[1], "offset", "64"), 0, r"'0\.weight' and '0\.bias' read overlapping "
     r"bytes of 'model\.onnx\.data' \(offsets 0 and 64\)"),
    (None, 3 * 2**30, r"holds 3221225740 bytes, of which its 4 tensor\(s\) read 268: "
     r"3221225472 bytes no tensor reads, more than the 327680"),
])
def test_external_data_is_sized_before_it_is_read(tmp_path, capsys, monkeypatch, edit, tail,
                                                  message):
    """A tensor's extent is checked against its shape, overlaps and unread bytes against the
    file's size, all before the file is opened (it was read whole first, gigabytes or not)."""
    from nnrules.exceptions import ModelLoadError
    from nnrules.io.model import load

    path, _ = _external(tmp_path, edit, tail)
    opened, path_open = [], Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: opened.append(self.name) or
                        path_open(self, *a, **k))
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: opened.append(self.name) or
                        read_bytes(self))
    with pytest.raises(ModelLoadError, match=message):
        load(path)
    assert "model.onnx.data" not in opened
    code, _, err = run(capsys, "inspect", path)
    assert code == EXIT_ERROR and err.count("\n") == 1 and re.search(message, err)


def test_external_data_padded_as_onnx_aligns_it_still_loads(tmp_path):
    """Alignment gaps of up to 64 KiB per tensor (what onnx writes) are not refused."""
    import onnx

    from nnrules.io.model import load

    def spread(tensors):
        for i, t in enumerate(tensors):
            _set(t, "offset", str(i * 65536))

    path, _ = _external(tmp_path, spread)
    data = (path.parent / "model.onnx.data").read_bytes()
    model = onnx.load(path, load_external_data=False)
    spaced = bytearray(3 * 65536 + 12)
    for t, (start, end) in zip([t for t in model.graph.initializer], [(0, 128), (128, 160),
                                                                       (160, 256), (256, 268)]):
        offset = int({e.key: e.value for e in t.external_data}["offset"])
        spaced[offset:offset + end - start] = data[start:end]
    (path.parent / "model.onnx.data").write_bytes(bytes(spaced))
    X = np.random.default_rng(0).normal(size=(5, 4))
    assert np.array_equal(load(path).scores(X),
                          load(ROOT / "tests" / "fixtures" / "dynamo_ext" / "model.onnx").scores(X))


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
    assert "opset 99 of domain 'ai.onnx'" in err and f"supports opsets 1 to {top}" in err
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
    code, _, _ = run(capsys, *base, "--sep", ";")
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


# -- item 8: limits and progress ---------------------------------------------------------------

def test_a_long_sequence_line_is_refused_quickly_and_the_limit_can_be_raised(tmp_path, capsys):
    import time

    train = (TOMITA / "tomita1_train.txt").read_text()
    path = tmp_path / "long.txt"
    path.write_text(train + "1" * 100_000 + "\n")
    argv = ["extract", TOMITA / "tomita1_gru.onnx", "--data", path, "--method", "automaton",
            "--alphabet", "01", "--out", tmp_path / "o"]
    start = time.perf_counter()
    code, _, err = run(capsys, *argv)
    assert time.perf_counter() - start < 10
    assert code == EXIT_ERROR
    n_lines = train.count("\n") + 1
    assert f"Sequence {n_lines} of 'long.txt' has 100000 symbols, more than the limit of 256" in err
    assert "--max-length 100000" in err
    from nnrules.io.sequences import read_sequences

    short = tmp_path / "short.txt"
    short.write_text(train + "1" * 300 + "\n")
    assert max(read_sequences(short, alphabet="01", max_length=300).lengths) == 300
    from nnrules.exceptions import DataError

    with pytest.raises(DataError, match="300 symbols, more than the limit of 256"):
        read_sequences(short, alphabet="01")


def test_npy_sequences_and_data_files_have_limits_too(tmp_path, capsys):
    from nnrules.exceptions import DataError
    from nnrules.io.data import read_data
    from nnrules.io.sequences import read_sequences

    ids = np.zeros((3, 400), dtype=np.int64)
    ids[1, 300:] = -1
    np.save(tmp_path / "ids.npy", ids)
    with pytest.raises(DataError, match="Sequence 1 of 'ids.npy' has 400 symbols"):
        read_sequences(tmp_path / "ids.npy", alphabet="01")
    size = Path(TRAIN).stat().st_size
    with pytest.raises(DataError, match=r"more than the limit of 1000 bytes.*--max-file-size 1"):
        read_data(TRAIN, max_bytes=1000)
    assert read_data(TRAIN, max_bytes=size).n_samples == 398
    code, _, err = run(capsys, *extract_tree(tmp_path / "o"), "--max-file-size", "0.01")
    assert code == EXIT_ERROR and "more than the limit of 10485 bytes" in err


class _Terminal:
    """A stand-in for a terminal's stderr that keeps what was written."""

    def __init__(self, tty: bool):
        self.tty, self.parts = tty, []

    def isatty(self):
        return self.tty

    def write(self, text):
        self.parts.append(text)
        return len(text)

    def flush(self):
        pass

    @property
    def text(self):
        return "".join(self.parts)


@pytest.mark.parametrize("tty, quiet, shown", [(True, False, True), (True, True, False),
                                               (False, False, False)])
def test_progress_shows_every_stage_on_a_terminal_only_and_not_when_quiet(
        tmp_path, monkeypatch, tty, quiet, shown):
    import sys

    from nnrules.io import progress

    monkeypatch.setattr(progress, "DELAY", 0.0)
    terminal = _Terminal(tty)
    monkeypatch.setattr(sys, "stderr", terminal)
    argv = [str(a) for a in extract_tree(tmp_path / "o")] + ["--eval", TEST]
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    for stage in ("reading train.csv", "reading test.csv", "fitting tree",
                  "evaluating on test.csv"):
        assert (stage in terminal.text) == shown, (stage, terminal.text[-400:])
    assert progress.ENABLED  # the switch is restored after the run


def test_probing_bar_follows_the_switch(monkeypatch):
    import sys

    from nnrules.io import probe, progress

    class Session:
        def run(self, names, feeds):
            return [feeds["x"] * 2]

    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.setattr(probe, "PROGRESS_MIN_ROWS", 10)
    terminal = _Terminal(True)
    monkeypatch.setattr(sys, "stderr", terminal)
    x = np.arange(100.0).reshape(-1, 1)
    out = probe.run_batched(Session(), {"x": x}, ["y"], batch_size=10)
    assert np.array_equal(out[0], 2 * x) and "probing the network" in terminal.text
    monkeypatch.setattr(progress, "ENABLED", False)
    terminal.parts.clear()
    probe.run_batched(Session(), {"x": x}, ["y"], batch_size=10)
    assert terminal.text == ""


# -- item 9: a table method on a sequence model ----------------------------------------------

def test_a_table_method_on_a_sequence_model_names_the_methods_that_fit(tmp_path, capsys):
    from nnrules.extract import REGISTRY, get_extractor

    sequence_methods = sorted(m for m in REGISTRY
                              if getattr(get_extractor(m), "data_kind", "table") == "sequences")
    code, _, err = run(capsys, "extract", TOMITA / "tomita1_gru.onnx", "--data",
                       TOMITA / "tomita1_train.txt", "--method", "tree", "--out", tmp_path / "o")
    assert code == EXIT_ERROR
    assert "is a sequence model" in err and "has no header line" not in err
    assert f"Methods that fit it: {', '.join(sequence_methods)}" in err
    code, _, err = run(capsys, "extract", MODEL, "--data", TRAIN, "--method", "automaton",
                       "--out", tmp_path / "o")
    assert code == EXIT_ERROR and "takes table rows" in err and "tree" in err
    assert not (tmp_path / "o").exists()


# -- item 10: a second run into the same folder -----------------------------------------------

@pytest.fixture(scope="module")
def additive_case():
    """Arguments of an additive extraction (with plots) on iris: 4 features."""
    tabular = ROOT / "tests" / "fixtures" / "tabular"
    argv = ["extract", tabular / "iris.onnx", "--data", tabular / "iris_train.csv", "--target",
            "target", "--method", "additive", "--param", "n_queries=200"]
    return [str(a) for a in argv]


def test_a_second_run_removes_what_the_first_wrote_and_nothing_else(additive_case, tmp_path,
                                                                     capsys):
    pytest.importorskip("matplotlib")
    argv = additive_case
    out = tmp_path / "out"
    out.mkdir()
    (out / "my_notes.txt").write_text("mine")
    (out / "shape_99_mine.png").write_bytes(b"not nnrules'")
    code, _, _ = run(capsys, *argv, "--out", out)
    assert code == 0
    plots = sorted(p.name for p in out.glob("*.png") if p.name != "shape_99_mine.png")
    assert plots and (out / "importance.png").exists()
    code, _, _ = run(capsys, *extract_tree(out))
    assert code == 0
    left = sorted(p.name for p in out.iterdir())
    assert left == [".nnrules-manifest.json", "my_notes.txt", "report.json", "report.md",
                    "rules.txt", "shape_99_mine.png", "surrogate.json"]
    assert (out / "my_notes.txt").read_text() == "mine"
    assert json.loads((out / "surrogate.json").read_text())["format"] == "nnrules/tree"


def test_evaluate_into_an_extraction_folder_keeps_its_files(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, *extract_tree(out))[0] == 0
    code, _, _ = run(capsys, "evaluate", out / "surrogate.json", MODEL, "--data", TEST,
                     "--target", "target", "--out", out)
    assert code == 0
    assert (out / "surrogate.json").exists() and (out / "rules.txt").exists()
    assert run(capsys, *extract_tree(out))[0] == 0
    assert sorted(p.name for p in out.iterdir()) == [
        ".nnrules-manifest.json", "report.json", "report.md", "rules.txt", "surrogate.json"]


def test_a_hostile_manifest_removes_nothing_outside_the_folder(tmp_path, capsys):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    (out / "link.txt").symlink_to(outside)
    (out / ".nnrules-manifest.json").write_text(json.dumps({
        "format": "nnrules/manifest", "version": 1,
        "files": ["../precious.txt", str(outside), "link.txt", ".", "..", "sub/x"]}))
    assert run(capsys, *extract_tree(out))[0] == 0
    assert outside.read_text() == "keep" and (out / "mine.txt").read_text() == "keep"
    assert (out / "link.txt").is_symlink()


# -- item 12: the summary line names every file; skipped plots are said once -------------------

def test_the_summary_names_the_plots(additive_case, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    argv = additive_case
    code, out, err = run(capsys, *argv, "--out", tmp_path / "o")
    assert code == 0
    plots = sorted(p.name for p in (tmp_path / "o").glob("*.png"))
    assert f"and {len(plots)} plots (importance.png, " in out
    assert "note:" not in err
    for name in plots:  # PNGs and the rest alike respect the umask
        mode = stat.S_IMODE((tmp_path / "o" / name).stat().st_mode)
        assert mode == stat.S_IMODE((tmp_path / "o" / "surrogate.json").stat().st_mode)


def test_without_matplotlib_the_skipped_plots_are_said_once(additive_case, tmp_path, capsys,
                                                             monkeypatch):
    import sys

    argv = additive_case
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    code, out, err = run(capsys, *argv, "--out", tmp_path / "o")
    assert code == 0
    assert err.count("note: plots skipped: matplotlib is not installed") == 1
    assert "pip install nnrules[plot]" in err
    assert "plots (" not in out and not list((tmp_path / "o").glob("*.png"))


def test_plots_are_listed_before_they_land_and_staging_left_by_a_killed_run_goes(
        additive_case, tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    from nnrules.io import outdir

    out = tmp_path / "out"
    (out / ".nnrules-staging-killed").mkdir(parents=True)
    (out / ".nnrules-staging-killed" / "shape_00_x.png").write_bytes(b"half")
    seen = []
    adopt = outdir.OutputFolder.adopt

    def spy(self, folder, names):
        assert all((folder / n).is_file() and not (self.path / n).exists() for n in names)
        adopt(self, folder, names)
        listed = json.loads((self.path / outdir.MANIFEST).read_text())["files"]
        seen.append(set(names) <= set(listed))

    monkeypatch.setattr(outdir.OutputFolder, "adopt", spy)
    assert run(capsys, *additive_case, "--out", out)[0] == 0
    assert seen == [True]
    assert not list(out.glob(".nnrules-staging-*"))
    assert (out / "importance.png").is_file()


def test_evaluate_honours_sep_and_predict_refuses_it_clearly(tmp_path, capsys):
    # evaluate reads a single file whole when --sep / --encoding are given (the batched reader
    # reads UTF-8 with ',' only), so it gives the same report as the comma file; predict,
    # which always reads in batches, refuses the options in one line instead of ignoring them.
    rows = _rows()
    (tmp_path / "semi.csv").write_text("\n".join(";".join(r) for r in rows) + "\n")
    ref = ["extract", MODEL, "--data", TRAIN, "--target", "target", "--method", "tree",
           "--param", "max_leaves=4", "--out", tmp_path / "o"]
    assert run(capsys, *ref)[0] == 0
    surrogate = tmp_path / "o" / "surrogate.json"
    code, out_semi, err = run(capsys, "evaluate", surrogate, MODEL, "--data", tmp_path / "semi.csv",
                              "--target", "target", "--sep", ";")
    assert code == 0, err
    code, out_comma, err = run(capsys, "evaluate", surrogate, MODEL, "--data", TRAIN,
                               "--target", "target")
    assert code == 0, err
    figure = [line for line in out_comma.splitlines() if "idelity" in line][:3]
    assert figure and all(line in out_semi for line in figure)
    code, _, err = run(capsys, "predict", surrogate, "--data", tmp_path / "semi.csv", "--sep", ";")
    assert code == EXIT_ERROR and "--sep are not supported here yet" in err
    assert "Traceback" not in err


def test_negative_sample_size_is_refused_not_read_as_all_rows(tmp_path, capsys):
    """--sample -5 learned from every row as if it were --sample 0 (the help's "all rows")."""
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in extract_tree(tmp_path / "o", "--sample", "-5")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--sample: expected a number >= 0, got '-5'" in err
    assert not (tmp_path / "o").exists()
    code, _, _ = run(capsys, *extract_tree(tmp_path / "all", "--sample", "0"))
    assert code == 0 and json.loads((tmp_path / "all" / "report.json").read_text())["n_eval"] == 398
