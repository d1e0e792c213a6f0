"""Careless and hostile input (issue 16, items 7-12): clear errors instead of internal ones,
limits with clear refusals, progress on a terminal only, and clean, readable output folders."""

from __future__ import annotations

import csv
import json
import os
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
