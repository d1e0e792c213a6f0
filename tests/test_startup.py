"""Start-up: the package and the CLI import no heavy module until a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.base import clone

from nnrules.extract import KINDS, REGISTRY, get_extractor, method_names

FIXTURES = Path(__file__).parent / "fixtures"
HEAVY = ("sympy", "scipy", "matplotlib", "networkx", "sklearn", "pandas", "pyarrow")


def _loaded_after(code: str) -> list[str]:
    script = code + (
        "\nimport json, sys\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_and_help_load_no_heavy_module():
    assert _loaded_after("import nnrules, nnrules.cli\nnnrules.cli._parser()") == []


def test_inspect_loads_no_heavy_module():
    code = ("import contextlib, io\nfrom nnrules.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['inspect', {str(FIXTURES / 'via_iris.onnx')!r}]) == 0")
    assert _loaded_after(code) == []


def test_a_heavy_module_is_loaded_when_used():
    # The checks above can fail: symbolic indicators load sympy.
    assert "sympy" in _loaded_after("import nnrules.surrogates.indicator")


@pytest.mark.parametrize("name", method_names())
def test_kinds_say_what_the_classes_say(name):
    cls = get_extractor(name)
    assert KINDS[name] == (cls.family, getattr(cls, "data_kind", "table"))
    assert set(KINDS) == set(REGISTRY)


def test_params_protocol_without_sklearn_base():
    ex = get_extractor("tree")(None, max_leaves=7, random_state=3)
    assert ex.get_params()["max_leaves"] == 7
    twin = clone(ex)
    assert twin.get_params() == ex.get_params() and twin is not ex
    assert ex.set_params(max_leaves=9) is ex and ex.max_leaves == 9
    assert "max_leaves=9" in repr(ex) and "random_state=3" in repr(ex)
    with pytest.raises(ValueError, match="Invalid parameter 'nope'.*max_leaves"):
        ex.set_params(nope=1)


def test_extract_loads_nothing_heavy_before_the_fit(tmp_path):
    # Everything the CLI does before the fit (parse, load and check the model, read a small
    # CSV) stays off scipy/pandas/scikit-learn: the fit alone pays for its learner's imports.
    data = tmp_path / "rows.csv"
    rng = __import__("numpy").random.default_rng(0)
    data.write_text("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n" + "".join(
        ",".join(f"{v:.3f}" for v in row) + "\n" for row in rng.normal(size=(40, 4))))
    code = (
        "import sys\nimport nnrules.extract.tree as t\n"
        "def _fit(self, X, y):\n"
        f"    print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
        "    raise SystemExit(0)\n"
        "t.TreeExtractor._fit = _fit\n"
        "from nnrules.cli import main\n"
        f"main(['extract', {str(FIXTURES / 'via_iris.onnx')!r}, '--data', {str(data)!r}, "
        f"'--method', 'tree', '--out', {str(tmp_path / 'out')!r}])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.stdout.strip().splitlines()[-1] == "['pyarrow']", out.stderr[-2000:]


def test_the_program_freezes_the_collector_before_exit_and_a_caller_keeps_it():
    # Run as the program, main() moves the objects alive at the end out of the collector
    # (a cheap interpreter exit); called from Python with arguments, it leaves it as it was.
    code = ("import contextlib, gc, io, sys\nfrom nnrules.cli import main\n"
            f"model = {str(FIXTURES / 'via_iris.onnx')!r}\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['inspect', model]) == 0\n"
            "    before = gc.get_freeze_count()\n"
            "    sys.argv = ['nnrules', 'inspect', model]\n"
            "    assert main() == 0\n"
            "print(before, gc.get_freeze_count())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    before, after = map(int, out.stdout.split())
    assert before == 0 and after > 1000


def test_evaluate_and_predict_of_a_tree_load_nothing_heavy(tmp_path):
    # Scoring a saved tree needs numpy, onnxruntime and the reader only: no scikit-learn,
    # scipy or pandas (they cost ~1 s to import and ~0.3 s at exit).
    import numpy as np

    from nnrules.io import serialize
    from nnrules.io.model import load

    names = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
    X = np.random.default_rng(1).normal(3.0, 1.0, size=(60, 4)).round(2)
    data = tmp_path / "rows.csv"
    data.write_text(",".join(names) + "\n" + "".join(
        ",".join(f"{v:.2f}" for v in row) + "\n" for row in X))
    model = FIXTURES / "via_iris.onnx"
    tree = get_extractor("tree")(load(model), max_leaves=4, random_state=0)
    serialize.dump(tree.fit(X, feature_names=names).surrogate_, tmp_path / "s.json")
    code = ("import contextlib, io\nfrom nnrules.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), "
            "contextlib.redirect_stderr(io.StringIO()):\n"
            f"    assert main(['evaluate', {str(tmp_path / 's.json')!r}, {str(model)!r}, "
            f"'--data', {str(data)!r}]) == 0\n"
            f"    assert main(['predict', {str(tmp_path / 's.json')!r}, '--data', "
            f"{str(data)!r}, '-o', {str(tmp_path / 'p.csv')!r}]) == 0\n")
    assert _loaded_after(code) == ["pyarrow"]
