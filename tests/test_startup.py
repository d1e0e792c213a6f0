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
