"""The surrogate contract, the oracles' import boundary and the package layout.

Every class under ``nnrules/surrogates`` with a ``predict`` must derive from ``Surrogate``, be
registered for files under its ``FORMAT``, and come back from its JSON byte for byte, answering
the same. Instances are built directly (from a black-box function, by hand and from the ground
truth grammars), so these checks run in seconds and cover kinds no method emits (``RuleSet``,
regression boxes, Moore machines).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import nnrules.surrogates
from nnrules.datasets.languages import TOMITA
from nnrules.exceptions import FormatError
from nnrules.extract import REGISTRY
from nnrules.io import serialize
from nnrules.schema import FeatureSchema
from nnrules.surrogates.automaton import Automaton
from nnrules.surrogates.base import SequenceSurrogate, Surrogate, TableSurrogate
from nnrules.surrogates.boxes import BoxRuleSet
from nnrules.surrogates.rules import Condition, MofN, Rule, RuleSet
from nnrules.surrogates.tree import TreeSurrogate

PACKAGE = Path(nnrules.surrogates.__file__).resolve().parent.parent
NAMES = ("age", "n", "color_red", "color_green", "color_blue", "smoker")


# ------------------------------------------------------------------------------ instances
@cache
def _rows(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(18, 90, n).round(1), rng.integers(0, 6, n),
                         np.eye(3)[rng.integers(0, 3, n)], rng.integers(0, 2, n)])
    return X.astype(np.float64), FeatureSchema.infer(X.astype(np.float64), NAMES)


def _yes_no(Z):
    Z = np.asarray(Z, dtype=np.float64)
    return np.where(0.05 * Z[:, 0] + 0.4 * Z[:, 1] - 1.5 * Z[:, 2] + Z[:, 5] > 4, "yes", "no")


class _Regressor:
    """A black box that declares a regression task."""

    task = "regression"

    def predict(self, Z):
        Z = np.asarray(Z, dtype=np.float64)
        return 0.02 * Z[:, 0] ** 1.5 + Z[:, 1] - 2.0 * Z[:, 3] + 0.5 * Z[:, 0] * Z[:, 5] / 90


def _extracted(method: str, model, **params):
    from nnrules.extract import get_extractor

    X, schema = _rows()
    return get_extractor(method)(model, random_state=0, **params).fit(X, schema=schema).surrogate_


def _rule_sets():
    _, schema = _rows()
    age, n = Condition(0, ">", 60.0), Condition(1, "<=", 2.0)
    red, smoker = Condition(2, "==", 1.0), Condition(5, "==", 1.0)
    ordered = RuleSet([Rule((age, n), 1, support=12, confidence=0.75),
                       Rule((MofN(2, (age, red, smoker)),), 0, support=5)],
                      0, ordered=True, classes=("no", "yes"), schema=schema)
    regression = RuleSet([Rule((age,), 3.25), Rule((age.negate(), red), -1.5)], 0.125,
                         ordered=False, task="regression", n_features=len(NAMES))
    return [ordered, regression]


def _boxes():
    _, schema = _rows()
    inf = np.inf
    lower = np.array([[18, 0, 0, 0, 0, 0], [60, 2, 0, 0, 0, 0]], dtype=float)
    upper = np.array([[40, 3, 1, 1, 1, 0], [90, 5, 0, 1, 1, 1]], dtype=float)
    fallback_lower = np.array([[-inf] * 6, [50, -inf, -inf, -inf, -inf, -inf]])
    fallback_upper = np.array([[50, inf, inf, inf, inf, inf], [inf] * 6])
    classified = BoxRuleSet(lower, upper, ["no", "yes"], schema=schema, classes=["no", "yes"],
                            fallback="tree", fallback_lower=fallback_lower,
                            fallback_upper=fallback_upper, fallback_outputs=["no", "yes"],
                            verification={"proven": 2, "unknown": 1, "bound": "linear"})
    ranges = BoxRuleSet(lower, upper, [(0.5, 1.25), (3.0, 4.5)], schema=schema,
                        task="regression", fallback="abstain")
    return [classified, ranges]


def _automata():
    counter = Automaton(np.array([[0, 1], [1, 2], [2, 0]]), np.array([0, 1, 2]),
                        alphabet=("a", "b"), classes=np.array(["zero", "one", "two"]),
                        notes={"method": "by hand"})
    return [TOMITA[3].to_automaton(), counter]


@cache
def _instances() -> dict[str, Surrogate]:
    found: dict[str, Surrogate] = {}
    found["tree"] = _extracted("tree", _yes_no, max_leaves=6, n_queries=0)
    found["tree_regression"] = _extracted("tree", _Regressor(), max_leaves=5, n_queries=0)
    found["trepan"] = _extracted("trepan", _yes_no, max_leaves=4)
    found["additive"] = _extracted("additive", _yes_no, n_queries=0, n_pairs=1)
    found["additive_regression"] = _extracted("additive", _Regressor(), n_queries=0)
    found["rules"], found["rules_regression"] = _rule_sets()
    found["rules_from_tree"] = found["tree"].to_rules()
    found["boxes"], found["boxes_regression"] = _boxes()
    found["dfa"], found["moore"] = _automata()
    return found


KINDS = ("additive", "additive_regression", "boxes", "boxes_regression", "dfa", "moore", "rules",
         "rules_from_tree", "rules_regression", "tree", "tree_regression", "trepan")
SEQUENCE_KINDS = ("dfa", "moore")


def _data(surrogate: Surrogate):
    if isinstance(surrogate, SequenceSurrogate):
        a, b = surrogate.alphabet
        return ["", a, b, a + b + b, b * 5, (a + b) * 4 + a]
    return _rows(40, seed=1)[0]


def _surrogate_classes() -> set[type]:
    """Every class defined under nnrules/surrogates that predicts."""
    found = set()
    for info in pkgutil.iter_modules(nnrules.surrogates.__path__):
        module = importlib.import_module(f"nnrules.surrogates.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and callable(getattr(cls, "predict", None)):
                found.add(cls)
    return found


# ------------------------------------------------------------------------------ the contract
def test_every_surrogate_class_declares_the_contract_and_is_readable_from_files():
    classes = _surrogate_classes()
    assert {RuleSet, TreeSurrogate, BoxRuleSet, Automaton} <= {c for c in classes}
    concrete = {c for c in classes if not inspect.isabstract(c)}
    assert concrete == {c for c in classes if c not in (Surrogate, TableSurrogate,
                                                        SequenceSurrogate)}
    for cls in concrete:
        assert issubclass(cls, (TableSurrogate, SequenceSurrogate)), cls
        assert cls.FORMAT.startswith("nnrules/") and isinstance(cls.VERSION, int), cls
        assert cls.data_kind == ("table" if issubclass(cls, TableSurrogate) else "sequences")
        assert serialize._resolve(cls.FORMAT) is cls, f"{cls.FORMAT} is not in serialize.FORMATS"
    assert sorted(_instances()) == list(KINDS)
    kinds = {type(s) for s in _instances().values()}
    assert kinds == concrete, "every surrogate kind needs an instance in _instances()"


@pytest.mark.parametrize("name", KINDS)
def test_round_trip_is_byte_identical_and_answers_the_same(name, tmp_path):
    s = _instances()[name]
    X = _data(s)
    text = serialize.dumps(s)
    again = serialize.loads(text)
    assert type(again) is type(s)
    assert serialize.dumps(again) == text
    assert serialize.dumps(type(s).from_dict(json.loads(text))) == text
    d = json.loads(text)
    assert (d["format"], d["version"]) == (s.FORMAT, s.VERSION)
    np.testing.assert_array_equal(again.predict(X), s.predict(X))
    np.testing.assert_array_equal(again.explain(X), s.explain(X))
    assert again.reasons(X) == s.reasons(X)
    explained = s.explain(X)
    assert explained.shape[0] == len(X)
    assert explained.dtype.kind == ("f" if s.FORMAT == "nnrules/additive" else "i")
    assert len(s.reasons(X)) == len(X) and all(isinstance(r, str) and r for r in s.reasons(X))
    assert again.to_text() == s.to_text() and s.to_text().strip()
    assert again.complexity() == s.complexity()
    assert isinstance(s.report_details(X, s.predict(X)), dict)
    written = s.write_artifacts(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(written)


@pytest.mark.parametrize("name", KINDS)
def test_files_of_another_format_or_a_newer_version_are_refused(name):
    s = _instances()[name]
    d = s.to_dict()
    with pytest.raises(FormatError, match="Expected format"):
        type(s).from_dict({**d, "format": "nnrules/elsewhere"})
    with pytest.raises(FormatError, match=f"version {s.VERSION + 1}"):
        type(s).from_dict({**d, "version": s.VERSION + 1})
    with pytest.raises(FormatError, match="Expected format"):
        type(s).from_dict([d])


@pytest.mark.parametrize("name", [k for k in KINDS if k not in SEQUENCE_KINDS])
def test_table_surrogates_predict_what_their_sympy_form_says(name):
    from sympy_check import sympy_predict

    s = _instances()[name]
    assert isinstance(s, TableSurrogate)
    X = _data(s)
    assert len(s.symbols()) == s.n_features == X.shape[1]
    if s.task == "regression":  # the same sums, added in another order
        np.testing.assert_allclose(sympy_predict(s, X), s.predict(X), rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(sympy_predict(s, X), s.predict(X))


def test_sequence_surrogates_predict_what_their_regex_says():
    for s in _automata():
        words = _data(s)
        for label in s.classes:
            assert np.array_equal(s.regex_predict(words, label), s.predict(words) == label)


# ------------------------------------------------------------------------------ boundaries
def _imports(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of every import in a file, function-level ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(a.name, ()) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, tuple(a.name for a in node.names)))
    return found


@pytest.mark.parametrize("room, allowed", [
    # nnrules._finite: the NaN/inf check and message shared with io (numpy only)
    ("surrogates", ("nnrules.exceptions", "nnrules.schema", "nnrules.surrogates",
                    "nnrules._finite")),
    ("oracles", ("nnrules.exceptions", "nnrules.schema", "nnrules.io", "nnrules.oracles")),
])
def test_rooms_import_only_what_they_may(room, allowed):
    for path in sorted((PACKAGE / room).glob("*.py")):
        for module, _ in _imports(path):
            if module == "nnrules" or module.startswith("nnrules."):
                assert module.startswith(allowed), f"{path.name} imports {module}"


def test_no_module_imports_private_names_of_surrogates_or_oracles():
    for path in sorted(PACKAGE.rglob("*.py")):
        for module, names in _imports(path):
            if module.startswith(("nnrules.surrogates", "nnrules.oracles")):
                private = [n for n in names if n.startswith("_") and n != "__version__"]
                assert not private, f"{path.relative_to(PACKAGE)} imports {private} from {module}"


def test_the_top_of_extract_holds_methods_and_the_base_only():
    methods = {spec.split(":")[0].rsplit(".", 1)[1] for spec in REGISTRY.values()}
    top = {p.stem for p in (PACKAGE / "extract").glob("*.py")} - {"__init__", "base"}
    assert top == methods, f"not methods: {sorted(top - methods)}"
    engines = {p.stem for p in (PACKAGE / "extract" / "engines").glob("*.py")} - {"__init__"}
    assert engines and not engines & methods
