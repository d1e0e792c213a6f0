"""label_map keys that match no label in the data: a warning at the user's line naming them and
the labels present, or a DataError when no key matches; over files, judged on every batch
together (a key present in one file only is not a miss)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from nnrules.batch_eval import evaluate_files
from nnrules.cli import main
from nnrules.evaluation_checks import map_labels
from nnrules.exceptions import DataError, LabelMapWarning
from nnrules.extract.tree import TreeExtractor
from nnrules.io.model import load

sys.path.insert(0, str(Path(__file__).parent))
from onnx_builders import dense_mlp, mlp_weights, save  # noqa: E402

TABULAR = Path(__file__).parent / "fixtures" / "tabular"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 3-6-2 softmax network, a tree on it, and its rows labelled 'no' / 'yes' in two
    files: the first holds only 'no' rows, the second only 'yes' rows."""
    root = tmp_path_factory.mktemp("label_map")
    network = load(save(dense_mlp(mlp_weights([3, 6, 2], seed=1), head="Softmax"),
                        root / "net.onnx"))
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(400, 3)), 3)
    y = network.predict(X)
    ex = TreeExtractor(network, max_leaves=4, random_state=0).fit(X, feature_names=["a", "b",
                                                                                  "c"])
    (root / "files").mkdir()
    for k in (0, 1):
        rows = X[y == k]
        word = ["no", "yes"][k]
        (root / "files" / f"p{k}.csv").write_text(
            "a,b,c,y\n" + "".join(f"{r[0]!r},{r[1]!r},{r[2]!r},{word}\n" for r in rows.tolist()))
    words = np.where(y == 1, "yes", "no")
    return {"root": root, "network": network, "X": X, "y": y, "words": words, "ex": ex}


def test_an_unmatched_key_is_warned_about_at_the_callers_line(setup):
    ex = setup["ex"]
    with pytest.warns(LabelMapWarning) as caught:
        report = ex.report(setup["X"], setup["words"], label_map={"no": 0, "yes": 1, "yse": 1})
    (w,) = [w for w in caught if w.category is LabelMapWarning]
    assert "label_map keys ['yse'] match no label in" in str(w.message)
    assert "whose labels are ['no', 'yes']" in str(w.message)
    assert w.filename == __file__  # the user's line, not nnrules'
    assert report.accuracy["network"] == 1.0  # the matching keys were applied


def test_no_key_matching_is_an_error(setup):
    with pytest.raises(DataError, match=r"None of the label_map keys \['0', '1'\] is a label "
                       r"in .*whose labels are \['no', 'yes'\]: the map would change nothing"):
        setup["ex"].report(setup["X"], setup["words"], label_map={"0": "no", "1": "yes"})


def test_keys_match_labels_by_text_without_a_warning(setup):
    y = setup["y"].astype(np.float64)  # 0.0 / 1.0, as CSV labels often are
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelMapWarning)
        mapped = map_labels(y, {"0": "no", 1: "yes"})
        assert mapped.tolist() == setup["words"].tolist()
        assert setup["ex"].report(setup["X"], y, label_map={0: 0, 1: 1}).accuracy is not None


def test_over_files_keys_are_matched_on_every_batch_together(setup):
    folder = setup["root"] / "files"
    sur, network = setup["ex"].surrogate_, setup["network"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelMapWarning)  # 'no' and 'yes' are each in one file
        report = evaluate_files(sur, network, folder, target="y", label_map={"no": 0, "yes": 1})
    assert report.accuracy["network"] == 1.0
    with pytest.warns(LabelMapWarning, match=r"keys \['yse'\] match no label") as caught:
        evaluate_files(sur, network, folder, target="y",
                       label_map={"no": 0, "yes": 1, "yse": 1})
    assert len([w for w in caught if w.category is LabelMapWarning]) == 1
    with pytest.raises(DataError, match="None of the label_map keys"):
        evaluate_files(sur, network, folder, target="y", label_map={"n": 0, "y": 1})


def test_cli_prints_the_warning(tmp_path, capsys):
    lines = (TABULAR / "iris_test.csv").read_text().splitlines()
    test = tmp_path / "iris_test.csv"
    test.write_text("\n".join([lines[0]] + [",".join(row.split(",")[:-1] + [
        f"cls{row.split(',')[-1]}"]) for row in lines[1:]]) + "\n")
    code = main(["extract", str(TABULAR / "iris.onnx"), "--data", str(TABULAR / "iris_train.csv"),
                 "--eval", str(test), "--target", "target", "--method", "tree", "--quiet",
                 "--label-map", "cls0=0,cls1=1,cls2=2,csl2=2", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 0
    assert "label_map keys ['csl2'] match no label in 'iris_test.csv'" in err
